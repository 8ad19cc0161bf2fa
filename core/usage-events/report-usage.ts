import type { DeliveryStream } from '../ingestion/delivery-stream';
import type { MeteringConfig } from '../usage/metering-config';
import { usageEventRecord, type UsageEventSource } from './usage-event-record';
import { validateUsageRequest, type RejectedUsageEvent, type UsageCaller } from './usage-event-validation';

/**
 * POST /usage, independent of HTTP framing: validate the events, forward the valid ones to the
 * delivery stream, and say exactly what became of each.
 *
 * Status: 200 when every event was accepted; 400 when some were rejected (the valid ones are still
 * accepted and listed); 503 when the stream did not take some valid events after its retries (they
 * are listed under `failed`: resend them — their ids make a resend safe). An event is listed as
 * accepted only once the stream acknowledged it.
 */

export interface UsageReportBody {
  readonly message: string;
  /** Events the stream acknowledged, by position and id. */
  readonly accepted: readonly { readonly index: number; readonly id: string }[];
  /** Events refused, with every reason. */
  readonly rejected: readonly RejectedUsageEvent[];
  /** Valid events the stream did not acknowledge: resend them. */
  readonly failed: readonly { readonly index: number; readonly id: string; readonly reason: string }[];
  /** Request-level problems (a malformed body): nothing was accepted. */
  readonly errors?: readonly string[];
}

export interface UsageReport {
  readonly statusCode: 200 | 400 | 503;
  readonly body: UsageReportBody;
}

export interface ReportUsageDependencies {
  readonly stream: DeliveryStream;
  readonly config: MeteringConfig;
  readonly now: () => number;
}

/** Handles one parsed POST /usage body from `caller`. Never throws for what the body contains. */
export async function reportUsage(deps: ReportUsageDependencies, caller: UsageCaller, body: unknown): Promise<UsageReport> {
  const receivedAt = deps.now();
  const validation = validateUsageRequest(body, caller, deps.config, receivedAt);
  if (!validation.ok) {
    return { statusCode: 400, body: { message: validation.message, accepted: [], rejected: [], failed: [], errors: validation.errors } };
  }
  const source: UsageEventSource = caller.kind;
  const events = validation.accepted;
  const encoder = new TextEncoder();
  const put = events.length === 0 ? { delivered: [], failed: [] } : await deps.stream.put(events.map((event) => encoder.encode(usageEventRecord(event, receivedAt, source))));
  const accepted = put.delivered.map((i) => ({ index: events[i].index, id: events[i].id })).sort((a, b) => a.index - b.index);
  const failed = put.failed
    .map((f) => ({ index: events[f.index].index, id: events[f.index].id, reason: `not delivered: ${f.errorCode}${f.errorMessage ? ` (${f.errorMessage})` : ''}` }))
    .sort((a, b) => a.index - b.index);
  const rejected = validation.rejected;
  const total = accepted.length + rejected.length + failed.length;
  if (failed.length > 0) {
    return { statusCode: 503, body: { message: `${failed.length} of ${total} events could not be delivered now: resend them (their ids make a resend safe)`, accepted, rejected, failed } };
  }
  if (rejected.length > 0) {
    return { statusCode: 400, body: { message: `${rejected.length} of ${total} events rejected; the other ${accepted.length} were accepted`, accepted, rejected, failed } };
  }
  return { statusCode: 200, body: { message: `${accepted.length} events accepted`, accepted, rejected, failed } };
}
