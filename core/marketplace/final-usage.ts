import { aggregateWindow, type AggregationDependencies } from '../usage/aggregation-job';
import { hourStart } from '../usage/hours';
import { meteringHours } from './metering-hours';
import { DETAIL_TYPES } from './subscription-effects';
import { runMetering, type MeteringRunDependencies, type MeteringRunReport } from './metering-run';

/**
 * The final usage of a tenant whose subscription is ending (`unsubscribe-pending`): AWS Marketplace
 * accepts its usage for about an hour after the notification, while the hourly runs would send the
 * notification's own hour only after it closes. Run some minutes after the notification (once Firehose
 * has delivered what came before it), this measures the recent hours, the open one included, and sends
 * this tenant's unsent hours at once. Usage of the open hour that arrives later still gets measured by
 * the hourly runs and is carried like any late change (Marketplace then refuses it as not subscribed,
 * which is reported: nothing is billed twice).
 */
export async function runFinalUsage(aggregation: AggregationDependencies, metering: MeteringRunDependencies, tenantId: string, nowMillis: number): Promise<MeteringRunReport> {
  const current = hourStart(nowMillis);
  const hours = [...meteringHours(nowMillis), current];
  // Measures every tenant's recent hours (one query), marking none of them aggregated: the scheduled
  // runs stay in charge of deciding when an hour is complete for everyone else.
  await aggregateWindow(aggregation, { firstHour: hours[0], lastHour: current }, { markAggregatedThrough: hours[0] - 1 });
  return runMetering(metering, hours, [], { tenantId, includeUnfinishedHours: true });
}

/** The tenant an `AWS Marketplace Unsubscribe Pending` event (as delivered to SQS by EventBridge) names. */
export function leavingTenantOf(body: string): string {
  const event = JSON.parse(body) as { 'detail-type'?: unknown; detail?: { tenantId?: unknown } };
  if (event['detail-type'] !== DETAIL_TYPES.unsubscribePending) throw new Error(`not an "${DETAIL_TYPES.unsubscribePending}" event`);
  const tenantId = event.detail?.tenantId;
  if (typeof tenantId !== 'string' || tenantId.length === 0) throw new Error('the event names no tenant');
  return tenantId;
}
