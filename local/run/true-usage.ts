/**
 * What the simulated tenants really used, kept by the traffic driver from what it sent and what the
 * API answered, independently of the lake, the SQL and the usage store: the reference the local run
 * reconciles aggregation and Marketplace billing against.
 *
 * Requests: a `GET /random/strings` answered 2xx is one `api_requests`; every 2xx response adds its
 * body's bytes to `response_bytes` (the shipped `config/metering.json` dimensions). Usage events: the
 * meter semantics of `docs/usage-events.md`, computed here in plain TypeScript over the events the
 * endpoint accepted (each id once per tenant and hour, first accepted copy wins).
 */
import type { MeteringConfig } from '../../core/usage/metering-config';
import { HOUR_MS } from '../../core/usage/hours';
import { scaledUnits } from '../../core/usage-events/decimal-quantity';

/** One accepted usage event, as the driver sent it. */
export interface AcceptedEvent {
  readonly tenantId: string;
  readonly id: string;
  readonly meter: string;
  /** Exact decimal text; absent for COUNT / UNIQUE_COUNT events sent without one. */
  readonly quantity?: string;
  readonly timestamp: number;
  readonly uniqueValue?: string;
}

const key = (tenantId: string, dimension: string, hour: number) => `${tenantId}\u0000${dimension}\u0000${hour}`;
const hourOf = (at: number) => Math.floor(at / HOUR_MS) * HOUR_MS;

/** One tenant × dimension × hour of true usage. */
export interface TrueUsageHour {
  readonly tenantId: string;
  readonly dimension: string;
  readonly hour: number;
  readonly quantity: bigint;
}

/** Accumulates true usage; {@link hours} reads it out. */
export class TrueUsage {
  private readonly counters = new Map<string, TrueUsageHour>();
  private readonly events = new Map<string, AcceptedEvent>();

  constructor(private readonly config: MeteringConfig) {}

  /** A response the API gave a tenant's request at `at` (the time API Gateway stamped). */
  recordResponse(tenantId: string, request: { method: string; resourcePath: string; status: number; bodyBytes: number; at: number }): void {
    if (request.status < 200 || request.status > 299) return;
    const hour = hourOf(request.at);
    if (request.method === 'GET' && request.resourcePath === '/random/strings') this.add(tenantId, 'api_requests', hour, 1n);
    this.add(tenantId, 'response_bytes', hour, BigInt(request.bodyBytes));
  }

  /** An event the endpoint accepted (a resend of the same id and timestamp is the same event). */
  recordEvent(event: AcceptedEvent): void {
    const id = key(event.tenantId, event.id, hourOf(event.timestamp));
    if (!this.events.has(id)) this.events.set(id, event);
  }

  private add(tenantId: string, dimension: string, hour: number, amount: bigint): void {
    const k = key(tenantId, dimension, hour);
    const current = this.counters.get(k);
    this.counters.set(k, { tenantId, dimension, hour, quantity: (current?.quantity ?? 0n) + amount });
  }

  /** Every tenant × dimension × hour with usage (requests and meters), sorted. */
  hours(): TrueUsageHour[] {
    const result = new Map(this.counters);
    const groups = new Map<string, AcceptedEvent[]>();
    for (const event of this.events.values()) {
      const k = key(event.tenantId, event.meter, hourOf(event.timestamp));
      const list = groups.get(k) ?? [];
      list.push(event);
      groups.set(k, list);
    }
    for (const [k, events] of groups) {
      const { tenantId, meter, timestamp } = events[0];
      const definition = this.config.meters.find((m) => m.name === meter);
      if (definition === undefined) throw new Error(`the driver sent an event of unknown meter ${meter}`);
      const scaled = (e: AcceptedEvent) => scaledUnits(e.quantity ?? '0', definition.decimals);
      let quantity: bigint;
      switch (definition.aggregation) {
        case 'COUNT': quantity = BigInt(events.length); break;
        case 'SUM': quantity = events.reduce((sum, e) => sum + scaled(e), 0n); break;
        case 'MAX': quantity = events.reduce((max, e) => (scaled(e) > max ? scaled(e) : max), 0n); break;
        case 'UNIQUE_COUNT': quantity = BigInt(new Set(events.map((e) => e.uniqueValue)).size); break;
        case 'LATEST': {
          const latest = [...events].sort((a, b) => b.timestamp - a.timestamp || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))[0];
          quantity = scaled(latest);
          break;
        }
      }
      result.set(k, { tenantId, dimension: meter, hour: hourOf(timestamp), quantity });
    }
    return [...result.values()].sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0) || (a.dimension < b.dimension ? -1 : a.dimension > b.dimension ? 1 : 0) || a.hour - b.hour);
  }
}
