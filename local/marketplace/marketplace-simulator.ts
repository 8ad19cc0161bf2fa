/**
 * A local AWS Marketplace Metering Service for tests and the local runtime (never bundled into a
 * Lambda): an HTTP server on loopback that the real `@aws-sdk/client-marketplace-metering` client talks
 * to through `endpoint`, enforcing the documented BatchMeterUsage and ResolveCustomer rules and keeping
 * a ledger of what AWS would bill. See the AWS Marketplace Metering
 * Service API reference (BatchMeterUsage), and local/marketplace/metering-rules.ts for each rule and its source.
 *
 * ```ts
 * const sim = await startMarketplaceSimulator({ now: () => clock });
 * sim.addProduct({ productCode: 'prod-a', dimensions: ['api_requests'] });
 * sim.subscribe({ productCode: 'prod-a', customerIdentifier: 'cust-1', subscribedAt: clock - 86_400_000 });
 * await sim.client().send(new BatchMeterUsageCommand({ ProductCode: 'prod-a', UsageRecords: [...] }));
 * sim.ledger(); sim.calls(); sim.faults.set({ internalErrorAfterBilling: 1 }); await sim.close();
 * ```
 */
import { randomUUID } from 'node:crypto';
import { MarketplaceMeteringClient, type MarketplaceMeteringClientConfig } from '@aws-sdk/client-marketplace-metering';
import { FaultInjector, type FaultPlan, type PendingFaults } from './faults';
import {
  MarketplaceState,
  type LedgerEntry,
  type ProductListing,
  type RegistrationTokenInput,
  type Subscription,
  type SubscriptionInput,
  type SubscriptionQuery,
} from './marketplace-state';
import { batchMeterUsage, resolveCustomer, type MeteringPolicy } from './metering-operations';
import { DEFAULT_FUTURE_SKEW_MS, DEFAULT_MAX_RECORD_AGE_MS, MeteringServiceError, SlidingWindowLimiter, type MeteringErrorCode } from './metering-rules';
import { parseJsonBody, startProtocolServer } from './simulator-server';

export type { FaultPlan, PendingFaults } from './faults';
export type { LedgerEntry, ProductListing, RegistrationTokenInput, Subscription, SubscriptionInput, SubscriptionQuery } from './marketplace-state';

/** Options of {@link startMarketplaceSimulator}. */
export interface MarketplaceSimulatorOptions {
  /** The service's clock (epoch ms): timestamp bounds, throttling windows, token expiry. @default Date.now */
  readonly now?: () => number;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** Calls admitted per operation in any 1-second window; more → ThrottlingException. @default 10 */
  readonly maxCallsPerSecond?: number;
  /** Records this old or older are refused. @default 6 hours (see DEFAULT_MAX_RECORD_AGE_MS) */
  readonly maxRecordAgeMs?: number;
  /** Tolerated clock skew for future timestamps. @default 5 minutes */
  readonly futureSkewMs?: number;
  /** @default 'CustomerNotSubscribed' (see MeteringPolicy) */
  readonly unknownCustomer?: MeteringPolicy['unknownCustomer'];
  /** @default 'allow' (see MeteringPolicy) */
  readonly tokenReuse?: MeteringPolicy['tokenReuse'];
  /** Faults injected from the start. */
  readonly faults?: FaultPlan;
}

/** One call the simulator received (after the HTTP envelope was accepted). */
export interface CallRecord {
  readonly operation: string;
  /** Simulator clock when the call arrived. */
  readonly at: number;
  /** Number of UsageRecords in a BatchMeterUsage request, when its body could be read. */
  readonly recordCount?: number;
  readonly outcome: 'Success' | MeteringErrorCode;
}

/** Calls received so far. */
export interface CallStats {
  /** BatchMeterUsage calls received, whatever their outcome. */
  readonly batchMeterUsage: number;
  readonly resolveCustomer: number;
  /** Records per BatchMeterUsage call, in arrival order. */
  readonly recordCounts: readonly number[];
  readonly log: readonly CallRecord[];
}

/** A running simulator. */
export interface MarketplaceSimulator {
  /** `http://127.0.0.1:<port>`: pass as `endpoint` to a MarketplaceMeteringClient. */
  readonly endpoint: string;
  /**
   * A MarketplaceMeteringClient pointed at the simulator (region us-east-1, fake credentials,
   * maxAttempts 1 so tests see raw behaviour). Destroyed by `close()`.
   */
  client(config?: Partial<MarketplaceMeteringClientConfig>): MarketplaceMeteringClient;
  addProduct(listing: ProductListing): void;
  /** Adds a subscription (legacy identity, current identity, or both). */
  subscribe(input: SubscriptionInput): Subscription;
  /**
   * Ends a subscription: calls from `at` on (default: now) get CustomerNotSubscribed for it. Pass a
   * later `at` to model unsubscribe-pending and the hour left to send final usage.
   */
  unsubscribe(query: SubscriptionQuery & { readonly at?: number }): Subscription;
  registerToken(token: string, input: RegistrationTokenInput): void;
  /** What AWS would bill: one entry per customer, dimension and hour. */
  ledger(): LedgerEntry[];
  calls(): CallStats;
  readonly faults: {
    /** Replaces the fault plan. */
    set(plan: FaultPlan): void;
    clear(): void;
    pending(): PendingFaults;
  };
  close(): Promise<void>;
}

interface MutableCallRecord {
  operation: string;
  at: number;
  recordCount?: number;
  outcome: 'Success' | MeteringErrorCode;
}

/** Starts the simulator on 127.0.0.1. */
export async function startMarketplaceSimulator(options: MarketplaceSimulatorOptions = {}): Promise<MarketplaceSimulator> {
  const now = options.now ?? Date.now;
  const policy: MeteringPolicy = {
    maxRecordAgeMs: options.maxRecordAgeMs ?? DEFAULT_MAX_RECORD_AGE_MS,
    futureSkewMs: options.futureSkewMs ?? DEFAULT_FUTURE_SKEW_MS,
    unknownCustomer: options.unknownCustomer ?? 'CustomerNotSubscribed',
    tokenReuse: options.tokenReuse ?? 'allow',
  };
  const maxCallsPerSecond = options.maxCallsPerSecond ?? 10;
  const limiters = new Map<string, SlidingWindowLimiter>();
  const state = new MarketplaceState();
  const faults = new FaultInjector();
  faults.set(options.faults ?? {});
  const log: MutableCallRecord[] = [];
  const resolvedTokens = new Set<string>();
  const clients: MarketplaceMeteringClient[] = [];

  function limiterOf(operation: string): SlidingWindowLimiter {
    let limiter = limiters.get(operation);
    if (limiter === undefined) {
      limiter = new SlidingWindowLimiter(maxCallsPerSecond);
      limiters.set(operation, limiter);
    }
    return limiter;
  }

  async function handle(operation: string, raw: string): Promise<unknown> {
    const at = now();
    const call: MutableCallRecord = { operation, at, outcome: 'Success' };
    log.push(call);
    let body: unknown;
    let unreadable: MeteringServiceError | undefined;
    try {
      body = parseJsonBody(raw);
    } catch (error) {
      unreadable = error as MeteringServiceError;
    }
    const records = (body as { UsageRecords?: unknown } | undefined)?.UsageRecords;
    if (operation === 'BatchMeterUsage' && Array.isArray(records)) call.recordCount = records.length;
    try {
      if (faults.apiDisabled) throw new MeteringServiceError('DisabledApiException', `${operation} is disabled in this Region`);
      // Throttling comes first, as at the front door of a real service: a throttled call does nothing.
      if (faults.takeThrottle() || !limiterOf(operation).tryAcquire(at)) throw new MeteringServiceError('ThrottlingException', 'Rate exceeded');
      if (unreadable !== undefined) throw unreadable;
      if (operation === 'ResolveCustomer') return resolveCustomer(state, body, at, policy, resolvedTokens);
      if (faults.takeInternalErrorBeforeBilling()) throw new MeteringServiceError('InternalServiceErrorException', 'Internal error (injected before billing)');
      const output = batchMeterUsage(state, body, { now: at, policy, isUnprocessed: (record) => faults.takeUnprocessed(record), newRecordId: randomUUID });
      if (faults.takeInternalErrorAfterBilling()) throw new MeteringServiceError('InternalServiceErrorException', 'Internal error (injected after billing)');
      return output;
    } catch (error) {
      call.outcome = error instanceof MeteringServiceError ? error.code : 'InternalServiceErrorException';
      throw error;
    } finally {
      const latency = faults.latencyMs;
      if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    }
  }

  const server = await startProtocolServer(handle, options.port ?? 0);

  return {
    endpoint: server.endpoint,
    client(config = {}) {
      const client = new MarketplaceMeteringClient({
        endpoint: server.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
        ...config,
      });
      clients.push(client);
      return client;
    },
    addProduct: (listing) => state.addProduct(listing),
    subscribe: (input) => state.subscribe(input),
    unsubscribe: ({ at, ...query }) => state.unsubscribe(query, at ?? now()),
    registerToken: (token, input) => state.registerToken(token, input),
    ledger: () => state.ledger(),
    calls() {
      const entries = log.map((call) => ({ ...call }));
      const batches = entries.filter((call) => call.operation === 'BatchMeterUsage');
      return {
        batchMeterUsage: batches.length,
        resolveCustomer: entries.filter((call) => call.operation === 'ResolveCustomer').length,
        recordCounts: batches.map((call) => call.recordCount ?? 0),
        log: entries,
      };
    },
    faults: {
      set: (plan) => faults.set(plan),
      clear: () => faults.clear(),
      pending: () => faults.pending(),
    },
    async close() {
      for (const client of clients.splice(0)) client.destroy();
      await server.close();
    },
  };
}
