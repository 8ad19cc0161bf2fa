import type { CompiledCharge } from '../pricing/marketplace-tiers';
import { outstandingCarries, planHourRecord, type HourRecordPlan, type SeriesHour } from '../usage/carry-forward';
import { HOUR_MS, hourKey } from '../usage/hours';
import { PlanOutdatedError, type SeriesKey, type UsageStore } from '../usage/usage-store';
import { listingTargetOf, type ListingConfig } from './listing-config';
import { MAX_QUANTITY, recordKey, tieredHourState, tierQuantities, type MeteringCustomer, type MeteringRecord } from './metering-records';
import { MeteringCallError, sendMeteringRecords, type MeteringService, type RecordOutcome } from './metering-sender';
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
  readonly reason:
    | 'unmapped-dimension'
    | 'unknown-tenant'
    | 'not-billable'
    | 'before-subscription'
    | 'CustomerNotSubscribed'
    | 'rejected'
    | 'unsent'
    /** Tiered dimension: an earlier hour of the same month is not sent yet (the month is sent in hour order). */
    | 'earlier-hour-unsent';
  readonly detail?: string;
}

export interface MeteringRunReport {
  readonly hours: readonly string[];
  readonly calls: number;
  /** Marketplace records answered `Success` (a tiered usage hour sends one record per tier it reaches). */
  readonly success: number;
  /** Marketplace records already billed earlier (the record existed): their hours are marked sent. */
  readonly duplicate: number;
  /** Usage (in the dimensions' own units) of the hours marked sent. */
  readonly quantitySent: number;
  readonly heldBack: readonly HeldBack[];
  /** Hours not yet completely aggregated: not sent, tried again next run. */
  readonly notFinal: readonly string[];
  /** Usage hours too old to send, closed so that their usage rides on the next record. */
  readonly closedUnsendable: number;
  /**
   * Tiered dimensions: usage hours that appeared (late) after a later hour of their month was billed,
   * closed like unsendable ones so that their usage rides on the next record instead of being billed
   * out of order.
   */
  readonly closedOutOfOrder: number;
}

interface Prepared {
  readonly series: SeriesKey;
  readonly plan: HourRecordPlan;
  /** The carry marker's counter when the record was planned (undefined: none). */
  readonly marker?: number;
  /** The usage hour's Marketplace records: one, or one per tier its usage reaches (tiered dimensions). */
  readonly records: readonly MeteringRecord[];
  /** The hour was already pending when this run found it: an earlier, interrupted attempt may have billed it. */
  readonly resend: boolean;
}

/** Narrows a metering run (the final-usage run of a leaving tenant). */
export interface MeteringRunScope {
  /** Only this tenant's usage hours. */
  readonly tenantId?: string;
  /** Also hours not (yet) completely aggregated, e.g. the open hour of a tenant whose subscription ends. */
  readonly includeUnfinishedHours?: boolean;
}

/**
 * Sends the usage of the given hours to AWS Marketplace, exactly once: hour by hour (oldest first),
 * each unsent usage hour of a billable tenant is planned (its measurement plus carried late changes),
 * written as pending, sent, and marked sent only on a confirmed `Success` or `DuplicateRecord`. A crash
 * anywhere leaves the pending record, which the next run sends again unchanged — Marketplace answers an
 * identical record without billing it twice. Hours not completely aggregated are left for later.
 * `tooOldHours` (hours Marketplace no longer accepts) are closed without a record of their own, so that
 * whatever they measured is carried into the next record of the same tenant and dimension.
 *
 * Tiered dimensions (`{ "tiers": [...], "plan": ... }` in the listing configuration) send one usage
 * hour as one record per listing dimension its usage reaches, split by the tenant's running total of
 * the month (see `core/pricing/marketplace-tiers.ts`). What is stored stays one record per usage hour
 * (its total quantity); the split is never stored but recomputed, and must come out the same on every
 * resend, because Marketplace bills the first record of a customer, dimension and hour and answers a
 * different quantity with `DuplicateRecord`. That holds because of one rule, checked against a
 * consistent read of the series both before the hour is written pending and again after:
 *
 *   An hour of a tiered series is sent only when every earlier hour of its month is SENT; the running
 *   total is then the sum of their sent quantities (immutable once sent).
 *
 * - Crash between the tier records of one hour (some billed, some not): the hour stays pending; the
 *   next run finds the same earlier hours sent, computes the same running total and the same records,
 *   and resends them all: Marketplace answers the billed ones without billing them again and bills the
 *   rest. The hour is marked sent only when EVERY record of it is confirmed.
 * - Partial outcomes: a record left unprocessed or unanswered keeps the hour pending (`unsent`); a
 *   refused record keeps it pending too unless every record of the hour was refused and none of them can
 *   have been billed (never sent before, no call that may have billed it), and only then is the pending
 *   record dropped to be planned afresh.
 * - Later hours of the month wait (`earlier-hour-unsent`) while an earlier one is unsent or pending,
 *   so a stuck hour holds its month until it is sent or closed as too old (its usage then rides on the
 *   next record, like any unsendable hour's).
 * - An hour that appears late, after a LATER hour of its month was already written pending or sent,
 *   cannot be billed in order: it is closed at once (`closedOutOfOrder`) and its usage carried into the
 *   next record, which lies after everything billed so far.
 * - Concurrent runs: runs on the same hour plan the same pending record (the store's conditional write
 *   keeps the first) and compute the same split, so they send identical records. Runs on different hours
 *   of one month: an hour is written pending only when the read before showed no later hour of the month
 *   sent or pending, and sent only when the read after showed every earlier hour sent. Of two hours
 *   written pending concurrently, the later one therefore always sees the earlier one (unsent or pending)
 *   in its second read and waits; the earlier one never depends on the later one. So at any time at most
 *   one hour of a series-month can have been sent without being marked sent, and every hour's running
 *   total, once it has been sent, stays what it was.
 */
export async function runMetering(deps: MeteringRunDependencies, hours: readonly number[], tooOldHours: readonly number[] = [], scope: MeteringRunScope = {}): Promise<MeteringRunReport> {
  const now = deps.now ?? Date.now;
  // Hours Marketplace no longer accepts are closed first: their usage is carried into the next record.
  let closedUnsendable = 0;
  for (const hour of tooOldHours) {
    for (const usage of (await deps.store.unsentHours(hour)).filter((u) => scope.tenantId === undefined || u.tenantId === scope.tenantId)) {
      await closeOnce(deps.store, { tenantId: usage.tenantId, dimension: usage.dimension }, hour, now());
      closedUnsendable += 1;
    }
  }
  const heldBack: HeldBack[] = [];
  const notFinal: string[] = [];
  let calls = 0;
  let success = 0;
  let duplicate = 0;
  let quantitySent = 0;
  let closedOutOfOrder = 0;
  // Records a call may have billed (see `observed`): a refused record among them is not forgotten.
  const mayHaveBilled = new Set<string>();
  const service = observed(deps.service, mayHaveBilled);

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
      const target = listingTargetOf(deps.listing, usage.dimension);
      if (target === null) return; // measured, not billed through Marketplace
      if (target === undefined) {
        hold('unmapped-dimension', `no listing dimension for "${usage.dimension}" in config/marketplace.json`);
        return;
      }
      if (target.kind === 'uncompiled') {
        hold('unmapped-dimension', `"${usage.dimension}" is tiered on plan "${target.plan}", but the listing configuration was read without the pricing plans, so its tiers are not compiled`);
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
      // Stamped with its usage hour; in the hour the subscription started, not before that moment.
      const recordOf = (dimension: string, quantity: number): MeteringRecord => ({
        productCode: customer.productCode,
        customer: customer.customer,
        dimension,
        timestamp: Math.max(hour, customer.subscribedAt ?? hour),
        quantity,
      });
      const context: PrepareContext = { deps, series, hour, now, hold };
      const item = target.kind === 'tiered'
        ? await prepareTiered(context, target.compiled, recordOf, () => { closedOutOfOrder += 1; })
        : await prepareSingle(context, (quantity) => [recordOf(target.listingDimension, quantity)]);
      if (item !== undefined) prepared.push(item);
    });
    if (prepared.length === 0) continue;

    let report;
    try {
      report = await sendMeteringRecords(service, prepared.flatMap((p) => p.records), { limiter: deps.limiter, sleep: deps.sleep, maxAttempts: deps.maxAttempts });
    } catch (error) {
      // A fatal refusal (API disabled, unknown product, no permission) billed nothing in its own call:
      // a record no call may have billed and no earlier run may have sent is planned afresh next time.
      if (error instanceof MeteringCallError) {
        for (const item of prepared) if (!item.resend && !item.records.some((r) => mayHaveBilled.has(recordKey(r)))) await deps.store.clearPending(item.series, item.plan);
      }
      throw error;
    }
    calls += report.calls;
    await forEachLimited(prepared, deps.concurrency ?? 16, async (item) => {
      const outcomes = item.records.map((r): RecordOutcome => report.outcomes.get(recordKey(r)) ?? { status: 'Unsent', reason: 'no outcome' });
      const hold = (reason: HeldBack['reason'], detail?: string) => heldBack.push({ ...item.series, hour: hourKey(hour), reason, detail });
      const confirmed = (o: RecordOutcome) => o.status === 'Success' || o.status === 'DuplicateRecord';
      if (outcomes.every(confirmed)) {
        // Every record of the hour is billed (now or before): the hour is sent.
        await markSentOnce(deps.store, item.series, item.plan, now());
        if (item.marker !== undefined && outstandingCarries(await deps.store.readSeries(item.series)).length === 0) {
          await deps.store.clearCarryMarker(item.series, item.marker);
        }
        success += outcomes.filter((o) => o.status === 'Success').length;
        duplicate += outcomes.filter((o) => o.status === 'DuplicateRecord').length;
        quantitySent += item.plan.quantity;
        return;
      }
      // Not every record is confirmed: the hour stays pending (and is resent unchanged), except that a
      // record refused outright and certainly never billed is dropped so that it can be planned again.
      const partly = outcomes.some(confirmed) ? ` (${outcomes.filter(confirmed).length} of ${outcomes.length} records confirmed)` : '';
      if (outcomes.some((o) => o.status === 'CustomerNotSubscribed')) {
        hold('CustomerNotSubscribed', partly || undefined);
      } else if (outcomes.some((o) => o.status === 'Rejected')) {
        const neverBilled = outcomes.every((o) => o.status === 'Rejected') && !item.resend && !item.records.some((r) => mayHaveBilled.has(recordKey(r)));
        if (neverBilled) await deps.store.clearPending(item.series, item.plan); // refused, so certainly not billed
        const reasons = outcomes.flatMap((o) => (o.status === 'Rejected' ? [o.reason] : []));
        hold('rejected', `${[...new Set(reasons)].join('; ')}${partly}`);
      } else {
        const reasons = outcomes.flatMap((o) => (o.status === 'Unsent' ? [o.reason] : []));
        hold('unsent', `${[...new Set(reasons)].join('; ')}${partly}`);
      }
    });
  }
  return { hours: hours.map(hourKey), calls, success, duplicate, quantitySent, heldBack, notFinal, closedUnsendable, closedOutOfOrder };
}

interface PrepareContext {
  readonly deps: MeteringRunDependencies;
  readonly series: SeriesKey;
  readonly hour: number;
  readonly now: () => number;
  readonly hold: (reason: HeldBack['reason'], detail?: string) => void;
}

/** Writes the plan as pending; `undefined` (and held back) when another run re-measured or sent the hour meanwhile. */
async function writePending(context: PrepareContext, planned: HourRecordPlan): Promise<HourRecordPlan | undefined> {
  try {
    return await context.deps.store.recordPendingSend(context.series, planned, context.now());
  } catch (error) {
    // Re-measured or sent meanwhile: planned again next run. Anything else (the store failing) fails the run.
    if (!(error instanceof PlanOutdatedError)) throw error;
    context.hold('unsent', `not planned this run: ${error.message}`);
    return undefined;
  }
}

/** An untiered dimension: one record per usage hour, its whole quantity under one listing dimension. */
async function prepareSingle(context: PrepareContext, recordsOf: (quantity: number) => MeteringRecord[]): Promise<Prepared | undefined> {
  const { deps, series, hour } = context;
  // The history is read only when a late change of a sent hour may be waiting to be carried.
  // (The pending index is eventually consistent: the hour itself is read again, consistently.)
  const marker = await deps.store.carryMarker(series);
  const current = marker === undefined ? await deps.store.readUsageHour(series, hour) : undefined;
  if (marker === undefined && (current === undefined || current.sent !== undefined)) return undefined; // sent meanwhile
  const history: readonly SeriesHour[] = marker === undefined ? [current!] : await deps.store.readSeries(series);
  const own = history.find((h) => h.hour === hour);
  if (own === undefined || own.sent !== undefined) return undefined;
  const planned = planHourRecord(history, hour);
  if (planned.quantity > MAX_QUANTITY) {
    context.hold('rejected', `quantity ${planned.quantity} exceeds Marketplace's maximum`);
    return undefined;
  }
  const plan = await writePending(context, planned);
  if (plan === undefined) return undefined;
  return { series, plan, marker, records: recordsOf(plan.quantity), resend: own.pending !== undefined };
}

/**
 * A tiered dimension: the hour is planned like any other (measurement plus carried changes), but
 * sent only in hour order within its month, split by the month's running total (see
 * {@link runMetering}). The series is read consistently before the pending write (order, carries) and
 * after it (order again, running total).
 */
async function prepareTiered(
  context: PrepareContext,
  compiled: CompiledCharge,
  recordOf: (dimension: string, quantity: number) => MeteringRecord,
  onClosedOutOfOrder: () => void,
): Promise<Prepared | undefined> {
  const { deps, series, hour } = context;
  const waitFor = (earlier: SeriesHour) =>
    context.hold('earlier-hour-unsent', `${hourKey(earlier.hour)} of the same month is ${earlier.pending !== undefined ? 'pending' : 'unsent'}: a tiered dimension is sent in hour order`);
  const marker = await deps.store.carryMarker(series);
  const before = await deps.store.readSeries(series);
  const first = tieredHourState(before, hour);
  if (first.kind === 'done') return undefined; // sent meanwhile
  if (first.kind === 'out-of-order') {
    // A later hour of the month is billed (or about to be) on a running total without this hour: bill
    // this hour's usage after it instead. (If another run wrote this hour pending meanwhile, the store
    // takes that record as sent: nothing is billed twice.)
    await closeOnce(deps.store, series, hour, context.now());
    onClosedOutOfOrder();
    return undefined;
  }
  if (first.kind === 'wait') {
    waitFor(first.earlier);
    return undefined;
  }
  const own = before.find((h) => h.hour === hour)!;
  const planned = planHourRecord(before, hour);
  if (planned.quantity > MAX_QUANTITY) {
    context.hold('rejected', `quantity ${planned.quantity} exceeds Marketplace's maximum`);
    return undefined;
  }
  const plan = await writePending(context, planned);
  if (plan === undefined) return undefined;
  const resend = own.pending !== undefined;

  // Second read, after the pending write: the running total comes from it, and the hour is sent only
  // if every earlier hour of the month is (still) sent — an hour that appeared meanwhile makes it wait.
  const after = tieredHourState(await deps.store.readSeries(series), hour);
  if (after.kind === 'done') return undefined; // a concurrent run sent it meanwhile
  if (after.kind !== 'ready') {
    if (after.kind === 'wait') waitFor(after.earlier);
    return undefined; // ('out-of-order' cannot follow: the hour is pending now)
  }
  let shares;
  try {
    shares = tierQuantities(compiled.tiers, after.runningTotal, plan.quantity);
  } catch (error) {
    if (!resend) await deps.store.clearPending(series, plan); // never sent: plan afresh next time
    context.hold('rejected', (error as Error).message);
    return undefined;
  }
  return { series, plan, marker, records: shares.map((s) => recordOf(s.listingDimension, s.quantity)), resend };
}

/**
 * The Metering Service, noting every record a call may have billed: those answered `Success` or
 * `DuplicateRecord`, and all records of a call that failed in a way that may have followed billing
 * (a server error, a lost connection). A call refused outright (a bad record, a fatal refusal) or
 * throttled billed nothing.
 */
function observed(service: MeteringService, mayHaveBilled: Set<string>): MeteringService {
  return {
    async batchMeterUsage(records) {
      try {
        const result = await service.batchMeterUsage(records);
        for (const r of result.results) if (r.status !== 'CustomerNotSubscribed') mayHaveBilled.add(recordKey(r.record));
        return result;
      } catch (error) {
        const billedNothing = error instanceof MeteringCallError && (error.kind !== 'retry' || error.code === 'ThrottlingException');
        if (!billedNothing) for (const record of records) mayHaveBilled.add(recordKey(record));
        throw error;
      }
    },
  };
}

/**
 * Closes an hour without a record of its own. If a concurrent run closed (or sent) it first, the store's
 * conditional write fails, and that is fine: the hour is sent either way.
 */
async function closeOnce(store: UsageStore, series: SeriesKey, hour: number, at: number): Promise<void> {
  try {
    await store.closeUnsendable(series, hour, at);
  } catch (error) {
    if ((await store.readUsageHour(series, hour))?.sent !== undefined) return;
    throw error;
  }
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
