import { outstandingCarries, planHourRecord, type HourRecordPlan } from '../usage/carry-forward';
import { HOUR_MS, hourKey } from '../usage/hours';
import type { SeriesKey, UsageStore } from '../usage/usage-store';
import { listingDimensionOf, type ListingConfig } from './listing-config';
import { MAX_QUANTITY, recordKey, type MeteringCustomer, type MeteringRecord } from './metering-records';
import { MeteringCallError, sendMeteringRecords, type MeteringService } from './metering-sender';
import type { RateLimiter } from './rate-limiter';
import { forEachLimited } from '../concurrency';

/** A tenant as metering needs it: whom Marketplace bills, and whether it may be billed now. */
export interface BillableCustomer {
  readonly productCode: string;
  readonly customer: MeteringCustomer;
  /** Active or unsubscribe-pending (final usage is still due): records are sent. */
  readonly billable: boolean;
  /** When the subscription started (epoch ms): Marketplace refuses records stamped earlier. */
  readonly subscribedAt?: number;
}

/** Looks tenants up in the tenant registry. */
export interface CustomerDirectory {
  customerOf(tenantId: string): Promise<BillableCustomer | undefined>;
}

export interface MeteringRunDependencies {
  readonly store: UsageStore;
  readonly directory: CustomerDirectory;
  readonly service: MeteringService;
  readonly limiter: RateLimiter;
  readonly listing: ListingConfig;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly maxAttempts?: number;
  /** Store round trips in flight at once while preparing and confirming records. @default 16 */
  readonly concurrency?: number;
}

/** A usage hour the run left unsent, and why (all of these stay pending and visible). */
export interface HeldBack {
  readonly tenantId: string;
  readonly dimension: string;
  readonly hour: string;
  readonly reason: 'unmapped-dimension' | 'unknown-tenant' | 'not-billable' | 'before-subscription' | 'CustomerNotSubscribed' | 'rejected' | 'unsent';
  readonly detail?: string;
}

export interface MeteringRunReport {
  readonly hours: readonly string[];
  readonly calls: number;
  readonly success: number;
  /** Already billed earlier (the hour's record existed): marked sent. */
  readonly duplicate: number;
  readonly quantitySent: number;
  readonly heldBack: readonly HeldBack[];
  /** Hours not yet completely aggregated: not sent, tried again next run. */
  readonly notFinal: readonly string[];
  /** Usage hours too old to send, closed so that their usage rides on the next record. */
  readonly closedUnsendable: number;
}

interface Prepared {
  readonly series: SeriesKey;
  readonly plan: HourRecordPlan;
  /** The carry marker's counter when the record was planned (undefined: none). */
  readonly marker?: number;
  readonly record: MeteringRecord;
}

/**
 * Sends the usage of the given hours to AWS Marketplace, exactly once: hour by hour (oldest first),
 * each unsent usage hour of a billable tenant is planned (its measurement plus carried late changes),
 * written as pending, sent, and marked sent only on a confirmed `Success` or `DuplicateRecord`. A crash
 * anywhere leaves the pending record, which the next run sends again unchanged — Marketplace answers an
 * identical record without billing it twice. Hours not completely aggregated are left for later.
 * `tooOldHours` (hours Marketplace no longer accepts) are closed without a record of their own, so that
 * whatever they measured is carried into the next record of the same tenant and dimension.
 */
/** Narrows a metering run (the final-usage run of a leaving tenant). */
export interface MeteringRunScope {
  /** Only this tenant's usage hours. */
  readonly tenantId?: string;
  /** Also hours not (yet) completely aggregated, e.g. the open hour of a tenant whose subscription ends. */
  readonly includeUnfinishedHours?: boolean;
}

export async function runMetering(deps: MeteringRunDependencies, hours: readonly number[], tooOldHours: readonly number[] = [], scope: MeteringRunScope = {}): Promise<MeteringRunReport> {
  const now = deps.now ?? Date.now;
  // Hours Marketplace no longer accepts are closed first: their usage is carried into the next record.
  let closedUnsendable = 0;
  for (const hour of tooOldHours) {
    for (const usage of (await deps.store.unsentHours(hour)).filter((u) => scope.tenantId === undefined || u.tenantId === scope.tenantId)) {
      await deps.store.closeUnsendable({ tenantId: usage.tenantId, dimension: usage.dimension }, hour, now());
      closedUnsendable += 1;
    }
  }
  const heldBack: HeldBack[] = [];
  const notFinal: string[] = [];
  let calls = 0;
  let success = 0;
  let duplicate = 0;
  let quantitySent = 0;

  for (const hour of [...hours].sort((a, b) => a - b)) {
    if (!scope.includeUnfinishedHours && (await deps.store.hourAggregatedAsOf(hour)) === undefined) {
      notFinal.push(hourKey(hour));
      continue;
    }
    const prepared: Prepared[] = [];
    // Series are independent, so their store round trips overlap; each series-hour is touched once.
    const unsent = (await deps.store.unsentHours(hour)).filter((u) => scope.tenantId === undefined || u.tenantId === scope.tenantId);
    await forEachLimited(unsent, deps.concurrency ?? 16, async (usage) => {
      const series = { tenantId: usage.tenantId, dimension: usage.dimension };
      const hold = (reason: HeldBack['reason'], detail?: string) => heldBack.push({ ...series, hour: hourKey(hour), reason, detail });
      const listingDimension = listingDimensionOf(deps.listing, usage.dimension);
      if (listingDimension === null) return; // measured, not billed through Marketplace
      if (listingDimension === undefined) {
        hold('unmapped-dimension', `no listing dimension for "${usage.dimension}" in config/marketplace.json`);
        return;
      }
      const customer = await deps.directory.customerOf(usage.tenantId);
      if (customer === undefined) {
        hold('unknown-tenant');
        return;
      }
      if (!customer.billable) {
        hold('not-billable');
        return;
      }
      if (customer.subscribedAt !== undefined && customer.subscribedAt >= hour + HOUR_MS) {
        hold('before-subscription', 'usage of an hour before the subscription started');
        return;
      }
      // The history is read only when a late change of a sent hour may be waiting to be carried.
      // (The pending index is eventually consistent: the hour itself is read again, consistently.)
      const marker = await deps.store.carryMarker(series);
      const current = marker === undefined ? await deps.store.readUsageHour(series, hour) : undefined;
      if (marker === undefined && (current === undefined || current.sent !== undefined)) return; // sent meanwhile
      const planned = planHourRecord(marker === undefined ? [current!] : await deps.store.readSeries(series), hour);
      if (planned.quantity > MAX_QUANTITY) {
        hold('rejected', `quantity ${planned.quantity} exceeds Marketplace's maximum`);
        return;
      }
      let plan: HourRecordPlan;
      try {
        plan = await deps.store.recordPendingSend(series, planned, now());
      } catch (error) {
        hold('unsent', `not planned this run: ${(error as Error).message}`); // re-measured or sent meanwhile
        return;
      }
      prepared.push({
        series,
        plan,
        marker,
        // Stamped with its usage hour; in the hour the subscription started, not before that moment.
        record: { productCode: customer.productCode, customer: customer.customer, dimension: listingDimension, timestamp: Math.max(hour, customer.subscribedAt ?? hour), quantity: plan.quantity },
      });
    });
    if (prepared.length === 0) continue;

    let report;
    try {
      report = await sendMeteringRecords(deps.service, prepared.map((p) => p.record), { limiter: deps.limiter, sleep: deps.sleep, maxAttempts: deps.maxAttempts });
    } catch (error) {
      // A fatal refusal (API disabled, unknown product, no permission) billed nothing: plan afresh next time.
      if (error instanceof MeteringCallError) for (const item of prepared) await deps.store.clearPending(item.series, item.plan);
      throw error;
    }
    calls += report.calls;
    await forEachLimited(prepared, deps.concurrency ?? 16, async (item) => {
      const outcome = report.outcomes.get(recordKey(item.record));
      const hold = (reason: HeldBack['reason'], detail?: string) => heldBack.push({ ...item.series, hour: hourKey(hour), reason, detail });
      if (outcome?.status === 'Success' || outcome?.status === 'DuplicateRecord') {
        await markSentOnce(deps.store, item.series, item.plan, now());
        if (item.marker !== undefined && outstandingCarries(await deps.store.readSeries(item.series)).length === 0) {
          await deps.store.clearCarryMarker(item.series, item.marker);
        }
        if (outcome.status === 'Success') success += 1;
        else duplicate += 1;
        quantitySent += item.plan.quantity;
      } else if (outcome?.status === 'CustomerNotSubscribed') {
        hold('CustomerNotSubscribed');
      } else if (outcome?.status === 'Rejected') {
        await deps.store.clearPending(item.series, item.plan); // refused, so certainly not billed
        hold('rejected', outcome.reason);
      } else {
        hold('unsent', outcome?.status === 'Unsent' ? outcome.reason : 'no outcome');
      }
    });
  }
  return { hours: hours.map(hourKey), calls, success, duplicate, quantitySent, heldBack, notFinal, closedUnsendable };
}

/**
 * Marks a confirmed record sent. If a concurrent run confirmed and marked the very same record first,
 * that is success too; anything else is an error.
 */
async function markSentOnce(store: UsageStore, series: SeriesKey, plan: HourRecordPlan, at: number): Promise<void> {
  try {
    await store.markSent(series, plan, at);
  } catch (error) {
    const hour = (await store.readSeries(series)).find((h) => h.hour === plan.hour);
    if (hour?.sent?.quantity === plan.quantity && hour.sent.measured === plan.measured) return;
    throw error;
  }
}

