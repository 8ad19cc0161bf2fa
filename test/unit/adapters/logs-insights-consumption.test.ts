import {
  CloudWatchLogsClient,
  GetQueryResultsCommand,
  StartQueryCommand,
  StopQueryCommand,
  type GetQueryResultsCommandOutput,
  type QueryStatus,
  type ResultField,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  consumptionQuery,
  LogsInsightsConsumptionSource,
  LogsInsightsQueryError,
  LogsInsightsResultError,
  LogsInsightsTimeoutError,
  MAX_QUERY_ROWS,
  type LogsInsightsConsumptionOptions,
} from '../../../adapters/cloudwatch/logs-insights-consumption';
import { consumptionFromEmfLines } from '../../../core/cost/emf-consumption';
import { CombinedConsumptionSource } from '../../../core/cost/combined-consumption';
import { ConsumptionRangeError } from '../../../core/cost/consumption';
import { consumptionLogGroups, consumptionSourceFromEnvironment } from '../../../functions/commons/consumption-sources';

const logsMock = mockClient(CloudWatchLogsClient);
const client = new CloudWatchLogsClient({ region: 'eu-west-1' });
const NS = 'SaasMetering/Tenants';
const D23 = Date.UTC(2026, 10, 23);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GROUPS = ['/aws/lambda/metering-random-strings', '/aws/lambda/metering-usage-events'];

/** A virtual clock: `sleep` advances it, so polling and timeouts are deterministic and instant. */
function fakeTime() {
  let clock = 5_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
  };
}

function source(options: Partial<LogsInsightsConsumptionOptions> = {}) {
  const time = fakeTime();
  return { time, source: new LogsInsightsConsumptionSource(client, { logGroups: GROUPS, namespace: NS, pollInitialMs: 500, pollMaxMs: 2000, timeoutMs: 10_000, ...time, ...options }) };
}

/** A result row as Logs Insights returns it: fields with text values (a group without a metric has no sum). */
function row(fields: { tenant?: string; namespace?: string; period: string; invocations?: string; duration?: string; capacity?: string }): ResultField[] {
  const out: ResultField[] = [];
  if (fields.tenant !== undefined) out.push({ field: 'tenant_id', value: fields.tenant });
  out.push({ field: 'namespace', value: fields.namespace ?? NS });
  out.push({ field: 'period', value: fields.period });
  if (fields.invocations !== undefined) out.push({ field: 'invocations', value: fields.invocations });
  if (fields.duration !== undefined) out.push({ field: 'duration_micros_sum', value: fields.duration });
  if (fields.capacity !== undefined) out.push({ field: 'capacity_units', value: fields.capacity });
  return out;
}

const done = (results: ResultField[][], bytesScanned = 1234): Partial<GetQueryResultsCommandOutput> => ({ status: 'Complete', results, statistics: { bytesScanned, recordsMatched: 1, recordsScanned: 1 } });
const status = (s: QueryStatus): Partial<GetQueryResultsCommandOutput> => ({ status: s, results: [] });

beforeEach(() => {
  logsMock.reset();
  logsMock.on(StartQueryCommand).resolves({ queryId: 'q-1' });
  logsMock.on(StopQueryCommand).resolves({ success: true });
});

describe('the query', () => {
  it('sums the three tenant metrics per tenant_id, namespace and bin, with no value spliced in', () => {
    const daily = consumptionQuery('DAILY');
    expect(daily).toContain('filter ispresent(tenant_id) and (ispresent(TenantInvocations) or ispresent(TenantDurationMs) or ispresent(TenantCapacityUnits))');
    expect(daily).toContain('`_aws.CloudWatchMetrics.0.Namespace` as namespace');
    expect(daily).toContain('floor(TenantDurationMs * 1000000 + 0.5) as duration_micros');
    expect(daily).toContain('sum(TenantInvocations) as invocations, sum(duration_micros) as duration_micros_sum, sum(TenantCapacityUnits) as capacity_units by tenant_id, namespace, bin(1d) as period');
    expect(consumptionQuery('HOURLY')).toBe(daily.replace('bin(1d)', 'bin(1h)'));
    expect(daily).not.toContain(NS);
  });

  it('runs over the range in whole seconds on the log groups, with the largest result limit', async () => {
    logsMock.on(GetQueryResultsCommand).resolves(done([]));
    await source().source.read({ start: D23, end: D23 + DAY }, 'DAILY');
    expect(logsMock).toHaveReceivedCommandTimes(StartQueryCommand, 1);
    expect(logsMock).toHaveReceivedCommandWith(StartQueryCommand, {
      logGroupIdentifiers: GROUPS,
      startTime: D23 / 1000,
      endTime: (D23 + DAY) / 1000,
      queryString: consumptionQuery('DAILY'),
      limit: MAX_QUERY_ROWS,
    });
    expect(logsMock).toHaveReceivedCommandWith(GetQueryResultsCommand, { queryId: 'q-1' });
  });
});

describe('polling', () => {
  it('polls with a doubling interval up to the cap until Complete', async () => {
    logsMock
      .on(GetQueryResultsCommand)
      .resolvesOnce(status('Scheduled'))
      .resolvesOnce(status('Running'))
      .resolvesOnce(status('Running'))
      .resolvesOnce(status('Running'))
      .resolvesOnce(done([row({ tenant: 'acme', period: '2026-11-23 00:00:00.000', invocations: '3' })], 4096));
    const { source: s, time } = source();
    await expect(s.read({ start: D23, end: D23 + DAY }, 'DAILY')).resolves.toEqual([{ tenantId: 'acme', stream: 'lambda_invocations', granularity: 'DAILY', start: D23, value: '3' }]);
    expect(time.sleeps).toEqual([500, 1000, 2000, 2000, 2000]);
    expect(s.lastRead).toEqual({ queries: 1, bytesScanned: 4096, otherNamespaceRows: 0, outsideRangeRows: 0 });
  });

  it.each<QueryStatus>(['Failed', 'Cancelled', 'Timeout', 'Unknown'])('throws when the query ends %s', async (ended) => {
    logsMock.on(GetQueryResultsCommand).resolvesOnce(status('Running')).resolvesOnce(status(ended));
    const error = await source().source.read({ start: D23, end: D23 + DAY }, 'DAILY').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogsInsightsQueryError);
    expect(error).toMatchObject({ queryId: 'q-1', status: ended, message: `Logs Insights query q-1 ended ${ended}` });
  });

  it('stops a query that outlives the timeout', async () => {
    logsMock.on(GetQueryResultsCommand).resolves(status('Running'));
    const { source: s, time } = source({ timeoutMs: 4000 });
    const error = await s.read({ start: D23, end: D23 + DAY }, 'DAILY').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogsInsightsTimeoutError);
    expect(error).toMatchObject({ queryId: 'q-1', elapsedMs: 4000, stopError: undefined });
    expect(time.sleeps).toEqual([500, 1000, 2000, 500]);
    expect(logsMock).toHaveReceivedCommandWith(StopQueryCommand, { queryId: 'q-1' });
  });

  it('says so when stopping failed too', async () => {
    logsMock.on(GetQueryResultsCommand).resolves(status('Running'));
    logsMock.on(StopQueryCommand).rejects(new Error('query already ended'));
    await expect(source({ timeoutMs: 1000 }).source.read({ start: D23, end: D23 + DAY }, 'DAILY')).rejects.toThrow(/was stopped \(StopQuery failed: query already ended\)/);
  });

  it('refuses a range that is not whole periods before querying', async () => {
    await expect(source().source.read({ start: D23 + HOUR, end: D23 + DAY }, 'DAILY')).rejects.toThrow(ConsumptionRangeError);
    expect(logsMock).toHaveReceivedCommandTimes(StartQueryCommand, 0);
  });
});

describe('results', () => {
  it('reads each stream exactly, leaving out other namespaces, periods past the range and absent sums', async () => {
    logsMock.on(GetQueryResultsCommand).resolves(
      done([
        row({ tenant: 'acme', period: '2026-11-23 10:00:00.000', invocations: '2', duration: '12345678', capacity: '2.5' }),
        row({ tenant: 'globex', period: '2026-11-23 10:00:00.000', capacity: '0.5' }),
        row({ tenant: 'acme', period: '2026-11-23 11:00:00.000', invocations: '1.5e+3', duration: '1e+21' }),
        row({ tenant: 'initech', period: '2026-11-23 11:00:00.000', invocations: '0', duration: '0', capacity: '' }),
        row({ tenant: 'acme', namespace: 'Other/App', period: '2026-11-23 10:00:00.000', invocations: '99' }),
        row({ tenant: 'acme', period: '2026-11-23 12:00:00.000', invocations: '1' }), // logged in the range's end second
      ]),
    );
    const { source: s } = source();
    await expect(s.read({ start: D23 + 10 * HOUR, end: D23 + 12 * HOUR }, 'HOURLY')).resolves.toEqual([
      { tenantId: 'acme', stream: 'dynamodb_capacity_units', granularity: 'HOURLY', start: D23 + 10 * HOUR, value: '2.5' },
      { tenantId: 'acme', stream: 'lambda_duration_ms', granularity: 'HOURLY', start: D23 + 10 * HOUR, value: '12.345678' },
      { tenantId: 'acme', stream: 'lambda_invocations', granularity: 'HOURLY', start: D23 + 10 * HOUR, value: '2' },
      { tenantId: 'globex', stream: 'dynamodb_capacity_units', granularity: 'HOURLY', start: D23 + 10 * HOUR, value: '0.5' },
      { tenantId: 'acme', stream: 'lambda_duration_ms', granularity: 'HOURLY', start: D23 + 11 * HOUR, value: '1000000000000000' },
      { tenantId: 'acme', stream: 'lambda_invocations', granularity: 'HOURLY', start: D23 + 11 * HOUR, value: '1500' },
    ]);
    expect(s.lastRead).toMatchObject({ otherNamespaceRows: 1, outsideRangeRows: 1 });
  });

  it('gives what the local rule gives for the same lines (sums as Logs Insights would compute them)', async () => {
    // The local source sums the lines themselves; here the sums those lines make are the query's rows.
    const line = (tenant: string, at: number, values: Record<string, number>) =>
      JSON.stringify({ _aws: { Timestamp: at, CloudWatchMetrics: [{ Namespace: NS, Dimensions: [['service', 'tenant_id']], Metrics: Object.keys(values).map((Name) => ({ Name, Unit: Name === 'TenantDurationMs' ? 'Milliseconds' : 'Count' })) }] }, service: 's', tenant_id: tenant, ...values });
    const lines = [line('acme', D23 + 1, { TenantInvocations: 1, TenantDurationMs: 10.5 }), line('acme', D23 + 2, { TenantInvocations: 1, TenantDurationMs: 0.25 }), line('globex', D23 + 3, { TenantCapacityUnits: 1.5 })];
    logsMock.on(GetQueryResultsCommand).resolves(
      done([
        row({ tenant: 'acme', period: '2026-11-23 00:00:00.000', invocations: '2', duration: String(Math.floor(10.5 * 1e6 + 0.5) + Math.floor(0.25 * 1e6 + 0.5)) }),
        row({ tenant: 'globex', period: '2026-11-23 00:00:00.000', capacity: '1.5' }),
      ]),
    );
    const range = { start: D23, end: D23 + DAY };
    await expect(source().source.read(range, 'DAILY')).resolves.toEqual(consumptionFromEmfLines(lines, { range, granularity: 'DAILY', namespace: NS }).records);
  });

  it.each([
    ['no tenant', row({ period: '2026-11-23 00:00:00.000', invocations: '1' }), /no tenant_id/],
    ['a period that is not a timestamp', row({ tenant: 'acme', period: 'yesterday', invocations: '1' }), /period is not a timestamp/],
    ['a period that is not a day', row({ tenant: 'acme', period: '2026-11-23 05:00:00.000', invocations: '1' }), /not the start of a UTC day/],
    ['a negative sum', row({ tenant: 'acme', period: '2026-11-23 00:00:00.000', invocations: '-1' }), /invocations is not a number ≥ 0/],
    ['a sum that is not a number', row({ tenant: 'acme', period: '2026-11-23 00:00:00.000', capacity: 'NaN' }), /capacity_units is not a number/],
  ])('refuses a row with %s', async (_, bad, message) => {
    logsMock.on(GetQueryResultsCommand).resolves(done([bad]));
    const error = await source().source.read({ start: D23, end: D23 + DAY }, 'DAILY').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogsInsightsResultError);
    expect((error as Error).message).toMatch(message);
  });

  it('queries at most 50 log groups at once and adds up the batches', async () => {
    const groups = Array.from({ length: 51 }, (_, i) => `/aws/lambda/fn-${i}`);
    logsMock.on(StartQueryCommand).resolvesOnce({ queryId: 'q-a' }).resolvesOnce({ queryId: 'q-b' });
    logsMock.on(GetQueryResultsCommand, { queryId: 'q-a' }).resolves(done([row({ tenant: 'acme', period: '2026-11-23 00:00:00.000', invocations: '2', capacity: '0.5' })], 10));
    logsMock.on(GetQueryResultsCommand, { queryId: 'q-b' }).resolves(done([row({ tenant: 'acme', period: '2026-11-23 00:00:00.000', invocations: '3', capacity: '1' })], 20));
    const { source: s } = source({ logGroups: groups });
    await expect(s.read({ start: D23, end: D23 + DAY }, 'DAILY')).resolves.toEqual([
      { tenantId: 'acme', stream: 'dynamodb_capacity_units', granularity: 'DAILY', start: D23, value: '1.5' },
      { tenantId: 'acme', stream: 'lambda_invocations', granularity: 'DAILY', start: D23, value: '5' },
    ]);
    expect(logsMock.commandCalls(StartQueryCommand).map((c) => c.args[0].input.logGroupIdentifiers?.length)).toEqual([50, 1]);
    expect(s.lastRead).toMatchObject({ queries: 2, bytesScanned: 30 });
  });

  it('splits a range whose result reached the row limit into halves of whole periods', async () => {
    const full = Array.from({ length: MAX_QUERY_ROWS }, (_, i) => row({ tenant: `t${i}`, period: '2026-11-23 00:00:00.000', invocations: '1' }));
    logsMock.on(StartQueryCommand).resolvesOnce({ queryId: 'q-all' }).resolvesOnce({ queryId: 'q-first' }).resolvesOnce({ queryId: 'q-second' });
    logsMock.on(GetQueryResultsCommand, { queryId: 'q-all' }).resolves(done(full));
    logsMock.on(GetQueryResultsCommand, { queryId: 'q-first' }).resolves(done([row({ tenant: 'acme', period: '2026-11-23 00:00:00.000', invocations: '4' })]));
    logsMock.on(GetQueryResultsCommand, { queryId: 'q-second' }).resolves(done([row({ tenant: 'acme', period: '2026-11-25 00:00:00.000', invocations: '6' })]));
    const records = await source().source.read({ start: D23, end: D23 + 3 * DAY }, 'DAILY');
    expect(records.map((r) => [r.start, r.value])).toEqual([
      [D23, '4'],
      [D23 + 2 * DAY, '6'],
    ]);
    expect(logsMock.commandCalls(StartQueryCommand).map((c) => [c.args[0].input.startTime, c.args[0].input.endTime])).toEqual([
      [D23 / 1000, (D23 + 3 * DAY) / 1000],
      [D23 / 1000, (D23 + DAY) / 1000],
      [(D23 + DAY) / 1000, (D23 + 3 * DAY) / 1000],
    ]);
  });

  it('refuses a single period with more tenants than one query returns', async () => {
    const full = Array.from({ length: MAX_QUERY_ROWS }, (_, i) => row({ tenant: `t${i}`, period: '2026-11-23 00:00:00.000', invocations: '1' }));
    logsMock.on(GetQueryResultsCommand).resolves(done(full));
    await expect(source().source.read({ start: D23, end: D23 + DAY }, 'DAILY')).rejects.toThrow(/DAILY period starting 2026-11-23T00:00:00.000Z reached the 10000-row limit/);
  });
});

describe('configuration', () => {
  it('needs log groups and a namespace', () => {
    expect(() => new LogsInsightsConsumptionSource(client, { logGroups: [], namespace: NS })).toThrow(/at least one log group/);
    expect(() => new LogsInsightsConsumptionSource(client, { logGroups: [' '], namespace: NS })).toThrow(/no empty name/);
    expect(() => new LogsInsightsConsumptionSource(client, { logGroups: GROUPS, namespace: '' })).toThrow(/namespace/);
    expect(() => new LogsInsightsConsumptionSource(client, { logGroups: GROUPS, namespace: NS, timeoutMs: 0 })).toThrow(/timeoutMs must be a positive number/);
  });

  it('reads CONSUMPTION_LOG_GROUPS as a comma-separated list', () => {
    expect(consumptionLogGroups(' /aws/lambda/a, /aws/lambda/b ,,')).toEqual(['/aws/lambda/a', '/aws/lambda/b']);
    expect(() => consumptionLogGroups(' , ')).toThrow(/CONSUMPTION_LOG_GROUPS must name at least one log group/);
    expect(() => consumptionLogGroups(undefined)).toThrow(/CONSUMPTION_LOG_GROUPS/);
  });

  it('builds the lake and Logs Insights sources from the environment, naming what is missing', () => {
    expect(() => consumptionSourceFromEnvironment({ ATHENA_WORKGROUP: 'wg' })).toThrow('missing environment variables: USAGE_DATABASE, CONSUMPTION_LOG_GROUPS, POWERTOOLS_METRICS_NAMESPACE');
    expect(() => consumptionSourceFromEnvironment({ ATHENA_WORKGROUP: 'wg', USAGE_DATABASE: 'db', CONSUMPTION_LOG_GROUPS: ',', POWERTOOLS_METRICS_NAMESPACE: NS })).toThrow(/at least one log group/);
    expect(consumptionSourceFromEnvironment({ ATHENA_WORKGROUP: 'wg', USAGE_DATABASE: 'db', CONSUMPTION_LOG_GROUPS: GROUPS.join(','), POWERTOOLS_METRICS_NAMESPACE: NS })).toBeInstanceOf(CombinedConsumptionSource);
  });
});
