import type { MeterConfig, MeteringConfig } from '../usage/metering-config';
import { decimalText, fractionDigits, scaledUnits } from './decimal-quantity';
import { EVENT_ID, PROPERTY_NAME, TENANT_ID } from '../identifiers';

/**
 * Validation of a POST /usage request: which events are accepted and, for every other one, each
 * reason it is not. Pure: the clock and the caller are parameters.
 *
 * Body: `{ "events": [ { "id", "meter", "quantity", "timestamp", "properties"?, "tenantId"? } ] }`.
 * - `id`: the reporter's idempotency id (1-128 characters: letters, digits and `._:@/+=-`, starting
 *   with a letter or digit). Resending an event with the same id and timestamp counts it once.
 * - `meter`: a meter of the metering configuration.
 * - `quantity`: a finite number ≥ 0 with at most the meter's `decimals` fraction digits; optional for
 *   COUNT and UNIQUE_COUNT meters (which count events or values, not quantities).
 * - `timestamp`: RFC 3339 with a time zone (`2026-11-23T10:15:00Z`, `…+01:00`), not older than
 *   `usageEvents.maxAgeHours` and not more than `usageEvents.maxFutureSeconds` ahead of the receiving
 *   clock; sub-millisecond digits are truncated.
 * - `properties`: an object of at most 32 names (letters, digits, `_`) with string, finite number or
 *   boolean values, at most `usageEvents.maxPropertiesBytes` as JSON. A UNIQUE_COUNT meter requires its
 *   property, as a non-empty string (≤ 256 characters) or a finite number.
 * - `tenantId`: required from a backend (IAM) caller, which reports for any tenant; a tenant caller
 *   may omit it or repeat its own — its tenant comes from the verified token, never from the body.
 * Unknown fields are rejected (a misspelt `quantitiy` must not silently count as 0).
 */

/** Who is reporting: a tenant (its verified token) or an IAM-authorised backend naming tenants. */
export type UsageCaller = { readonly kind: 'tenant'; readonly tenantId: string } | { readonly kind: 'backend' };

/** An accepted event, normalised for the lake. */
export interface AcceptedUsageEvent {
  /** Position in the request's `events` array. */
  readonly index: number;
  readonly tenantId: string;
  readonly id: string;
  readonly meter: string;
  /** Exact decimal text of the quantity (`"0"` when a counting meter's event has none). */
  readonly quantity: string;
  /** Epoch milliseconds. */
  readonly eventTime: number;
  /** UNIQUE_COUNT meters: the property's value as text. */
  readonly uniqueValue?: string;
  /** The properties as JSON text, when the event has any. */
  readonly properties?: string;
}

/** A rejected event and every reason. */
export interface RejectedUsageEvent {
  readonly index: number;
  /** The event's id when it had a usable one. */
  readonly id?: string;
  readonly reasons: readonly string[];
}

export type UsageRequestValidation =
  /** The request as a whole is unusable: nothing accepted. */
  | { readonly ok: false; readonly message: string; readonly errors: readonly string[] }
  | { readonly ok: true; readonly accepted: readonly AcceptedUsageEvent[]; readonly rejected: readonly RejectedUsageEvent[] };

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const EVENT_FIELDS = new Set(['id', 'meter', 'quantity', 'timestamp', 'properties', 'tenantId']);
/** Most properties per event. */
export const MAX_PROPERTIES = 32;
/** Longest UNIQUE_COUNT property value. */
export const MAX_UNIQUE_VALUE_LENGTH = 256;
const HOUR_MS = 3_600_000;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return typeof value;
}

/** Parses an RFC 3339 timestamp with a zone to epoch ms (truncating sub-ms digits); undefined if invalid. */
export function parseRfc3339(text: string): number | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', zone] = match;
  const ms = Number((fraction.slice(1) + '000').slice(0, 3));
  const utc = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), ms);
  const check = new Date(utc);
  // Reject values Date.UTC would roll over (2026-02-30, 24:00, 60 seconds).
  if (check.getUTCFullYear() !== Number(year) || check.getUTCMonth() !== Number(month) - 1 || check.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) {
    return undefined;
  }
  if (zone === 'Z' || zone === 'z') return utc;
  const sign = zone.startsWith('-') ? -1 : 1;
  const [zoneHours, zoneMinutes] = zone.slice(1).split(':').map(Number);
  if (zoneHours > 23 || zoneMinutes > 59) return undefined;
  return utc - sign * (zoneHours * 60 + zoneMinutes) * 60_000;
}

function validateQuantity(value: unknown, meter: MeterConfig, reasons: string[]): string | undefined {
  const counting = meter.aggregation === 'COUNT' || meter.aggregation === 'UNIQUE_COUNT';
  if (value === undefined) {
    if (counting) return '0';
    reasons.push(`quantity is required for ${meter.aggregation} meter "${meter.name}"`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    reasons.push(`quantity must be a finite number ≥ 0, got ${describe(value)}`);
    return undefined;
  }
  const text = decimalText(value);
  if (fractionDigits(text) > meter.decimals) {
    reasons.push(`quantity ${text} has more than ${meter.decimals} fraction digit${meter.decimals === 1 ? '' : 's'}, the most meter "${meter.name}" allows`);
    return undefined;
  }
  if (!Number.isSafeInteger(Number(scaledUnits(text, meter.decimals)))) {
    reasons.push(`quantity ${text} is too large for meter "${meter.name}" (at most ${Math.floor(Number.MAX_SAFE_INTEGER / 10 ** meter.decimals)})`);
    return undefined;
  }
  return text;
}

function validateProperties(value: unknown, maxBytes: number, reasons: string[]): Record<string, string | number | boolean> | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    reasons.push(`properties must be an object, got ${describe(value)}`);
    return undefined;
  }
  const names = Object.keys(value);
  const problems: string[] = [];
  if (names.length > MAX_PROPERTIES) problems.push(`properties has ${names.length} names, at most ${MAX_PROPERTIES} are allowed`);
  for (const name of names.slice(0, MAX_PROPERTIES + 1)) {
    if (!PROPERTY_NAME.test(name)) problems.push(`property name ${describe(name)} must be 1-64 letters, digits or _, not starting with a digit`);
    const item = value[name];
    const ok = typeof item === 'string' || typeof item === 'boolean' || (typeof item === 'number' && Number.isFinite(item));
    if (!ok) problems.push(`property ${PROPERTY_NAME.test(name) ? name : describe(name)} must be a string, a finite number or a boolean, got ${describe(item)}`);
  }
  if (problems.length === 0) {
    const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
    if (bytes > maxBytes) problems.push(`properties are ${bytes} bytes as JSON, at most ${maxBytes} are allowed`);
  }
  reasons.push(...problems);
  return problems.length === 0 ? (value as Record<string, string | number | boolean>) : undefined;
}

function validateUniqueValue(meter: MeterConfig, properties: Record<string, unknown> | undefined, reasons: string[]): string | undefined {
  if (meter.aggregation !== 'UNIQUE_COUNT' || meter.property === undefined) return undefined;
  const value = properties === undefined ? undefined : properties[meter.property];
  // An identifier, not a quantity: negative numbers are as good as any (written with their sign).
  if (typeof value === 'number' && Number.isFinite(value)) return value < 0 ? `-${decimalText(-value)}` : decimalText(value);
  if (typeof value === 'string' && value.length > 0 && value.length <= MAX_UNIQUE_VALUE_LENGTH) return value;
  reasons.push(`meter "${meter.name}" counts distinct values of property "${meter.property}": it must be a non-empty string of at most ${MAX_UNIQUE_VALUE_LENGTH} characters or a finite number, got ${value === undefined ? 'none' : describe(value)}`);
  return undefined;
}

/**
 * Validates a parsed POST /usage body for `caller` at `now` (epoch ms). Every event is judged on its
 * own: valid events are accepted even when others are rejected.
 */
export function validateUsageRequest(body: unknown, caller: UsageCaller, config: MeteringConfig, now: number): UsageRequestValidation {
  const limits = config.usageEvents;
  if (!isPlainObject(body)) return { ok: false, message: 'The body must be a JSON object {"events": [...]}', errors: [`got ${describe(body)}`] };
  const unknown = Object.keys(body).filter((key) => key !== 'events');
  const events = body.events;
  const errors: string[] = unknown.map((key) => `unknown field ${describe(key)} (the body has only "events")`);
  if (!Array.isArray(events)) errors.push(`events must be an array of events, got ${events === undefined ? 'none' : describe(events)}`);
  else if (events.length === 0) errors.push('events is empty: send at least one event');
  else if (events.length > limits.maxEventsPerRequest) errors.push(`events has ${events.length} events, at most ${limits.maxEventsPerRequest} per request are allowed`);
  if (errors.length > 0) return { ok: false, message: 'Invalid usage request', errors };

  const meters = new Map(config.meters.map((m) => [m.name, m]));
  const oldest = now - limits.maxAgeHours * HOUR_MS;
  const newest = now + limits.maxFutureSeconds * 1000;
  const firstIndexOfId = new Map<string, number>();
  const accepted: AcceptedUsageEvent[] = [];
  const rejected: RejectedUsageEvent[] = [];

  (events as unknown[]).forEach((event, index) => {
    if (!isPlainObject(event)) {
      rejected.push({ index, reasons: [`an event must be an object, got ${describe(event)}`] });
      return;
    }
    const reasons: string[] = [];
    for (const key of Object.keys(event)) if (!EVENT_FIELDS.has(key)) reasons.push(`unknown field ${describe(key)}`);

    const id = typeof event.id === 'string' && EVENT_ID.test(event.id) ? event.id : undefined;
    if (id === undefined) reasons.push(`id must be 1-128 letters, digits or ._:@/+=- starting with a letter or digit, got ${event.id === undefined ? 'none' : describe(event.id)}`);
    else if (firstIndexOfId.has(id)) reasons.push(`id "${id}" is repeated: the same event is already at index ${firstIndexOfId.get(id)}`);
    else firstIndexOfId.set(id, index);

    let tenantId: string | undefined;
    if (caller.kind === 'tenant') {
      if (event.tenantId !== undefined && event.tenantId !== caller.tenantId) reasons.push('tenantId names another tenant: a tenant reports only its own usage');
      tenantId = caller.tenantId;
    } else if (typeof event.tenantId === 'string' && TENANT_ID.test(event.tenantId)) {
      tenantId = event.tenantId;
    } else {
      reasons.push(`tenantId is required from a backend caller: 1-64 letters, digits, _ . or -, got ${event.tenantId === undefined ? 'none' : describe(event.tenantId)}`);
    }

    const meter = typeof event.meter === 'string' ? meters.get(event.meter) : undefined;
    if (meter === undefined) {
      reasons.push(typeof event.meter === 'string' ? `unknown meter ${describe(event.meter)} (known: ${[...meters.keys()].join(', ') || 'none'})` : `meter must be a meter name, got ${event.meter === undefined ? 'none' : describe(event.meter)}`);
    }

    let eventTime: number | undefined;
    if (typeof event.timestamp !== 'string') {
      reasons.push(`timestamp must be an RFC 3339 text with a time zone, got ${event.timestamp === undefined ? 'none' : describe(event.timestamp)}`);
    } else {
      eventTime = parseRfc3339(event.timestamp);
      if (eventTime === undefined) reasons.push(`timestamp ${describe(event.timestamp)} is not an RFC 3339 time with a time zone, like 2026-11-23T10:15:00Z`);
      else if (eventTime < oldest) reasons.push(`timestamp ${event.timestamp} is more than ${limits.maxAgeHours} hours old: usage that late cannot be counted any more`);
      else if (eventTime > newest) reasons.push(`timestamp ${event.timestamp} is more than ${limits.maxFutureSeconds} seconds in the future`);
    }

    const properties = validateProperties(event.properties, limits.maxPropertiesBytes, reasons);
    const quantity = meter === undefined ? undefined : validateQuantity(event.quantity, meter, reasons);
    const uniqueValue = meter === undefined ? undefined : validateUniqueValue(meter, isPlainObject(event.properties) ? event.properties : undefined, reasons);

    if (reasons.length > 0 || id === undefined || tenantId === undefined || meter === undefined || quantity === undefined || eventTime === undefined) {
      rejected.push({ index, ...(id === undefined ? {} : { id }), reasons });
      return;
    }
    accepted.push({
      index,
      tenantId,
      id,
      meter: meter.name,
      quantity,
      eventTime,
      ...(uniqueValue === undefined ? {} : { uniqueValue }),
      ...(properties === undefined || Object.keys(properties).length === 0 ? {} : { properties: JSON.stringify(properties) }),
    });
  });
  return { ok: true, accepted, rejected };
}
