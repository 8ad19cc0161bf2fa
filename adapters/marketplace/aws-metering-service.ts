import { BatchMeterUsageCommand, type MarketplaceMeteringClient, type UsageRecord } from '@aws-sdk/client-marketplace-metering';
import { recordKey, type MeteringRecord } from '../../core/marketplace/metering-records';
import { MeteringCallError, type CallResult, type MarketplaceStatus, type MeteringService } from '../../core/marketplace/metering-sender';

/** Errors by which the service refuses a whole call because of what some record holds. */
const REJECT_CALL = new Set([
  'TimestampOutOfBoundsException', 'InvalidUsageDimensionException', 'InvalidCustomerIdentifierException',
  'InvalidLicenseException', 'InvalidUsageAllocationsException', 'InvalidTagException', 'CustomerNotEntitledException',
  'ValidationException',
]);
/** Errors after which nothing in this run can succeed. */
const FATAL = new Set(['InvalidProductCodeException', 'DisabledApiException', 'AccessDeniedException', 'UnrecognizedClientException', 'InvalidSignatureException']);

function toUsageRecord(record: MeteringRecord): UsageRecord {
  const identity = 'licenseArn' in record.customer
    ? { CustomerAWSAccountId: record.customer.customerAWSAccountId, LicenseArn: record.customer.licenseArn }
    : { CustomerIdentifier: record.customer.customerIdentifier };
  return { ...identity, Timestamp: new Date(record.timestamp), Dimension: record.dimension, Quantity: record.quantity };
}

function fromUsageRecord(productCode: string, usage: UsageRecord): MeteringRecord {
  const customer = usage.LicenseArn !== undefined
    ? { customerAWSAccountId: usage.CustomerAWSAccountId ?? '', licenseArn: usage.LicenseArn }
    : { customerIdentifier: usage.CustomerIdentifier ?? '' };
  return { productCode, customer, dimension: usage.Dimension ?? '', timestamp: usage.Timestamp?.getTime() ?? Number.NaN, quantity: usage.Quantity ?? 0 };
}

/** BatchMeterUsage through the AWS SDK (against AWS, or the local simulator via `endpoint`). */
export class AwsMeteringService implements MeteringService {
  constructor(private readonly client: MarketplaceMeteringClient) {}

  async batchMeterUsage(records: readonly MeteringRecord[]): Promise<CallResult> {
    const productCode = records[0]?.productCode;
    if (productCode === undefined) return { results: [], unprocessed: [] };
    const byKey = new Map(records.map((r) => [recordKey(r), r]));
    const original = (usage: UsageRecord | undefined): MeteringRecord | undefined => usage && byKey.get(recordKey(fromUsageRecord(productCode, usage)));
    let output;
    try {
      output = await this.client.send(new BatchMeterUsageCommand({ ProductCode: productCode, UsageRecords: records.map(toUsageRecord) }));
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'Error';
      const message = (error as Error).message ?? String(error);
      const kind = REJECT_CALL.has(name) ? 'reject-call' : FATAL.has(name) ? 'fatal' : 'retry';
      throw new MeteringCallError(name, kind, message);
    }
    const results: { record: MeteringRecord; status: MarketplaceStatus; meteringRecordId?: string }[] = [];
    for (const result of output.Results ?? []) {
      const record = original(result.UsageRecord);
      if (record === undefined) continue; // an echo we cannot match is left to the sender as "no result"
      results.push({ record, status: (result.Status ?? 'Success') as MarketplaceStatus, meteringRecordId: result.MeteringRecordId });
    }
    const unprocessed = (output.UnprocessedRecords ?? []).map(original).filter((r): r is MeteringRecord => r !== undefined);
    return { results, unprocessed };
  }
}
