/**
 * Simulated tenant traffic for the local run, over real HTTP against the local metered API: per
 * tenant and hour a seeded number of `GET /random/strings` calls with an error mix (invalid queries,
 * missing or forged tokens, unknown routes) and `POST /usage` batches of custom usage events
 * (every meter kind, resends of the same events, late events for the hour before, an invalid event
 * now and then). The driver moves the shared clock through the hour, so API Gateway's request time
 * and the events' timestamps fall in the hour simulated, and records what was answered in
 * {@link TrueUsage}: the reference of the reconciliation.
 */
import { forEachLimited } from '../../core/concurrency';
import { HOUR_MS } from '../../core/usage/hours';
import type { TrueUsage } from './true-usage';

/** Where the traffic goes and who sends it. */
export interface TrafficTarget {
  /** The local API's origin, e.g. `http://127.0.0.1:8080`. */
  readonly baseUrl: string;
  /** A valid ID token of the tenant's user. */
  tokenFor(tenantId: string): Promise<string>;
  /** A token the authorizer must refuse (signed by another key). */
  forgedToken(): Promise<string>;
}

export interface TrafficOptions {
  readonly tenants: readonly string[];
  /** Mean `GET /random/strings` calls per tenant and hour. */
  readonly requestsPerTenantHour: number;
  /** Requests in flight at once. @default 8 */
  readonly concurrency?: number;
}

/** What was sent and answered, by kind and status. */
export interface TrafficCounts {
  requests: number;
  byStatus: Record<string, number>;
  usagePosts: number;
  eventsSent: number;
  eventsAccepted: number;
  eventsRejected: number;
  eventsResent: number;
  lateEvents: number;
}

interface UsageEventBody {
  id: string;
  meter: string;
  quantity?: number | string;
  timestamp: string;
  properties?: Record<string, string | number>;
}

type Planned =
  | { kind: 'strings'; tenantId: string; query: string; auth: 'valid' | 'none' | 'forged'; path?: string }
  | { kind: 'usage'; tenantId: string; events: UsageEventBody[]; resend: boolean };

/** The clock the local API and usage-events handler read; the driver advances it. */
export interface TrafficClock {
  now(): number;
  set(at: number): void;
}

export class TrafficDriver {
  readonly counts: TrafficCounts = { requests: 0, byStatus: {}, usagePosts: 0, eventsSent: 0, eventsAccepted: 0, eventsRejected: 0, eventsResent: 0, lateEvents: 0 };
  private readonly sentBatches = new Map<string, UsageEventBody[]>();
  private sequence = 0;

  constructor(
    private readonly target: TrafficTarget,
    private readonly truth: TrueUsage,
    private readonly clock: TrafficClock,
    private readonly random: () => number,
    private readonly options: TrafficOptions,
  ) {}

  private int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  /** Plans the hour's calls: every tenant gets at least one good call and one usage batch (with an export). */
  private plan(hour: number, allowLateEvents: boolean): Planned[] {
    const planned: Planned[] = [];
    for (const tenantId of this.options.tenants) {
      const mean = this.options.requestsPerTenantHour;
      const calls = Math.max(1, Math.round(mean * (0.5 + this.random())));
      for (let i = 0; i < calls; i++) {
        const roll = i === 0 ? 1 : this.random();
        const good = `num=${this.int(1, 5)}&len=${this.int(4, 20)}`;
        if (roll < 0.05) planned.push({ kind: 'strings', tenantId, query: this.int(0, 1) === 0 ? 'num=0' : 'len=many', auth: 'valid' });
        else if (roll < 0.08) planned.push({ kind: 'strings', tenantId, query: good, auth: 'none' });
        else if (roll < 0.10) planned.push({ kind: 'strings', tenantId, query: good, auth: 'forged' });
        else if (roll < 0.12) planned.push({ kind: 'strings', tenantId, query: good, auth: 'valid', path: '/random/numbers' });
        else planned.push({ kind: 'strings', tenantId, query: good, auth: 'valid' });
      }
      planned.push({ kind: 'usage', tenantId, events: this.usageEvents(hour, allowLateEvents), resend: false });
      // Now and then a client resends a batch it already sent (a lost response): every event counts once.
      const previous = this.sentBatches.get(tenantId);
      if (previous !== undefined && this.random() < 0.3) planned.push({ kind: 'usage', tenantId, events: previous, resend: true });
    }
    // Interleave the tenants' calls, as real traffic would.
    for (let i = planned.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [planned[i], planned[j]] = [planned[j], planned[i]];
    }
    return planned;
  }

  private usageEvents(hour: number, allowLate: boolean): UsageEventBody[] {
    // Timestamps in the first minutes of the hour: never ahead of the clock when the batch is sent.
    const at = (minute: number) => new Date(hour + minute * 60_000 + this.int(0, 59_999)).toISOString();
    const id = (meter: string) => `${meter}-${hour / HOUR_MS}-${(this.sequence += 1)}`;
    const events: UsageEventBody[] = [{ id: id('export'), meter: 'reports_exported', timestamp: at(1) }];
    for (let i = this.int(0, 3); i > 0; i--) events.push({ id: id('export'), meter: 'reports_exported', timestamp: at(this.int(0, 2)) });
    for (let i = this.int(1, 4); i > 0; i--) events.push({ id: id('tokens'), meter: 'tokens', quantity: this.int(0, 5000), timestamp: at(this.int(0, 2)), properties: { model: this.random() < 0.5 ? 'small' : 'large' } });
    for (let i = this.int(1, 6); i > 0; i--) events.push({ id: id('login'), meter: 'active_users', timestamp: at(this.int(0, 2)), properties: { user_id: `u-${this.int(1, 12)}` } });
    for (let i = this.int(0, 3); i > 0; i--) events.push({ id: id('conn'), meter: 'peak_connections', quantity: this.int(0, 400), timestamp: at(this.int(0, 2)) });
    events.push({ id: id('storage'), meter: 'storage_gb', quantity: (this.int(1000, 90000) / 1000).toFixed(3), timestamp: at(this.int(0, 2)) });
    if (allowLate && this.random() < 0.5) {
      // Reported late: a job of the previous hour, whose usage was already aggregated and billed.
      const late = () => new Date(hour - this.int(5, 50) * 60_000).toISOString();
      events.push({ id: id('late-tokens'), meter: 'tokens', quantity: this.int(1, 900), timestamp: late() });
      events.push({ id: id('late-export'), meter: 'reports_exported', timestamp: late() });
      this.counts.lateEvents += 2;
    }
    if (this.random() < 0.2) events.push({ id: id('typo'), meter: 'token', quantity: 3, timestamp: at(1) });
    return events;
  }

  /**
   * Sends the hour's traffic with the clock moving from 5 past to 55 past the hour. `allowLateEvents`:
   * events for the previous hour may be reported (not in the first simulated hour).
   */
  async driveHour(hour: number, allowLateEvents: boolean): Promise<void> {
    const planned = this.plan(hour, allowLateEvents);
    const start = hour + 5 * 60_000;
    const step = Math.floor((50 * 60_000) / Math.max(1, planned.length));
    let issued = 0;
    await forEachLimited(planned, this.options.concurrency ?? 8, async (call) => {
      this.clock.set(start + issued * step);
      issued += 1;
      if (call.kind === 'strings') await this.callStrings(call);
      else await this.postUsage(call);
    });
  }

  private count(status: number): void {
    this.counts.requests += 1;
    this.counts.byStatus[String(status)] = (this.counts.byStatus[String(status)] ?? 0) + 1;
  }

  private async authorization(tenantId: string, auth: 'valid' | 'none' | 'forged'): Promise<Record<string, string>> {
    if (auth === 'none') return {};
    return { authorization: auth === 'valid' ? await this.target.tokenFor(tenantId) : await this.target.forgedToken() };
  }

  private async callStrings(call: Extract<Planned, { kind: 'strings' }>): Promise<void> {
    const path = call.path ?? '/random/strings';
    const at = this.clock.now();
    const response = await fetch(`${this.target.baseUrl}${path}?${call.query}`, { headers: await this.authorization(call.tenantId, call.auth) });
    const body = await response.text();
    this.count(response.status);
    if (call.auth === 'valid') this.truth.recordResponse(call.tenantId, { method: 'GET', resourcePath: path, status: response.status, bodyBytes: Buffer.byteLength(body), at });
  }

  private async postUsage(call: Extract<Planned, { kind: 'usage' }>): Promise<void> {
    const at = this.clock.now();
    const response = await fetch(`${this.target.baseUrl}/usage`, {
      method: 'POST',
      headers: { ...(await this.authorization(call.tenantId, 'valid')), 'content-type': 'application/json' },
      body: JSON.stringify({ events: call.events }),
    });
    const text = await response.text();
    this.count(response.status);
    this.counts.usagePosts += 1;
    this.counts.eventsSent += call.events.length;
    if (call.resend) this.counts.eventsResent += call.events.length;
    else this.sentBatches.set(call.tenantId, call.events);
    this.truth.recordResponse(call.tenantId, { method: 'POST', resourcePath: '/usage', status: response.status, bodyBytes: Buffer.byteLength(text), at });
    if (response.status !== 200 && response.status !== 400) throw new Error(`POST /usage answered ${response.status}: ${text.slice(0, 300)}`);
    const answer = JSON.parse(text) as { accepted?: { index: number; id: string }[]; rejected?: unknown[] };
    for (const accepted of answer.accepted ?? []) {
      const event = call.events[accepted.index];
      if (event === undefined || event.id !== accepted.id) throw new Error(`POST /usage accepted an event the driver did not send at position ${accepted.index}`);
      this.truth.recordEvent({
        tenantId: call.tenantId,
        id: event.id,
        meter: event.meter,
        ...(event.quantity === undefined ? {} : { quantity: String(event.quantity) }),
        timestamp: Date.parse(event.timestamp),
        ...(event.meter === 'active_users' ? { uniqueValue: String(event.properties?.user_id) } : {}),
      });
    }
    this.counts.eventsAccepted += answer.accepted?.length ?? 0;
    this.counts.eventsRejected += answer.rejected?.length ?? 0;
  }
}
