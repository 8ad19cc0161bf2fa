import { ResolveCustomerCommand, type MarketplaceMeteringClient, type ResolveCustomerCommandOutput } from '@aws-sdk/client-marketplace-metering';
import { canonicalLicenseArn, type MarketplaceIdentity } from '../../core/marketplace/identity';
import { RegistrationTokenError, type CustomerResolver } from '../../core/marketplace/registration-ports';

/** ResolveCustomer answered without anything that identifies the buyer for metering. */
export class UnusableResolveCustomerResult extends Error {
  constructor(missing: string) {
    super(`ResolveCustomer returned no ${missing}`);
    this.name = 'UnusableResolveCustomerResult';
  }
}

/**
 * The identity in a ResolveCustomer answer: the current identity (account + licence, keeping the
 * legacy `CustomerIdentifier` when it came too) when `CustomerAWSAccountId` and `LicenseArn` are both
 * present, otherwise the legacy identity (`CustomerIdentifier`). Throws
 * {@link UnusableResolveCustomerResult} when neither identity is complete or the product code is missing.
 */
export function identityFromResolveCustomer(output: Pick<ResolveCustomerCommandOutput, 'CustomerIdentifier' | 'CustomerAWSAccountId' | 'LicenseArn' | 'ProductCode'>): MarketplaceIdentity {
  const productCode = output.ProductCode;
  if (productCode === undefined || productCode === '') throw new UnusableResolveCustomerResult('ProductCode');
  const customerIdentifier = output.CustomerIdentifier === '' ? undefined : output.CustomerIdentifier;
  if (output.CustomerAWSAccountId && output.LicenseArn) {
    return {
      kind: 'license',
      customerAWSAccountId: output.CustomerAWSAccountId,
      licenseArn: canonicalLicenseArn(output.LicenseArn),
      productCode,
      ...(customerIdentifier === undefined ? {} : { customerIdentifier }),
    };
  }
  if (customerIdentifier !== undefined) return { kind: 'customer-identifier', customerIdentifier, productCode };
  throw new UnusableResolveCustomerResult('LicenseArn (with CustomerAWSAccountId) nor CustomerIdentifier');
}

/**
 * {@link CustomerResolver} through the AWS SDK (AWS, or the local simulator via `endpoint`).
 * InvalidTokenException and ExpiredTokenException become {@link RegistrationTokenError}; every other
 * error (throttling, disabled API, credentials, network) is rethrown as it is.
 */
export class AwsCustomerResolver implements CustomerResolver {
  constructor(private readonly client: MarketplaceMeteringClient) {}

  async resolve(token: string): Promise<MarketplaceIdentity> {
    let output: ResolveCustomerCommandOutput;
    try {
      output = await this.client.send(new ResolveCustomerCommand({ RegistrationToken: token }));
    } catch (error) {
      const name = (error as { name?: unknown } | null)?.name;
      if (name === 'InvalidTokenException') throw new RegistrationTokenError('invalid');
      if (name === 'ExpiredTokenException') throw new RegistrationTokenError('expired');
      throw error;
    }
    return identityFromResolveCustomer(output);
  }
}
