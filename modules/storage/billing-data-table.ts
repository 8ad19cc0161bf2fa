import type { DynamodbTableConfig } from '@cdktf/provider-aws/lib/dynamodb-table';
import { Fn } from 'cdktf';
import { isNonEmpty } from '../terraform-expressions';

export interface BillingDataTableSettings {
  /** Customer-managed KMS key ARN, or an empty string for the AWS-owned key. */
  readonly kmsKeyArn: string;
  /** Refuse to delete the table (may be a Terraform variable). */
  readonly deletionProtection: boolean;
}

/**
 * What every table holding billing data shares: on-demand capacity, point-in-time recovery, deletion
 * protection, and encryption with the customer-managed key when one is configured (otherwise the
 * AWS-owned key: no KMS charges, no key policy to manage).
 */
export function billingDataTableSettings(settings: BillingDataTableSettings): Pick<DynamodbTableConfig, 'billingMode' | 'pointInTimeRecovery' | 'serverSideEncryption' | 'deletionProtectionEnabled'> {
  const usesKms = isNonEmpty(settings.kmsKeyArn);
  return {
    billingMode: 'PAY_PER_REQUEST',
    pointInTimeRecovery: { enabled: true },
    // `enabled = false` means the AWS-owned key (the provider's wording); true with a key ARN, that key.
    serverSideEncryption: {
      enabled: usesKms,
      kmsKeyArn: Fn.conditional(usesKms, settings.kmsKeyArn, null as unknown as string),
    },
    deletionProtectionEnabled: settings.deletionProtection,
  };
}
