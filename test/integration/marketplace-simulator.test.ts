/**
 * The Marketplace Metering simulator driven only through the real AWS SDK client: every rule is
 * observed the way production code observes AWS (statuses, exceptions, HTTP codes), and the ledger
 * shows what AWS would bill.
 */
import {
  BatchMeterUsageCommand,
  DisabledApiException,
  ExpiredTokenException,
  InternalServiceErrorException,
  InvalidCustomerIdentifierException,
  InvalidLicenseException,
  InvalidProductCodeException,
  InvalidTagException,
  InvalidTokenException,
  InvalidUsageAllocationsException,
  InvalidUsageDimensionException,
  MarketplaceMeteringServiceException,
  ResolveCustomerCommand,
  ThrottlingException,
  TimestampOutOfBoundsException,
  type BatchMeterUsageCommandInput,
  type MarketplaceMeteringClient,
  type MarketplaceMeteringClientConfig,
  type UsageRecord,
} from '@aws-sdk/client-marketplace-metering';
import { startMarketplaceSimulator, type MarketplaceSimulator, type MarketplaceSimulatorOptions } from '../../local/marketplace/marketplace-simulator';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 23, 14, 20); // 2026-11-23 14:20 UTC: the simulator's "now"
const LAST_HOUR = Date.UTC(2026, 10, 23, 13); // the hour that closed at 14:00
const PRODUCT = 'prod-a';
const OTHER_PRODUCT = 'prod-b';
const LEGACY_ACCOUNT = '111122223333';
const ACCOUNT_A = '444455556666';
const ACCOUNT_B = '777788889999';
const LICENSE_A = 'arn:aws:license-manager::294406891311:license:l-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const LICENSE_B = 'arn:aws:license-manager::294406891311:license:l-9f8e7d6c5b4a30291807f6e5d4c3b2a1';

interface Harness {
  readonly sim: MarketplaceSimulator;
  readonly client: MarketplaceMeteringClient;
  readonly clock: { now: number };
}

const started: MarketplaceSimulator[] = [];
afterAll(async () => {
  await Promise.all(started.map((sim) => sim.close()));
});

/** A simulator with two products, a legacy customer (cust-1) and two licences, its clock at T0. */
async function setup(options: MarketplaceSimulatorOptions = {}): Promise<Harness> {
  const clock = { now: T0 };
  const sim = await startMarketplaceSimulator({ now: () => clock.now, ...options });
  started.push(sim);
  sim.addProduct({ productCode: PRODUCT, dimensions: ['api_requests', 'data_gb'] });
  sim.addProduct({ productCode: OTHER_PRODUCT, dimensions: ['seats'] });
  sim.subscribe({ productCode: PRODUCT, customerIdentifier: 'cust-1', customerAWSAccountId: LEGACY_ACCOUNT, subscribedAt: T0 - 30 * DAY });
  sim.subscribe({ productCode: PRODUCT, customerAWSAccountId: ACCOUNT_A, licenseArn: LICENSE_A, subscribedAt: T0 - 30 * DAY });
  sim.subscribe({ productCode: OTHER_PRODUCT, customerAWSAccountId: ACCOUNT_B, licenseArn: LICENSE_B, subscribedAt: T0 - 30 * DAY });
  return { sim, client: sim.client(), clock };
}

/** A legacy record of cust-1 for the last closed hour. */
function usage(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return { CustomerIdentifier: 'cust-1', Dimension: 'api_requests', Quantity: 5, Timestamp: new Date(LAST_HOUR), ...overrides };
}

function meter(client: MarketplaceMeteringClient, input: BatchMeterUsageCommandInput) {
  return client.send(new BatchMeterUsageCommand(input));
}

/** The error a call fails with (the test fails if it succeeds). */
async function failure(call: Promise<unknown>): Promise<MarketplaceMeteringServiceException> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(MarketplaceMeteringServiceException);
    return error as MarketplaceMeteringServiceException;
  }
  throw new Error('expected the call to fail');
}

type RetryStrategyV2 = Extract<NonNullable<MarketplaceMeteringClientConfig['retryStrategy']>, { refreshRetryTokenForRetry: unknown }>;

/** A retry strategy without delays that records how the SDK classified each failure. */
function recordingRetries(maxAttempts: number, seen: string[]): RetryStrategyV2 {
  const token = (retries: number) => ({ getRetryCount: () => retries, getRetryDelay: () => 0 });
  return {
    acquireInitialRetryToken: async () => token(0),
    refreshRetryTokenForRetry: async (previous, info) => {
      seen.push(info.errorType);
      const retries = previous.getRetryCount() + 1;
      if (retries >= maxAttempts || (info.errorType !== 'THROTTLING' && info.errorType !== 'TRANSIENT')) throw new Error('no more retries');
      return token(retries);
    },
    recordSuccess: () => undefined,
  };
}

describe('BatchMeterUsage', () => {
  it('bills new records and answers Success with a MeteringRecordId each, echoing the records', async () => {
    const { sim, client } = await setup();
    const stamp = new Date(LAST_HOUR + 17 * MINUTE + 123);
    const out = await meter(client, {
      ProductCode: PRODUCT,
      UsageRecords: [usage({ Timestamp: stamp }), usage({ Dimension: 'data_gb', Quantity: 0, Timestamp: stamp })],
    });
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toEqual(expect.any(String));
    expect(out.UnprocessedRecords).toEqual([]);
    expect(out.Results?.map((r) => r.Status)).toEqual(['Success', 'Success']);
    const ids = out.Results?.map((r) => r.MeteringRecordId) ?? [];
    expect(new Set(ids).size).toBe(2);
    expect(out.Results?.[0].UsageRecord).toEqual({ CustomerIdentifier: 'cust-1', Dimension: 'api_requests', Quantity: 5, Timestamp: stamp });
    expect(sim.ledger()).toEqual([
      { productCode: PRODUCT, customerKey: 'customer:cust-1', customerIdentifier: 'cust-1', customerAWSAccountId: LEGACY_ACCOUNT, dimension: 'api_requests', hour: LAST_HOUR, timestamp: stamp.getTime(), quantity: 5, meteringRecordId: ids[0], acceptedAt: T0 },
      { productCode: PRODUCT, customerKey: 'customer:cust-1', customerIdentifier: 'cust-1', customerAWSAccountId: LEGACY_ACCOUNT, dimension: 'data_gb', hour: LAST_HOUR, timestamp: stamp.getTime(), quantity: 0, meteringRecordId: ids[1], acceptedAt: T0 },
    ]);
    expect(sim.calls()).toMatchObject({ batchMeterUsage: 1, recordCounts: [2], log: [{ operation: 'BatchMeterUsage', at: T0, recordCount: 2, outcome: 'Success' }] });
  });

  it('takes 25 records per call and refuses 26 with ValidationException, billing nothing', async () => {
    const { sim, client } = await setup();
    const records = (n: number) => Array.from({ length: n }, (_, i) => usage({ CustomerIdentifier: `someone-${i}` }));
    const ok = await meter(client, { ProductCode: PRODUCT, UsageRecords: records(25) });
    expect(ok.Results).toHaveLength(25);
    const error = await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [...records(25), usage()] }));
    expect(error.name).toBe('ValidationException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.$fault).toBe('client');
    expect(error.message).toMatch(/length less than or equal to 25/);
    expect(sim.ledger()).toEqual([]);
    expect(sim.calls().recordCounts).toEqual([25, 26]);
  });

  it('keeps one product per call', async () => {
    const { sim, client } = await setup();
    const licenceB = usage({ CustomerIdentifier: undefined, CustomerAWSAccountId: ACCOUNT_B, LicenseArn: LICENSE_B, Dimension: 'seats' });
    const licenceA = usage({ CustomerIdentifier: undefined, CustomerAWSAccountId: ACCOUNT_A, LicenseArn: LICENSE_A });
    // A licence of another product under the call's ProductCode.
    expect(await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage(), licenceB] }))).toBeInstanceOf(InvalidProductCodeException);
    // Licences of two products in one call (no ProductCode: each LicenseArn names its product).
    expect(await failure(meter(client, { UsageRecords: [licenceA, licenceB] }))).toBeInstanceOf(InvalidProductCodeException);
    // A product code that was never published.
    expect(await failure(meter(client, { ProductCode: 'no-such-product', UsageRecords: [usage()] }))).toBeInstanceOf(InvalidProductCodeException);
    // Legacy records need the ProductCode.
    expect(await failure(meter(client, { UsageRecords: [usage()] }))).toBeInstanceOf(InvalidProductCodeException);
    expect(sim.ledger()).toEqual([]);
  });

  it('accepts the legacy identity and the current one (account + licence, no ProductCode)', async () => {
    const { sim, client } = await setup();
    const legacy = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage()] });
    const current = await meter(client, { UsageRecords: [usage({ CustomerIdentifier: undefined, CustomerAWSAccountId: ACCOUNT_A, LicenseArn: LICENSE_A })] });
    // The same licence with the ProductCode it belongs to is accepted too.
    const both = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ CustomerIdentifier: undefined, CustomerAWSAccountId: ACCOUNT_A, LicenseArn: LICENSE_A })] });
    // The account of cust-1 alone (with ProductCode) is the same product-level customer as cust-1.
    const byAccount = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ CustomerIdentifier: undefined, CustomerAWSAccountId: LEGACY_ACCOUNT })] });
    expect([legacy, current, both, byAccount].map((out) => out.Results?.[0].Status)).toEqual(['Success', 'Success', 'Success', 'Success']);
    expect(both.Results?.[0].MeteringRecordId).toBe(current.Results?.[0].MeteringRecordId);
    expect(byAccount.Results?.[0].MeteringRecordId).toBe(legacy.Results?.[0].MeteringRecordId);
    expect(current.Results?.[0].UsageRecord).toEqual({ CustomerAWSAccountId: ACCOUNT_A, LicenseArn: LICENSE_A, Dimension: 'api_requests', Quantity: 5, Timestamp: new Date(LAST_HOUR) });
    expect(sim.ledger().map((e) => [e.customerKey, e.licenseArn])).toEqual([['customer:cust-1', undefined], [`license:${LICENSE_A}`, LICENSE_A]]);
  });

  it('refuses a record carrying both identities, or a licence that is unknown or not the account’s', async () => {
    const { sim, client } = await setup();
    const both = await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ CustomerAWSAccountId: ACCOUNT_A, LicenseArn: LICENSE_A })] }));
    expect(both.name).toBe('ValidationException');
    expect(both.message).toMatch(/mutually exclusive/);
    const licenceAlone = await failure(meter(client, { UsageRecords: [usage({ CustomerIdentifier: undefined, LicenseArn: LICENSE_A })] }));
    expect(licenceAlone.name).toBe('ValidationException');
    const unknown = LICENSE_A.replace('l-0a', 'l-ff');
    expect(await failure(meter(client, { UsageRecords: [usage({ CustomerIdentifier: undefined, CustomerAWSAccountId: ACCOUNT_A, LicenseArn: unknown })] }))).toBeInstanceOf(InvalidLicenseException);
    expect(await failure(meter(client, { UsageRecords: [usage({ CustomerIdentifier: undefined, CustomerAWSAccountId: ACCOUNT_B, LicenseArn: LICENSE_A })] }))).toBeInstanceOf(InvalidLicenseException);
    expect(sim.ledger()).toEqual([]);
  });

  it('refuses the whole call for one timestamp 6 hours old, and bills nothing', async () => {
    const { sim, client } = await setup();
    const records = [usage(), usage({ Dimension: 'data_gb' }), usage({ CustomerIdentifier: 'cust-1', Timestamp: new Date(T0 - 6 * HOUR) })];
    const error = await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: records }));
    expect(error).toBeInstanceOf(TimestampOutOfBoundsException);
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(sim.ledger()).toEqual([]);
    // Without the stale record the others go through.
    const out = await meter(client, { ProductCode: PRODUCT, UsageRecords: records.slice(0, 2) });
    expect(out.Results?.map((r) => r.Status)).toEqual(['Success', 'Success']);
    expect(sim.ledger()).toHaveLength(2);
  });

  it('tolerates 5 minutes of clock skew into the future, not more', async () => {
    const { client } = await setup();
    const near = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ Timestamp: new Date(T0 + 4 * MINUTE) })] });
    expect(near.Results?.[0].Status).toBe('Success');
    expect(await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ Timestamp: new Date(T0 + 10 * MINUTE) })] }))).toBeInstanceOf(TimestampOutOfBoundsException);
  });

  it('refuses usage timestamped before the subscription started', async () => {
    const { sim, client } = await setup();
    const subscribedAt = T0 - 30 * MINUTE; // 13:50
    sim.subscribe({ productCode: PRODUCT, customerIdentifier: 'cust-new', subscribedAt });
    // Stamped at the start of the hour 13:00, before 13:50: refused (the whole call).
    const error = await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage(), usage({ CustomerIdentifier: 'cust-new' })] }));
    expect(error).toBeInstanceOf(TimestampOutOfBoundsException);
    expect(error.message).toMatch(/before the customer's subscription/);
    expect(sim.ledger()).toEqual([]);
    const out = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ CustomerIdentifier: 'cust-new', Timestamp: new Date(subscribedAt) })] });
    expect(out.Results?.[0].Status).toBe('Success');
  });

  it('refuses the whole call for one dimension the listing does not have', async () => {
    const { sim, client } = await setup();
    const unknown = await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage(), usage({ Dimension: 'ProductsOrdered' })] }));
    expect(unknown).toBeInstanceOf(InvalidUsageDimensionException);
    const otherProducts = await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ Dimension: 'seats' })] }));
    expect(otherProducts).toBeInstanceOf(InvalidUsageDimensionException);
    expect(sim.ledger()).toEqual([]);
  });

  it('answers CustomerNotSubscribed per record for unknown and unsubscribed customers, billing the rest', async () => {
    const { sim, client, clock } = await setup();
    sim.subscribe({ productCode: PRODUCT, customerIdentifier: 'cust-gone', subscribedAt: T0 - 10 * DAY });
    sim.unsubscribe({ productCode: PRODUCT, customerIdentifier: 'cust-gone', at: T0 - HOUR });
    sim.subscribe({ productCode: PRODUCT, customerIdentifier: 'cust-leaving', subscribedAt: T0 - 10 * DAY });
    sim.unsubscribe({ productCode: PRODUCT, customerIdentifier: 'cust-leaving', at: T0 + HOUR }); // unsubscribe-pending: an hour left
    const records = ['cust-1', 'nobody', 'cust-gone', 'cust-leaving'].map((id) => usage({ CustomerIdentifier: id }));
    const out = await meter(client, { ProductCode: PRODUCT, UsageRecords: records });
    expect(out.Results?.map((r) => [r.UsageRecord?.CustomerIdentifier, r.Status, typeof r.MeteringRecordId])).toEqual([
      ['cust-1', 'Success', 'string'],
      ['nobody', 'CustomerNotSubscribed', 'undefined'],
      ['cust-gone', 'CustomerNotSubscribed', 'undefined'],
      ['cust-leaving', 'Success', 'string'],
    ]);
    clock.now = T0 + HOUR;
    const late = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ CustomerIdentifier: 'cust-leaving', Timestamp: new Date(T0) })] });
    expect(late.Results?.[0].Status).toBe('CustomerNotSubscribed');
    expect(sim.ledger().map((e) => e.customerKey)).toEqual(['customer:cust-1', 'customer:cust-leaving']);
  });

  it('can answer InvalidCustomerIdentifierException for a never-seen identifier instead', async () => {
    const { sim, client } = await setup({ unknownCustomer: 'InvalidCustomerIdentifierException' });
    expect(await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage(), usage({ CustomerIdentifier: 'nobody' })] }))).toBeInstanceOf(InvalidCustomerIdentifierException);
    expect(sim.ledger()).toEqual([]);
  });

  it('answers an identical resend with Success and the same MeteringRecordId, billing it once', async () => {
    const { sim, client } = await setup();
    const first = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage(), usage({ Dimension: 'data_gb', Quantity: 2 })] });
    const again = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage(), usage({ Dimension: 'data_gb', Quantity: 2 })] });
    // A subset, stamped later in the same hour, is the same record too.
    const subset = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ Timestamp: new Date(LAST_HOUR + 59 * MINUTE) })] });
    expect(again.Results).toEqual(first.Results);
    expect(subset.Results?.[0]).toMatchObject({ Status: 'Success', MeteringRecordId: first.Results?.[0].MeteringRecordId });
    expect(sim.ledger()).toHaveLength(2);
  });

  it('answers DuplicateRecord for another quantity in the same hour, and the first write stands', async () => {
    const { sim, client } = await setup();
    const first = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ Quantity: 5 })] });
    const changed = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ Quantity: 7, Timestamp: new Date(LAST_HOUR + 30 * MINUTE) })] });
    expect(changed.Results?.[0].Status).toBe('DuplicateRecord');
    expect(changed.Results?.[0].MeteringRecordId).toBeUndefined();
    // Within one call as well.
    const inOneCall = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ Dimension: 'data_gb', Quantity: 1 }), usage({ Dimension: 'data_gb', Quantity: 2 })] });
    expect(inOneCall.Results?.map((r) => r.Status)).toEqual(['Success', 'DuplicateRecord']);
    expect(sim.ledger().map((e) => [e.dimension, e.quantity, e.meteringRecordId])).toEqual([
      ['api_requests', 5, first.Results?.[0].MeteringRecordId],
      ['data_gb', 1, inOneCall.Results?.[0].MeteringRecordId],
    ]);
  });

  it('checks usage allocations: quantities add up to the record, tags are valid and tag sets distinct', async () => {
    const { sim, client } = await setup();
    const tags = (team: string) => [{ Key: 'team', Value: team }];
    const wrongSum = await failure(meter(client, {
      ProductCode: PRODUCT,
      UsageRecords: [usage(), usage({ Dimension: 'data_gb', Quantity: 10, UsageAllocations: [{ AllocatedUsageQuantity: 6, Tags: tags('a') }, { AllocatedUsageQuantity: 3, Tags: tags('b') }] })],
    }));
    expect(wrongSum).toBeInstanceOf(InvalidUsageAllocationsException);
    const sameTags = await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ Quantity: 2, UsageAllocations: [{ AllocatedUsageQuantity: 1, Tags: tags('a') }, { AllocatedUsageQuantity: 1, Tags: tags('a') }] })] }));
    expect(sameTags).toBeInstanceOf(InvalidUsageAllocationsException);
    const sixTags = Array.from({ length: 6 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect(await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ UsageAllocations: [{ AllocatedUsageQuantity: 5, Tags: sixTags }] })] }))).toBeInstanceOf(InvalidTagException);
    expect(await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ UsageAllocations: [{ AllocatedUsageQuantity: 5, Tags: [{ Key: 'team', Value: 'a{b}' }] }] })] }))).toBeInstanceOf(InvalidTagException);
    expect(sim.ledger()).toEqual([]);
    const allocations = [{ AllocatedUsageQuantity: 6, Tags: tags('a') }, { AllocatedUsageQuantity: 4 }];
    const out = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ Quantity: 10, UsageAllocations: allocations })] });
    expect(out.Results?.[0].Status).toBe('Success');
    expect(out.Results?.[0].UsageRecord?.UsageAllocations).toEqual(allocations);
    expect(sim.ledger()[0].allocations).toEqual(allocations);
  });

  it('takes quantities 0 … 2,147,483,647 as whole numbers only', async () => {
    const { sim, client } = await setup();
    const max = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ Quantity: 2_147_483_647 })] });
    expect(max.Results?.[0].Status).toBe('Success');
    expect((await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ Dimension: 'data_gb', Quantity: -1 })] }))).name).toBe('ValidationException');
    expect((await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ Dimension: 'data_gb', Quantity: 2_147_483_648 })] }))).name).toBe('ValidationException');
    expect((await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage({ Dimension: 'data_gb', Quantity: 1.5 })] }))).name).toBe('SerializationException');
    expect(sim.ledger().map((e) => e.quantity)).toEqual([2_147_483_647]);
  });
});

describe('throttling', () => {
  it('admits 10 calls in any second and throttles the 11th (HTTP 400 ThrottlingException)', async () => {
    const { sim, client, clock } = await setup();
    const call = () => meter(client, { ProductCode: PRODUCT, UsageRecords: [usage()] });
    for (let i = 0; i < 10; i += 1) await call();
    const throttled = await failure(call());
    expect(throttled).toBeInstanceOf(ThrottlingException);
    expect(throttled.$metadata.httpStatusCode).toBe(400);
    clock.now = T0 + 999; // the first 10 calls are still inside the window
    expect(await failure(call())).toBeInstanceOf(ThrottlingException);
    clock.now = T0 + 1000;
    expect((await call()).Results?.[0].Status).toBe('Success');
    expect(sim.calls().log.map((c) => c.outcome).slice(9)).toEqual(['Success', 'ThrottlingException', 'ThrottlingException', 'Success']);
    expect(sim.ledger()).toHaveLength(1);
  });

  it('is a throttling error to the SDK, which retries it', async () => {
    const { sim } = await setup({ faults: { throttleNext: 1 } });
    const seen: string[] = [];
    const client = sim.client({ maxAttempts: 2, retryStrategy: recordingRetries(2, seen) });
    const out = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage()] });
    expect(out.Results?.[0].Status).toBe('Success');
    expect(out.$metadata.attempts).toBe(2);
    expect(seen).toEqual(['THROTTLING']);
  });
});

describe('injected faults', () => {
  it('fails before billing: HTTP 500 InternalServiceErrorException, nothing billed', async () => {
    const { sim, client } = await setup();
    sim.faults.set({ internalErrorBeforeBilling: 1 });
    const error = await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage()] }));
    expect(error).toBeInstanceOf(InternalServiceErrorException);
    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(error.$fault).toBe('server');
    expect(sim.ledger()).toEqual([]);
    expect(sim.faults.pending().internalErrorBeforeBilling).toBe(0);
    expect((await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage()] })).Results?.[0].Status).toBe('Success');
  });

  it('fails after billing (the answer is lost): a resend is Success with the billed id, billed once', async () => {
    const { sim, client } = await setup();
    sim.faults.set({ internalErrorAfterBilling: 1 });
    expect(await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage()] }))).toBeInstanceOf(InternalServiceErrorException);
    const [billed] = sim.ledger();
    expect(billed).toMatchObject({ customerKey: 'customer:cust-1', quantity: 5 });
    const resend = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage()] });
    expect(resend.Results?.[0]).toMatchObject({ Status: 'Success', MeteringRecordId: billed.meteringRecordId });
    expect(sim.ledger()).toHaveLength(1);
  });

  it('is a transient error to the SDK, whose retry over a lost answer bills once', async () => {
    const { sim } = await setup({ faults: { internalErrorAfterBilling: 1 } });
    const seen: string[] = [];
    const client = sim.client({ maxAttempts: 2, retryStrategy: recordingRetries(2, seen) });
    const out = await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage()] });
    expect(seen).toEqual(['TRANSIENT']);
    expect(out.Results?.[0].MeteringRecordId).toBe(sim.ledger()[0].meteringRecordId);
    expect(sim.ledger()).toHaveLength(1);
    expect(sim.calls().batchMeterUsage).toBe(2);
  });

  it('returns chosen records as UnprocessedRecords, unbilled, until they are resent', async () => {
    const { sim, client } = await setup();
    sim.faults.set({ unprocessed: (record) => record.Dimension === 'data_gb' });
    const records = [usage(), usage({ Dimension: 'data_gb', Quantity: 3 })];
    const out = await meter(client, { ProductCode: PRODUCT, UsageRecords: records });
    expect(out.Results?.map((r) => r.UsageRecord?.Dimension)).toEqual(['api_requests']);
    expect(out.UnprocessedRecords).toEqual([{ CustomerIdentifier: 'cust-1', Dimension: 'data_gb', Quantity: 3, Timestamp: new Date(LAST_HOUR) }]);
    expect(sim.ledger().map((e) => e.dimension)).toEqual(['api_requests']);
    sim.faults.set({ unprocessed: 1 }); // the next record only
    const partly = await meter(client, { ProductCode: PRODUCT, UsageRecords: out.UnprocessedRecords ?? [] });
    expect(partly.UnprocessedRecords).toHaveLength(1);
    const resent = await meter(client, { ProductCode: PRODUCT, UsageRecords: partly.UnprocessedRecords ?? [] });
    expect(resent.Results?.[0].Status).toBe('Success');
    expect(sim.ledger().map((e) => e.dimension)).toEqual(['api_requests', 'data_gb']);
  });

  it('adds latency and can disable the API', async () => {
    const { sim, client } = await setup();
    sim.faults.set({ latencyMs: 60 });
    const started = Date.now();
    await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage()] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    sim.faults.set({ apiDisabled: true });
    expect(await failure(meter(client, { ProductCode: PRODUCT, UsageRecords: [usage()] }))).toBeInstanceOf(DisabledApiException);
    sim.faults.clear();
    expect((await meter(client, { ProductCode: PRODUCT, UsageRecords: [usage()] })).Results?.[0].Status).toBe('Success');
  });
});

describe('ResolveCustomer', () => {
  it('resolves a registered token (more than once) to the customer’s identities and product', async () => {
    const { sim, client } = await setup();
    sim.registerToken('token-legacy', { productCode: PRODUCT, customerIdentifier: 'cust-1', customerAWSAccountId: LEGACY_ACCOUNT, expiresAt: T0 + HOUR });
    sim.registerToken('token-new', { productCode: PRODUCT, customerAWSAccountId: ACCOUNT_A, licenseArn: LICENSE_A, expiresAt: T0 + HOUR });
    const legacy = await client.send(new ResolveCustomerCommand({ RegistrationToken: 'token-legacy' }));
    expect(legacy).toMatchObject({ CustomerIdentifier: 'cust-1', CustomerAWSAccountId: LEGACY_ACCOUNT, ProductCode: PRODUCT });
    expect(legacy.LicenseArn).toBeUndefined();
    const current = await client.send(new ResolveCustomerCommand({ RegistrationToken: 'token-new' }));
    expect(current).toMatchObject({ CustomerAWSAccountId: ACCOUNT_A, LicenseArn: LICENSE_A, ProductCode: PRODUCT });
    expect(current.CustomerIdentifier).toBeUndefined();
    const again = await client.send(new ResolveCustomerCommand({ RegistrationToken: 'token-new' }));
    expect(again.LicenseArn).toBe(LICENSE_A);
    expect(sim.calls().resolveCustomer).toBe(3);
  });

  it('answers InvalidTokenException for an unknown token and ExpiredTokenException for an expired one', async () => {
    const { sim, client, clock } = await setup();
    sim.registerToken('token-1', { productCode: PRODUCT, customerAWSAccountId: ACCOUNT_A, licenseArn: LICENSE_A, expiresAt: T0 + HOUR });
    expect(await failure(client.send(new ResolveCustomerCommand({ RegistrationToken: 'forged' })))).toBeInstanceOf(InvalidTokenException);
    clock.now = T0 + HOUR;
    const expired = await failure(client.send(new ResolveCustomerCommand({ RegistrationToken: 'token-1' })));
    expect(expired).toBeInstanceOf(ExpiredTokenException);
    expect(expired.$metadata.httpStatusCode).toBe(400);
  });

  it('can refuse a token resolved before (tokenReuse: expire)', async () => {
    const { sim, client } = await setup({ tokenReuse: 'expire' });
    sim.registerToken('token-1', { productCode: PRODUCT, customerAWSAccountId: ACCOUNT_A, licenseArn: LICENSE_A, expiresAt: T0 + HOUR });
    await client.send(new ResolveCustomerCommand({ RegistrationToken: 'token-1' }));
    expect(await failure(client.send(new ResolveCustomerCommand({ RegistrationToken: 'token-1' })))).toBeInstanceOf(ExpiredTokenException);
  });
});
