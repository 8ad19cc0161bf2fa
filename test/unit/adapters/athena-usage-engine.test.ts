import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { AthenaQueryRunner } from '../../../adapters/athena/athena-query-runner';
import { AthenaUsageEngine } from '../../../adapters/athena/athena-usage-engine';
import { queryRequestGroups } from '../../../core/usage/request-usage-query';

const athena = mockClient(AthenaClient);
afterEach(() => athena.reset());

const column = (Name: string, Type: string) => ({ Name, Type });
const row = (...values: (string | undefined)[]) => ({ Data: values.map((VarCharValue) => ({ VarCharValue })) });

describe('AthenaUsageEngine', () => {
  it('passes the hour bounds as quoted execution parameters and reads typed groups with the bytes scanned', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 12_345, EngineExecutionTimeInMillis: 800 } } });
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: [column('tenant_id', 'varchar'), column('usage_hour', 'varchar'), column('resource_path', 'varchar'), column('http_method', 'varchar'), column('status', 'integer'), column('requests', 'bigint'), column('response_bytes', 'bigint')] },
        Rows: [
          row('tenant_id', 'usage_hour', 'resource_path', 'http_method', 'status', 'requests', 'response_bytes'),
          row('acme', '2026-11-23 10:00:00.000', '/random/strings', 'GET', '200', '42', '4200'),
        ],
      },
    });
    const engine = new AthenaUsageEngine(new AthenaQueryRunner(new AthenaClient({ region: 'us-east-1' }), { workGroup: 'usage', database: 'usage_db', sleep: async () => undefined }));
    const start = Date.UTC(2026, 10, 23, 10);
    const result = await queryRequestGroups(engine, 'SELECT … WHERE request_time >= CAST(? AS timestamp) AND request_time < CAST(? AS timestamp)', { start, end: start + 3_600_000 });

    const call = athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input;
    expect(call.ExecutionParameters).toEqual(["'2026-11-23 10:00:00.000'", "'2026-11-23 11:00:00.000'"]);
    expect(call.QueryString).not.toContain('2026-11-23');
    expect(call.WorkGroup).toBe('usage');
    expect(result).toEqual({ bytesScanned: 12_345, groups: [{ tenantId: 'acme', hour: start, resourcePath: '/random/strings', httpMethod: 'GET', status: 200, requests: 42, responseBytes: 4200 }] });
  });

  it('surfaces Athena\'s failure reason', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-2' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'TABLE_NOT_FOUND: line 1:15: Table access_logs does not exist' } } });
    const engine = new AthenaUsageEngine(new AthenaQueryRunner(new AthenaClient({ region: 'us-east-1' }), { workGroup: 'usage', sleep: async () => undefined }));
    await expect(engine.query({ sql: 'SELECT 1', parameters: [], timeRange: { start: 0, end: 1 } })).rejects.toThrow(/Table access_logs does not exist/);
  });
});
