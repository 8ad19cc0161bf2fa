/**
 * The scheduled CloudZero export function: configuration checked at cold start, the previous UTC day
 * (or the event's day) exported with the key from Secrets Manager to the local telemetry API, and a
 * failing export thrown. The consumption source factory is mocked; everything else is real.
 */
import type * as SecretsModule from '@aws-sdk/client-secrets-manager';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { ConsumptionRecord, ConsumptionSource, Granularity } from '../../../core/cost/consumption';
import { startLocalCloudZeroTelemetry, type LocalCloudZeroTelemetry } from '../../../local/cloudzero/telemetry-server';

/** The consumption the mocked factory's source serves, and the environments it was built with. */
const mockConsumption: { records: ConsumptionRecord[]; environments: NodeJS.ProcessEnv[] } = { records: [], environments: [] };

jest.mock('../../../functions/commons/consumption-sources', () => ({
  consumptionSourceFromEnvironment: (env: NodeJS.ProcessEnv): ConsumptionSource => {
    mockConsumption.environments.push({ ...env });
    return {
      async read(range: { start: number; end: number }, granularity: Granularity) {
        return mockConsumption.records.filter((r) => r.granularity === granularity && r.start >= range.start && r.start < range.end);
      },
    };
  },
}), { virtual: true });

type Handler = typeof import('../../../functions/cost-telemetry-export').handler;

const API_KEY = 'cz-test-key-0123456789';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:cloudzero-AbCdEf';
const DAY = Date.UTC(2026, 10, 20);
const DAY_MS = 86_400_000;

let cloudzero: LocalCloudZeroTelemetry;
beforeAll(async () => {
  cloudzero = await startLocalCloudZeroTelemetry({ apiKeys: [API_KEY], now: () => DAY + 3 * DAY_MS });
});
afterAll(async () => {
  await cloudzero.close();
});
beforeEach(() => {
  cloudzero.reset();
  cloudzero.faults.clear();
  mockConsumption.environments.length = 0;
  mockConsumption.records = [DAY - DAY_MS, DAY].flatMap((start) => [
    { tenantId: 'acme', stream: 'api_requests', granularity: 'DAILY', start, value: '120' },
    { tenantId: 'globex', stream: 'api_requests', granularity: 'DAILY', start, value: '80' },
    { tenantId: 'acme', stream: 'dynamodb_capacity_units', granularity: 'DAILY', start, value: '10.5' },
  ] satisfies ConsumptionRecord[]);
  jest.spyOn(Date, 'now').mockReturnValue(DAY + DAY_MS + 2 * 3_600_000); // 2026-11-21T02:00Z
});
afterEach(() => jest.restoreAllMocks());

function env(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { CLOUDZERO_SECRET_ARN: SECRET_ARN, CLOUDZERO_API_URL: cloudzero.endpoint, TELEMETRY_STREAM_PREFIX: 'saas-metering', POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_REGION: 'us-east-1', ...overrides };
}

/** Loads the handler in a fresh module registry with `environment`, with that registry's Secrets Manager client mocked. */
function loadHandler(environment: Record<string, string | undefined>, secret: Partial<SecretsModule.GetSecretValueCommandOutput> = { SecretString: API_KEY }): { handler: Handler; secrets: AwsStub<any, any, any> | undefined } {
  const saved = { ...process.env };
  for (const [key, value] of Object.entries(environment)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  let loaded: Handler | undefined;
  let secrets: AwsStub<any, any, any> | undefined;
  try {
    jest.isolateModules(() => {
      const sdk = jest.requireActual('@aws-sdk/client-secrets-manager') as typeof SecretsModule;
      secrets = mockClient(sdk.SecretsManagerClient);
      secrets.on(sdk.GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves(secret);
      loaded = jest.requireActual('../../../functions/cost-telemetry-export').handler;
    });
  } finally {
    process.env = saved;
  }
  return { handler: loaded!, secrets };
}

describe('cost-telemetry-export handler', () => {
  it('refuses to start with a configuration CloudZero would refuse, naming the problem', () => {
    expect(() => loadHandler(env({ CLOUDZERO_SECRET_ARN: undefined }))).toThrow('missing environment variables: CLOUDZERO_SECRET_ARN');
    expect(() => loadHandler(env({ TELEMETRY_STREAM_PREFIX: 'saas-metering/' }))).toThrow(/stream name "saas-metering\/.api_requests" is not allowed/);
    expect(() => loadHandler(env({ TELEMETRY_FILTER: '{"custom:Service": "metered-api"}' }))).toThrow(/TELEMETRY_FILTER\["custom:Service"\] must be a non-empty array/);
    expect(() => loadHandler(env({ TELEMETRY_STREAM_FILTERS: '{"cpu_seconds": null}' }))).toThrow(/TELEMETRY_STREAM_FILTERS names "cpu_seconds"/);
    expect(() => loadHandler(env({ TELEMETRY_GRANULARITY: 'WEEKLY' }))).toThrow(/TELEMETRY_GRANULARITY must be DAILY or HOURLY/);
    expect(() => loadHandler(env({ CLOUDZERO_TELEMETRY_OPERATION: 'upsert' }))).toThrow(/CLOUDZERO_TELEMETRY_OPERATION must be one of replace, sum, legacy/);
  });

  it('exports the previous UTC day on a scheduled run, with the key from the secret', async () => {
    const { handler, secrets } = loadHandler(env({ TELEMETRY_FILTER: '{"custom:Service": ["metered-api"]}', TELEMETRY_STREAM_FILTERS: '{"dynamodb_capacity_units": {"service": ["AmazonDynamoDB"]}}' }));
    const report = await handler({});
    expect(report).toMatchObject({ day: '2026-11-20', ok: true, telemetryRecords: 3, recordsSent: 3 });
    expect(cloudzero.records().map((r) => [r.stream, r.timestamp, r.elementName, r.filter, r.value])).toEqual([
      ['saas-metering.api_requests', '2026-11-20T00:00:00.000Z', 'acme', { 'custom:Service': ['metered-api'] }, '120'],
      ['saas-metering.api_requests', '2026-11-20T00:00:00.000Z', 'globex', { 'custom:Service': ['metered-api'] }, '80'],
      ['saas-metering.dynamodb_capacity_units', '2026-11-20T00:00:00.000Z', 'acme', { service: ['AmazonDynamoDB'] }, '10.5'],
    ]);
    expect(cloudzero.requestLog().map((r) => r.path)).toEqual([
      '/unit-cost/v1/telemetry/allocation/saas-metering.api_requests/replace',
      '/unit-cost/v1/telemetry/allocation/saas-metering.dynamodb_capacity_units/replace',
    ]);
    expect(secrets!.calls()).toHaveLength(1);
    expect(mockConsumption.environments).toHaveLength(1);
    expect(mockConsumption.environments[0].CLOUDZERO_SECRET_ARN).toBe(SECRET_ARN);
    // A warm invocation reads the key from the cache.
    await handler(null);
    expect(secrets!.calls()).toHaveLength(1);
  });

  it('exports the day the event names, at the configured granularity and operation', async () => {
    const { handler } = loadHandler(env({ CLOUDZERO_TELEMETRY_OPERATION: 'sum' }));
    const report = await handler({ day: '2026-11-19' });
    expect(report).toMatchObject({ day: '2026-11-19', granularity: 'DAILY', ok: true, recordsSent: 3 });
    expect(cloudzero.records().every((r) => r.timestamp === '2026-11-19T00:00:00.000Z')).toBe(true);
    expect(cloudzero.requestLog().every((r) => r.operation === 'sum')).toBe(true);
  });

  it('refuses a day that is not over and a day that is not a date', async () => {
    const { handler } = loadHandler(env());
    await expect(handler({ day: '2026-11-21' })).rejects.toThrow(/day 2026-11-21 is not over yet/);
    await expect(handler({ day: 20261120 as never })).rejects.toThrow(/"day" must be a UTC date written yyyy-mm-dd/);
    await expect(handler({ day: '21/11/2026' })).rejects.toThrow(/yyyy-mm-dd/);
    expect(cloudzero.requestLog()).toEqual([]);
  });

  it('throws when a request is not accepted, so the schedule retries and dead-letters the run', async () => {
    const { handler } = loadHandler(env(), { SecretString: JSON.stringify({ apiKey: 'revoked-key' }) });
    await expect(handler({})).rejects.toThrow(
      "CloudZero telemetry export for 2026-11-20 failed: 2 of 2 requests (3 records) were not accepted: saas-metering.api_requests: HTTP 403: Not authorized, make sure you're using a valid API key in the header Authorization; saas-metering.dynamodb_capacity_units: not sent: an earlier request was refused with HTTP 403",
    );
  });

  it('fails with the secret named when the key cannot be used', async () => {
    const { handler } = loadHandler(env(), { SecretString: '  ' });
    await expect(handler({})).rejects.toThrow(`the CloudZero API key secret ${SECRET_ARN} is empty`);
    expect(cloudzero.requestLog()).toEqual([]);
  });
});
