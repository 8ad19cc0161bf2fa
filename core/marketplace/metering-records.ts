/**
 * Metering records and the batches BatchMeterUsage takes: at most 25 records, one product per call
 * (and, for the current identity, one licence per call), each record stamped with its usage hour.
 */

import { currentTierIndex, splitByTiers, type CompiledTier } from '../pricing/marketplace-tiers';
import type { SeriesHour } from '../usage/carry-forward';

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

/*
 * Tiered dimensions (see core/pricing/marketplace-tiers.ts and core/marketplace/metering-run.ts): the
 * hours of one tenant's dimension in one UTC calendar month are sent strictly in hour order, each split
 * between the listing dimensions by the running total of the hours sent before it in the month.
 */

/** Where one hour of a tiered series stands, decided from the series as stored. */
export type TieredHourState =
  /** Sent already, or gone: nothing to do. */
  | { readonly kind: 'done' }
  /**
   * Unsent, no record planned yet, and a later hour of the month is already sent or pending: this hour
   * can no longer be billed in order, so it is closed and its usage carried into the next record.
   */
  | { readonly kind: 'out-of-order'; readonly later: SeriesHour }
  /** An earlier hour of the month is not sent yet (unsent or pending): wait for it. */
  | { readonly kind: 'wait'; readonly earlier: SeriesHour }
  /** Every earlier hour of the month is sent: the hour may be sent, split at `runningTotal`. */
  | { readonly kind: 'ready'; readonly runningTotal: bigint };

/** The UTC calendar month of an hour, `[start, end)` in epoch ms. */
export function monthSpanOf(hour: number): { readonly start: number; readonly end: number } {
  const date = new Date(hour);
  return { start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1), end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) };
}

/**
 * Decides what to do with `hour` of a tiered series (`series`: every stored hour of it). The running
 * total is the sum of the quantities sent for the earlier hours of the same month — which, since the
 * month is sent in hour order, is everything sent for the month so far.
 */
export function tieredHourState(series: readonly SeriesHour[], hour: number): TieredHourState {
  const own = series.find((h) => h.hour === hour);
  if (own === undefined || own.sent !== undefined) return { kind: 'done' };
  const month = monthSpanOf(hour);
  const inMonth = series.filter((h) => h.hour >= month.start && h.hour < month.end);
  if (own.pending === undefined) {
    const later = inMonth.find((h) => h.hour > hour && (h.sent !== undefined || h.pending !== undefined));
    if (later !== undefined) return { kind: 'out-of-order', later };
  }
  const earlier = inMonth.filter((h) => h.hour < hour).sort((a, b) => a.hour - b.hour);
  const waiting = earlier.find((h) => h.sent === undefined);
  if (waiting !== undefined) return { kind: 'wait', earlier: waiting };
  return { kind: 'ready', runningTotal: earlier.reduce((sum, h) => sum + BigInt(h.sent!.quantity), 0n) };
}

/** One listing dimension's share of a tiered usage hour. */
export interface TierQuantity {
  readonly listingDimension: string;
  readonly quantity: number;
}

/**
 * The Marketplace records of one tiered usage hour: one per listing dimension with a non-zero share;
 * an hour with nothing billable (no usage, or all of it in the free allowance) is one zero-quantity
 * record of the dimension that bills the next unit (what an untiered dimension sends for such an hour).
 * Deterministic in (running total, quantity): a resend gives the very same records.
 */
export function tierQuantities(tiers: readonly CompiledTier[], runningTotal: bigint, quantity: number): TierQuantity[] {
  const split = splitByTiers(tiers, runningTotal, BigInt(quantity));
  const shares = tiers.map((tier, index) => ({ listingDimension: tier.listingDimension, quantity: split[index] })).filter((s) => s.quantity > 0n);
  if (shares.length === 0) return [{ listingDimension: tiers[currentTierIndex(tiers, runningTotal + BigInt(quantity))].listingDimension, quantity: 0 }];
  for (const share of shares) {
    if (share.quantity > BigInt(MAX_QUANTITY)) throw new RangeError(`quantity ${share.quantity} of ${share.listingDimension} exceeds Marketplace's maximum`);
  }
  return shares.map((s) => ({ listingDimension: s.listingDimension, quantity: Number(s.quantity) }));
}
