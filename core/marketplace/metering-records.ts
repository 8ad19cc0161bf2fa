/**
 * Metering records and the batches BatchMeterUsage takes: at most 25 records, one product per call
 * (and, for the current identity, one licence per call), each record stamped with its usage hour.
 */

/** Who is billed: the legacy customer identifier, or the AWS account and licence (never both). */
export type MeteringCustomer =
  | { readonly customerIdentifier: string }
  | { readonly customerAWSAccountId: string; readonly licenseArn: string };

export interface MeteringRecord {
  readonly productCode: string;
  readonly customer: MeteringCustomer;
  /** Listing dimension. */
  readonly dimension: string;
  /** Start of the usage hour, epoch ms. */
  readonly timestamp: number;
  /** Whole number 0…2,147,483,647. */
  readonly quantity: number;
}

/** BatchMeterUsage's limit of records per call. */
export const MAX_RECORDS_PER_CALL = 25;
/** BatchMeterUsage's largest quantity. */
export const MAX_QUANTITY = 2_147_483_647;

/** The key that decides which records may share a call. */
export function callKey(record: MeteringRecord): string {
  const licence = 'licenseArn' in record.customer ? record.customer.licenseArn : '';
  return `${record.productCode}\u0000${licence}`;
}

/** A stable key of one customer, dimension and hour (what Marketplace de-duplicates on). */
export function recordKey(record: MeteringRecord): string {
  const customer = 'licenseArn' in record.customer ? `${record.customer.customerAWSAccountId}/${record.customer.licenseArn}` : record.customer.customerIdentifier;
  return `${record.productCode}\u0000${customer}\u0000${record.dimension}\u0000${record.timestamp}`;
}

/** Splits records into calls: same product (and licence) per call, at most `size` records each. */
export function batchRecords<T extends MeteringRecord>(records: readonly T[], size = MAX_RECORDS_PER_CALL): T[][] {
  const groups = new Map<string, T[]>();
  for (const record of records) {
    const key = callKey(record);
    const group = groups.get(key) ?? [];
    group.push(record);
    groups.set(key, group);
  }
  const batches: T[][] = [];
  for (const group of groups.values()) {
    for (let i = 0; i < group.length; i += size) batches.push(group.slice(i, i + size));
  }
  return batches;
}
