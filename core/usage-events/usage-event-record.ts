import type { AcceptedUsageEvent } from './usage-event-validation';
import { DIMENSION_NAME, EVENT_ID, TENANT_ID } from '../identifiers';

/**
 * The Firehose record of one accepted usage event, and its validation in the ingestion transform.
 *
 * POST /usage writes each accepted event as one JSON record to the delivery stream the access logs use;
 * the `record_type` marker lets the transform tell it from an access-log line (which never has that
 * field) and route it to the usage-event table. The transform checks the record again — anyone allowed
 * to put records on the stream could write one — but only its shape: which meters exist is the
 * endpoint's business, at the time it received the event.
 *
 * Record: `{"record_type":"usage_event","tenant_id","event_id","meter","quantity" (decimal text),
 * "event_time","received_at" (epoch ms),"unique_value","properties" (text or null),"source"}`.
 * Row written (columns of core/lake/usage-event-table.ts): the same without the marker, the quantity
 * still as exact decimal text (a JSON number could pass through a double on its way into the table),
 * times in epoch microseconds (as Firehose wants them for Iceberg timestamps). A row made from a record the endpoint wrote is shorter than the record (the
 * marker goes, the times gain 3 digits each); the transform's response-size reservation covers any
 * other record.
 */

/** The marker field and value of a usage-event record. */
export const USAGE_EVENT_MARKER = { field: 'record_type', value: 'usage_event' } as const;

/** Who reported the event. */
export type UsageEventSource = 'tenant' | 'backend';

/** The JSON text of the Firehose record of an accepted event received at `receivedAt` (epoch ms). */
export function usageEventRecord(event: AcceptedUsageEvent, receivedAt: number, source: UsageEventSource): string {
  return JSON.stringify({
    [USAGE_EVENT_MARKER.field]: USAGE_EVENT_MARKER.value,
    tenant_id: event.tenantId,
    event_id: event.id,
    meter: event.meter,
    quantity: event.quantity,
    event_time: event.eventTime,
    received_at: receivedAt,
    unique_value: event.uniqueValue ?? null,
    properties: event.properties ?? null,
    source,
  });
}

/** Plain decimal text with at most 6 fraction digits and 32 whole digits: fits DECIMAL(38,6). */
const QUANTITY = /^(0|[1-9][0-9]{0,31})(\.[0-9]{1,6})?$/;
/** 2000-01-01T00:00:00Z: no usage event is older. */
const MIN_EPOCH_MILLIS = 946_684_800_000;
const MAX_TEXT = 65_536;

export type UsageEventRowOutcome = { readonly ok: true; readonly json: string } | { readonly ok: false; readonly reason: string };

/**
 * Validates a parsed usage-event record and returns the row's JSON text, or the first reason it is
 * invalid. `maxEpochMillis` bounds the timestamps (the transform's clock plus skew). Fields other than
 * the record's are ignored (never written).
 */
export function usageEventRow(record: Readonly<Record<string, unknown>>, maxEpochMillis: number): UsageEventRowOutcome {
  const text = (field: string, pattern: RegExp) => {
    const value = record[field];
    return typeof value === 'string' && pattern.test(value) ? value : undefined;
  };
  const time = (field: string) => {
    const value = record[field];
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= MIN_EPOCH_MILLIS && value <= maxEpochMillis ? value : undefined;
  };
  const optionalText = (field: string) => {
    const value = record[field];
    if (value === null || value === undefined) return { ok: true as const, value: null };
    return typeof value === 'string' && value.length <= MAX_TEXT ? { ok: true as const, value } : { ok: false as const };
  };
  const tenantId = text('tenant_id', TENANT_ID);
  if (tenantId === undefined) return { ok: false, reason: 'tenant_id is missing or malformed' };
  const eventId = text('event_id', EVENT_ID);
  if (eventId === undefined) return { ok: false, reason: 'event_id is missing or malformed' };
  const meter = text('meter', DIMENSION_NAME);
  if (meter === undefined) return { ok: false, reason: 'meter is missing or malformed' };
  const quantity = text('quantity', QUANTITY);
  if (quantity === undefined) return { ok: false, reason: 'quantity must be decimal text ≥ 0 with at most 6 fraction digits' };
  const eventTime = time('event_time');
  if (eventTime === undefined) return { ok: false, reason: 'event_time must be epoch milliseconds from 2000 up to now' };
  const receivedAt = time('received_at');
  if (receivedAt === undefined) return { ok: false, reason: 'received_at must be epoch milliseconds from 2000 up to now' };
  const uniqueValue = optionalText('unique_value');
  if (!uniqueValue.ok) return { ok: false, reason: 'unique_value must be text or null' };
  const properties = optionalText('properties');
  if (!properties.ok) return { ok: false, reason: `properties must be text of at most ${MAX_TEXT} characters or null` };
  const source = record.source;
  if (source !== 'tenant' && source !== 'backend') return { ok: false, reason: 'source must be "tenant" or "backend"' };
  const json =
    `{"tenant_id":${JSON.stringify(tenantId)},"event_id":${JSON.stringify(eventId)},"meter":${JSON.stringify(meter)},` +
    `"quantity":"${quantity}","event_time":${eventTime * 1000},"received_at":${receivedAt * 1000},` +
    `"unique_value":${JSON.stringify(uniqueValue.value)},"properties":${JSON.stringify(properties.value)},"source":"${source}"}`;
  return { ok: true, json };
}
