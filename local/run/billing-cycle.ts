/**
 * The scheduled jobs of one hour, as they run in AWS at ten past every hour: the hourly aggregation
 * (`runScheduledAggregation`: every closed hour past its watermark plus the look-back window) and the
 * Marketplace metering run over the send window (`runMetering`), on the local engines.
 */
import { meteringHours, unsendableHours } from '../../core/marketplace/metering-hours';
import { runMetering, type MeteringRunDependencies, type MeteringRunReport } from '../../core/marketplace/metering-run';
import { runScheduledAggregation, type AggregationDependencies, type AggregationReport } from '../../core/usage/aggregation-job';

export interface BillingCycleReport {
  readonly aggregation?: AggregationReport;
  readonly metering: MeteringRunReport;
}

export async function runBillingCycle(aggregation: AggregationDependencies, metering: MeteringRunDependencies, now: number): Promise<BillingCycleReport> {
  const aggregated = await runScheduledAggregation(aggregation);
  const metered = await runMetering(metering, meteringHours(now), unsendableHours(now));
  return { ...(aggregated === undefined ? {} : { aggregation: aggregated }), metering: metered };
}
