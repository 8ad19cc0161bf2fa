/**
 * The local run's reconciliation: for every tenant and dimension, the true usage (what the traffic
 * driver sent and was answered), what aggregation stored (the usage store's hourly measurements), what
 * metering marked sent, and what AWS Marketplace's ledger bills (the simulator's ledger, priced at the
 * listing dimensions' prices) against what the rating engine charges for the true usage under the
 * listing's plan. Pure: everything is read before and passed in.
 *
 * Exact means: aggregated = true for every hour; for a dimension billed through Marketplace, sent =
 * true and the ledger's amount = the rating engine's amount, per UTC month; and no ledger entry of a
 * customer that is not one of the run's tenants.
 */
import type { CompiledCharge } from '../../core/pricing/marketplace-tiers';
import { rateCharge } from '../../core/pricing/charges';
import { monthOf } from '../../core/pricing/periods';
import type { Plan } from '../../core/pricing/plan-schema';
import { hourKey } from '../../core/usage/hours';
import type { TrueUsageHour } from './true-usage';

/** A usage hour as the usage store holds it. */
export interface StoredHour {
  readonly tenantId: string;
  readonly dimension: string;
  readonly hour: number;
  readonly measured: number;
  /** What metering sent for the hour (measured + carried late changes), when sent. */
  readonly sentQuantity?: number;
}

/** A ledger entry of the Marketplace simulator, reduced. */
export interface LedgerLine {
  readonly customerKey: string;
  readonly dimension: string;
  readonly hour: number;
  readonly quantity: number;
}

/** A dimension billed through Marketplace: its compiled listing dimensions and the plan they price. */
export interface BilledDimension {
  readonly dimension: string;
  readonly compiled: CompiledCharge;
  readonly plan: Plan;
}

export interface ReconciliationInput {
  readonly trueHours: readonly TrueUsageHour[];
  readonly storedHours: readonly StoredHour[];
  readonly ledger: readonly LedgerLine[];
  readonly billed: readonly BilledDimension[];
  /** The ledger's customer key of each tenant (`license:<arn>`). */
  readonly customerKeys: ReadonlyMap<string, string>;
}

export interface ReconciliationRow {
  readonly tenantId: string;
  readonly dimension: string;
  readonly trueQuantity: bigint;
  readonly aggregated: bigint;
  /** Sum of sent quantities; null when the dimension is not billed through Marketplace. */
  readonly sent: bigint | null;
  /** The ledger's amount in minor units (Σ quantity × listing unit price); null when not billed. */
  readonly billedAmountMinor: bigint | null;
  /** The rating engine's amount for the true usage, per month, summed; null when not billed. */
  readonly expectedAmountMinor: bigint | null;
  readonly exact: boolean;
}

export interface Reconciliation {
  readonly rows: readonly ReconciliationRow[];
  readonly exact: boolean;
  /** Every difference, in words. */
  readonly problems: readonly string[];
}

const seriesKey = (tenantId: string, dimension: string) => `${tenantId}\u0000${dimension}`;

export function reconcile(input: ReconciliationInput): Reconciliation {
  const problems: string[] = [];
  const series = new Map<string, { tenantId: string; dimension: string }>();
  const trueByHour = new Map<string, bigint>();
  const storedByHour = new Map<string, StoredHour>();
  for (const h of input.trueHours) {
    series.set(seriesKey(h.tenantId, h.dimension), h);
    trueByHour.set(`${seriesKey(h.tenantId, h.dimension)}\u0000${h.hour}`, h.quantity);
  }
  for (const h of input.storedHours) {
    series.set(seriesKey(h.tenantId, h.dimension), h);
    storedByHour.set(`${seriesKey(h.tenantId, h.dimension)}\u0000${h.hour}`, h);
  }
  for (const k of new Set([...trueByHour.keys(), ...storedByHour.keys()])) {
    const t = trueByHour.get(k) ?? 0n;
    const s = BigInt(storedByHour.get(k)?.measured ?? 0);
    if (t !== s) {
      const [tenantId, dimension, hour] = k.split('\u0000');
      problems.push(`${tenantId} ${dimension} ${hourKey(Number(hour))}: true ${t}, aggregated ${s}`);
    }
  }
  const billedByDimension = new Map(input.billed.map((b) => [b.dimension, b]));
  const tenantOfCustomer = new Map([...input.customerKeys].map(([tenant, customer]) => [customer, tenant]));
  for (const line of input.ledger) {
    if (!tenantOfCustomer.has(line.customerKey)) problems.push(`ledger entry of unknown customer ${line.customerKey} (${line.dimension} ${hourKey(line.hour)})`);
  }

  const rows: ReconciliationRow[] = [];
  for (const { tenantId, dimension } of [...series.values()].sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : a.dimension < b.dimension ? -1 : a.dimension > b.dimension ? 1 : 0))) {
    const trueHours = input.trueHours.filter((h) => h.tenantId === tenantId && h.dimension === dimension);
    const storedHours = input.storedHours.filter((h) => h.tenantId === tenantId && h.dimension === dimension);
    const trueQuantity = trueHours.reduce((sum, h) => sum + h.quantity, 0n);
    const aggregated = storedHours.reduce((sum, h) => sum + BigInt(h.measured), 0n);
    let exact = trueQuantity === aggregated && trueHours.every((h) => BigInt(storedByHour.get(`${seriesKey(tenantId, dimension)}\u0000${h.hour}`)?.measured ?? 0) === h.quantity);
    const billed = billedByDimension.get(dimension);
    if (billed === undefined) {
      rows.push({ tenantId, dimension, trueQuantity, aggregated, sent: null, billedAmountMinor: null, expectedAmountMinor: null, exact });
      continue;
    }
    const sent = storedHours.reduce((sum, h) => sum + BigInt(h.sentQuantity ?? 0), 0n);
    if (sent !== trueQuantity) problems.push(`${tenantId} ${dimension}: true ${trueQuantity}, sent to Marketplace ${sent}`);
    const customerKey = input.customerKeys.get(tenantId);
    const prices = new Map(billed.compiled.tiers.map((t) => [t.listingDimension, t.unitPriceMinor]));
    const months = new Map<number, { trueQuantity: bigint; billedMinor: bigint }>();
    const month = (hour: number) => {
      const start = monthOf(hour).start;
      let entry = months.get(start);
      if (entry === undefined) {
        entry = { trueQuantity: 0n, billedMinor: 0n };
        months.set(start, entry);
      }
      return entry;
    };
    for (const h of trueHours) month(h.hour).trueQuantity += h.quantity;
    for (const line of input.ledger) {
      if (line.customerKey !== customerKey || !prices.has(line.dimension)) continue;
      month(line.hour).billedMinor += BigInt(line.quantity) * prices.get(line.dimension)!;
    }
    let billedAmountMinor = 0n;
    let expectedAmountMinor = 0n;
    const charge = billed.plan.charges.find((c) => c.dimension === dimension);
    if (charge === undefined) throw new Error(`plan ${billed.plan.id} does not price ${dimension}, which the listing bills under it`);
    for (const [start, entry] of months) {
      const expected = rateCharge(charge, entry.trueQuantity, { currency: billed.plan.currency, minorUnitDigits: billed.plan.minorUnitDigits }).reduce((sum, line) => sum + line.amountMinor, 0n);
      billedAmountMinor += entry.billedMinor;
      expectedAmountMinor += expected;
      if (expected !== entry.billedMinor) problems.push(`${tenantId} ${dimension} ${hourKey(start).slice(0, 7)}: Marketplace bills ${entry.billedMinor}, the rating engine charges ${expected} (minor units)`);
    }
    exact = exact && sent === trueQuantity && billedAmountMinor === expectedAmountMinor;
    rows.push({ tenantId, dimension, trueQuantity, aggregated, sent, billedAmountMinor, expectedAmountMinor, exact });
  }
  return { rows, exact: problems.length === 0 && rows.every((r) => r.exact), problems };
}
