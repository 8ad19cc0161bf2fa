import type * as AthenaModule from '@aws-sdk/client-athena';
import type * as DynamoModule from '@aws-sdk/lib-dynamodb';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';

// The SDK reads the region when it sends, after loadHandler restored the environment.
process.env.AWS_REGION ??= 'us-east-1';
const ENV = { USAGE_TABLE: 'usage', ATHENA_WORKGROUP: 'wg', USAGE_DATABASE: 'db', INGESTION_DELAY_SECONDS: '120', POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_NAMESPACE: 'SaaSMetering/Tenants', POWERTOOLS_METRICS_DISABLED: 'true', AWS_REGION: 'us-east-1' };

type Handler = typeof import('../../../functions/usage-aggregator').handler;

/**
 * Loads the handler in a fresh module registry with `env` (it reads its configuration at load), with
 * the SDK clients of that registry mocked.
 */
function loadHandler(env: Record<string, string | undefined>, mock?: (athena: AwsStub<any, any, any>, dynamo: AwsStub<any, any, any>, sdk: { athena: typeof AthenaModule; dynamo: typeof DynamoModule }) => void): Handler {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    let handler: Handler | undefined;
    jest.isolateModules(() => {
      const athenaSdk = jest.requireActual('@aws-sdk/client-athena') as typeof AthenaModule;
      const dynamoSdk = jest.requireActual('@aws-sdk/lib-dynamodb') as typeof DynamoModule;
      mock?.(mockClient(athenaSdk.AthenaClient), mockClient(dynamoSdk.DynamoDBDocumentClient), { athena: athenaSdk, dynamo: dynamoSdk });
      handler = jest.requireActual('../../../functions/usage-aggregator').handler;
    });
    return handler!;
  } finally {
    process.env = saved;
  }
}

describe('usage-aggregator handler', () => {
  it('refuses to start without its configuration, naming what is missing', () => {
    expect(() => loadHandler({ ...ENV, USAGE_TABLE: '', ATHENA_WORKGROUP: '' })).toThrow('missing environment variables: USAGE_TABLE, ATHENA_WORKGROUP');
    expect(() => loadHandler({ ...ENV, INGESTION_DELAY_SECONDS: 'soon' })).toThrow(/INGESTION_DELAY_SECONDS must be a whole number/);
  });

  it('backfills the hours it is given: the request and meter queries, one conditional write per usage hour, then the hour mark', async () => {
    let athenaStub: AwsStub<any, any, any> | undefined;
    let dynamoStub: AwsStub<any, any, any> | undefined;
    let sdk: { athena: typeof AthenaModule; dynamo: typeof DynamoModule } | undefined;
    const handler = loadHandler(ENV, (athena, dynamo, modules) => {
      athenaStub = athena;
      dynamoStub = dynamo;
      sdk = modules;
      athena.on(modules.athena.StartQueryExecutionCommand).resolvesOnce({ QueryExecutionId: 'requests' }).resolvesOnce({ QueryExecutionId: 'meters' });
      athena.on(modules.athena.GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 10_485_760 } } });
      const meterColumns = ['tenant_id', 'meter', 'usage_hour', 'events', 'quantity_sum', 'quantity_max', 'quantity_latest', 'unique_values'];
      athena.on(modules.athena.GetQueryResultsCommand, { QueryExecutionId: 'meters' }).resolves({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: meterColumns.map((Name) => ({ Name, Type: 'varchar' })) },
          Rows: [
            { Data: meterColumns.map((v) => ({ VarCharValue: v })) },
            { Data: ['acme', 'tokens', '2026-11-23 10:00:00.000', '2', '1500.000000', '1000.000000', '500.000000', '0'].map((v) => ({ VarCharValue: v })) },
          ],
        },
      });
      athena.on(modules.athena.GetQueryResultsCommand, { QueryExecutionId: 'requests' }).resolves({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: ['tenant_id', 'usage_hour', 'resource_path', 'http_method', 'status', 'requests', 'response_bytes'].map((Name, i) => ({ Name, Type: i >= 4 ? 'bigint' : 'varchar' })) },
          Rows: [
            { Data: ['tenant_id', 'usage_hour', 'resource_path', 'http_method', 'status', 'requests', 'response_bytes'].map((v) => ({ VarCharValue: v })) },
            { Data: ['acme', '2026-11-23 10:00:00.000', '/random/strings', 'GET', '200', '3', '300'].map((v) => ({ VarCharValue: v })) },
          ],
        },
      });
      dynamo.on(modules.dynamo.UpdateCommand).resolves({ Attributes: {} });
    });
    const report = await handler({ from: '2026-11-23T10', to: '2026-11-23T10' });
    expect(report).toMatchObject({ firstHour: '2026-11-23T10', lastHour: '2026-11-23T10', engine: 'athena', bytesScanned: 2 * 10_485_760, measurements: 3, outcomes: { created: 3 } });
    const updates = dynamoStub!.commandCalls(sdk!.dynamo.UpdateCommand).map((c) => c.args[0].input);
    expect(updates.map((u) => u.Key?.pk).sort()).toEqual(['HOUR#2026-11-23T10', 'SERIES#acme#api_requests', 'SERIES#acme#response_bytes', 'SERIES#acme#tokens']);
    expect(updates.at(-1)?.Key?.pk).toBe('HOUR#2026-11-23T10');
    for (const update of updates.slice(0, 3)) expect(update.ConditionExpression).toContain('attribute_not_exists(sentAt)');
    const queries = athenaStub!.commandCalls(sdk!.athena.StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(queries).toHaveLength(2);
    expect(queries[1].QueryString).toContain('FROM usage_events');
    for (const query of queries) expect(query.ExecutionParameters).toEqual(["'2026-11-23 10:00:00.000'", "'2026-11-23 11:00:00.000'"]);
  });

  it('rejects a backfill with only one end or an inverted range', async () => {
    const handler = loadHandler(ENV);
    await expect(handler({ from: '2026-11-23T10' })).rejects.toThrow(/both "from" and "to"/);
    await expect(handler({ from: '2026-11-23T10', to: '2026-11-23T09' })).rejects.toThrow(/"to" must not be before "from"/);
  });
});

describe('usage-aggregator backfill limits', () => {
  it('refuses an hour that has not ended, and more than a month at once', async () => {
    const handler = loadHandler(ENV);
    const open = new Date(Date.now()).toISOString().slice(0, 13);
    await expect(handler({ from: open, to: open })).rejects.toThrow(/an hour that has ended/);
    await expect(handler({ from: '2025-01-01T00', to: '2025-03-01T00' })).rejects.toThrow(/at most 744 hours/);
  });
});
