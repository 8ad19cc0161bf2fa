import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type GetQueryExecutionCommandOutput,
  type GetQueryResultsCommandOutput,
  type QueryExecutionState,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  AthenaQueryRunner,
  QueryFailedError,
  QueryTimeoutError,
  convertValue,
  sqlLiteral,
  type AthenaQueryRunnerOptions,
} from '../../../adapters/athena/athena-query-runner';

const athenaMock = mockClient(AthenaClient);
const client = new AthenaClient({ region: 'eu-west-1' });
const QUERY_ID = 'qe-1234';

/** A virtual clock: `sleep` advances it, so timeouts are deterministic and instant. */
function fakeTime() {
  let clock = 1_000_000;
  const sleep = jest.fn(async (ms: number) => {
    clock += ms;
  });
  return { sleep, now: () => clock };
}

function runner(options: Partial<AthenaQueryRunnerOptions> = {}) {
  const time = fakeTime();
  return {
    time,
    runner: new AthenaQueryRunner(client, { workGroup: 'usage', database: 'usage_lake', ...time, ...options }),
  };
}

function execution(state: QueryExecutionState, extra: Partial<NonNullable<GetQueryExecutionCommandOutput['QueryExecution']>> = {}) {
  return { QueryExecution: { QueryExecutionId: QUERY_ID, Status: { State: state }, ...extra } };
}

beforeEach(() => {
  athenaMock.reset();
  athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
  athenaMock.on(StopQueryExecutionCommand).resolves({});
});

describe('runQuery', () => {
  it('polls with exponential backoff capped at pollMaxMs until SUCCEEDED and reports the statistics', async () => {
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('QUEUED'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(
        execution('SUCCEEDED', { Statistics: { DataScannedInBytes: 10_485_760, EngineExecutionTimeInMillis: 1234 } }),
      );
    const { runner: r, time } = runner();

    const result = await r.runQuery('SELECT 1');

    expect(result).toEqual({ queryExecutionId: QUERY_ID, dataScannedBytes: 10_485_760, engineExecutionTimeMs: 1234 });
    expect(time.sleep.mock.calls.map(([ms]) => ms)).toEqual([200, 400, 800, 1600, 2000, 2000]);
    expect(athenaMock).toHaveReceivedCommandTimes(GetQueryExecutionCommand, 6);
    expect(athenaMock).toHaveReceivedCommandWith(GetQueryExecutionCommand, { QueryExecutionId: QUERY_ID });
    expect(athenaMock).not.toHaveReceivedCommand(StopQueryExecutionCommand);
  });

  it('starts the query in the workgroup with the database and catalog as context', async () => {
    athenaMock.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    const { runner: r } = runner({ catalog: 'AwsDataCatalog' });

    const result = await r.runQuery('SHOW TABLES');

    expect(athenaMock).toHaveReceivedCommandTimes(StartQueryExecutionCommand, 1);
    const input = athenaMock.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(input).toEqual({
      QueryString: 'SHOW TABLES',
      WorkGroup: 'usage',
      QueryExecutionContext: { Database: 'usage_lake', Catalog: 'AwsDataCatalog' },
    });
    expect(result).toEqual({ queryExecutionId: QUERY_ID, dataScannedBytes: 0, engineExecutionTimeMs: 0 });
  });

  it('uses custom polling intervals', async () => {
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('SUCCEEDED'));
    const { runner: r, time } = runner({ pollInitialMs: 50, pollMaxMs: 120 });

    await r.runQuery('SELECT 1');

    expect(time.sleep.mock.calls.map(([ms]) => ms)).toEqual([50, 100, 120]);
  });

  it('passes execution parameters through and leaves the SQL text untouched', async () => {
    athenaMock.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    const { runner: r } = runner();
    const sql = 'SELECT count(*) FROM access_logs WHERE tenant_id = ? AND request_time >= ?';
    const parameters = [sqlLiteral("o'brien"), "TIMESTAMP '2024-05-01 10:00:00'"];

    await r.runQuery(sql, parameters);

    expect(athenaMock).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: sql,
      ExecutionParameters: ["'o''brien'", "TIMESTAMP '2024-05-01 10:00:00'"],
    });
  });

  it('sends no ExecutionParameters for an empty parameter list', async () => {
    athenaMock.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    const { runner: r } = runner();

    await r.runQuery('SELECT 1', []);

    const input = athenaMock.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(input).not.toHaveProperty('ExecutionParameters');
  });

  it("throws QueryFailedError with Athena's own reason, the execution id and the error codes", async () => {
    const reason = "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.usage_lake.nope' does not exist";
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(
        execution('FAILED', {
          Status: {
            State: 'FAILED',
            StateChangeReason: reason,
            AthenaError: { ErrorCategory: 2, ErrorType: 1006, Retryable: false, ErrorMessage: 'short' },
          },
        }),
      );
    const { runner: r } = runner();

    const error = await r.runQuery('SELECT * FROM nope').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(QueryFailedError);
    const failed = error as QueryFailedError;
    expect(failed.message).toBe(`${reason} (query execution ${QUERY_ID} FAILED, ErrorCategory 2, ErrorType 1006)`);
    expect(failed).toMatchObject({
      name: 'QueryFailedError',
      queryExecutionId: QUERY_ID,
      state: 'FAILED',
      reason,
      errorCategory: 2,
      errorType: 1006,
      retryable: false,
    });
    expect(athenaMock).not.toHaveReceivedCommand(StopQueryExecutionCommand);
  });

  it('reports a failure without AthenaError details with the reason and id only', async () => {
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolves(execution('FAILED', { Status: { State: 'FAILED', StateChangeReason: 'Access denied' } }));
    const { runner: r } = runner();

    await expect(r.runQuery('SELECT 1')).rejects.toThrow(
      new QueryFailedError(QUERY_ID, 'FAILED', 'Access denied'),
    );
    await expect(r.runQuery('SELECT 1')).rejects.toThrow(`Access denied (query execution ${QUERY_ID} FAILED)`);
  });

  it('throws QueryFailedError for a cancelled query', async () => {
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('CANCELLED', { Status: { State: 'CANCELLED' } }));
    const { runner: r } = runner();

    const error = (await r.runQuery('SELECT 1').catch((e: unknown) => e)) as QueryFailedError;

    expect(error).toBeInstanceOf(QueryFailedError);
    expect(error.state).toBe('CANCELLED');
    expect(error.message).toBe(`Query was cancelled (query execution ${QUERY_ID} CANCELLED)`);
  });

  it('stops the query and throws QueryTimeoutError once the timeout has passed', async () => {
    athenaMock.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    const { runner: r, time } = runner({ timeoutMs: 1000 });

    const error = (await r.runQuery('SELECT 1').catch((e: unknown) => e)) as QueryTimeoutError;

    expect(error).toBeInstanceOf(QueryTimeoutError);
    expect(error.queryExecutionId).toBe(QUERY_ID);
    expect(error.elapsedMs).toBe(1000);
    expect(error.message).toBe(`Athena query execution ${QUERY_ID} did not finish within 1000 ms and was stopped`);
    // 200 + 400, then the last wait is cut to what is left of the timeout: never sleeps past it.
    expect(time.sleep.mock.calls.map(([ms]) => ms)).toEqual([200, 400, 400]);
    expect(athenaMock).toHaveReceivedCommandTimes(GetQueryExecutionCommand, 3);
    expect(athenaMock).toHaveReceivedCommandTimes(StopQueryExecutionCommand, 1);
    expect(athenaMock).toHaveReceivedCommandWith(StopQueryExecutionCommand, { QueryExecutionId: QUERY_ID });
  });

  it('lets one call override the timeout', async () => {
    athenaMock.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    const { runner: r } = runner({ timeoutMs: 60_000 });

    const error = (await r.runQuery('SELECT 1', undefined, { timeoutMs: 300 }).catch((e: unknown) => e)) as QueryTimeoutError;

    expect(error).toBeInstanceOf(QueryTimeoutError);
    expect(error.elapsedMs).toBe(300);
  });

  it('still throws QueryTimeoutError, naming the stop failure, when StopQueryExecution fails', async () => {
    athenaMock.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    athenaMock.on(StopQueryExecutionCommand).rejects(new Error('AccessDeniedException: not allowed'));
    const { runner: r } = runner({ timeoutMs: 500 });

    const error = (await r.runQuery('SELECT 1').catch((e: unknown) => e)) as QueryTimeoutError;

    expect(error).toBeInstanceOf(QueryTimeoutError);
    expect(error.stopError).toBe('AccessDeniedException: not allowed');
    expect(error.message).toContain(QUERY_ID);
    expect(error.message).toContain('StopQueryExecution failed: AccessDeniedException: not allowed');
  });

  it('succeeds on the poll that lands on the deadline instead of stopping a finished query', async () => {
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('SUCCEEDED'));
    const { runner: r } = runner({ timeoutMs: 600 });

    await expect(r.runQuery('SELECT 1')).resolves.toMatchObject({ queryExecutionId: QUERY_ID });
    expect(athenaMock).not.toHaveReceivedCommand(StopQueryExecutionCommand);
  });

  it('rejects nonsensical settings', () => {
    expect(() => new AthenaQueryRunner(client, { workGroup: 'w', timeoutMs: 0 })).toThrow(RangeError);
    expect(() => new AthenaQueryRunner(client, { workGroup: 'w', pollInitialMs: -1 })).toThrow(RangeError);
  });
});

describe('fetchRows', () => {
  const columns = [
    { Name: 'tenant_id', Type: 'varchar' },
    { Name: 'requests', Type: 'bigint' },
  ];
  const header = { Data: [{ VarCharValue: 'tenant_id' }, { VarCharValue: 'requests' }] };
  const row = (tenant: string, requests: string) => ({ Data: [{ VarCharValue: tenant }, { VarCharValue: requests }] });
  const page = (rows: object[], nextToken?: string): GetQueryResultsCommandOutput => ({
    $metadata: {},
    ResultSet: { Rows: rows, ResultSetMetadata: { ColumnInfo: columns } },
    NextToken: nextToken,
  });

  it('follows NextToken across three pages and skips the header row of the first page only', async () => {
    athenaMock
      .on(GetQueryResultsCommand)
      .resolvesOnce(page([header, row('acme', '10'), row('globex', '20')], 'token-2'))
      // A data row that happens to read like the header, first on a later page: it is data.
      .resolvesOnce(page([row('tenant_id', '30'), row('initech', '40')], 'token-3'))
      .resolvesOnce(page([row('umbrella', '50')]));
    const { runner: r } = runner();

    const rows = await r.fetchRows(QUERY_ID);

    expect(rows).toEqual([
      { tenant_id: 'acme', requests: 10n },
      { tenant_id: 'globex', requests: 20n },
      { tenant_id: 'tenant_id', requests: 30n },
      { tenant_id: 'initech', requests: 40n },
      { tenant_id: 'umbrella', requests: 50n },
    ]);
    const calls = athenaMock.commandCalls(GetQueryResultsCommand).map((call) => call.args[0].input);
    expect(calls).toEqual([
      { QueryExecutionId: QUERY_ID, NextToken: undefined, MaxResults: 1000 },
      { QueryExecutionId: QUERY_ID, NextToken: 'token-2', MaxResults: 1000 },
      { QueryExecutionId: QUERY_ID, NextToken: 'token-3', MaxResults: 1000 },
    ]);
  });

  it('keeps the first row when it is not a header (statements without one)', async () => {
    athenaMock.on(GetQueryResultsCommand).resolves(page([row('acme', '1')]));
    const { runner: r } = runner();

    await expect(r.fetchRows(QUERY_ID)).resolves.toEqual([{ tenant_id: 'acme', requests: 1n }]);
  });

  it('returns no rows for a result with only the header', async () => {
    athenaMock.on(GetQueryResultsCommand).resolves(page([header]));
    const { runner: r } = runner();

    await expect(r.fetchRows(QUERY_ID)).resolves.toEqual([]);
  });

  it('converts every value by its column type, with nulls and exact big integers and decimals', async () => {
    const typed = [
      { Name: 'name', Type: 'varchar' },
      { Name: 'small', Type: 'integer' },
      { Name: 'tiny', Type: 'tinyint' },
      { Name: 'big', Type: 'bigint' },
      { Name: 'amount', Type: 'decimal', Precision: 38, Scale: 9 },
      { Name: 'ratio', Type: 'double' },
      { Name: 'ok', Type: 'boolean' },
      { Name: 'at', Type: 'timestamp' },
      { Name: 'day', Type: 'date' },
      { Name: 'tags', Type: 'array' },
    ];
    const labels = { Data: typed.map((c) => ({ VarCharValue: c.Name })) };
    const values = {
      Data: [
        { VarCharValue: '' },
        { VarCharValue: '-2147483648' },
        { VarCharValue: '7' },
        { VarCharValue: '9007199254740993' },
        { VarCharValue: '12345678901234567890.123456789' },
        { VarCharValue: '0.1' },
        { VarCharValue: 'true' },
        { VarCharValue: '2024-05-01 10:00:00.123456' },
        { VarCharValue: '2024-05-01' },
        { VarCharValue: '[a, b]' },
      ],
    };
    const nulls = { Data: typed.map(() => ({})) };
    athenaMock.on(GetQueryResultsCommand).resolves({
      ResultSet: { Rows: [labels, values, nulls], ResultSetMetadata: { ColumnInfo: typed } },
    });
    const { runner: r } = runner();

    const [first, second, ...rest] = await r.fetchRows(QUERY_ID);

    expect(rest).toEqual([]);
    expect(first).toEqual({
      name: '',
      small: -2147483648,
      tiny: 7,
      big: 9007199254740993n,
      amount: '12345678901234567890.123456789',
      ratio: 0.1,
      ok: true,
      at: '2024-05-01T10:00:00.123456Z',
      day: '2024-05-01',
      tags: '[a, b]',
    });
    expect(typeof first!.big).toBe('bigint');
    expect(second).toEqual(Object.fromEntries(typed.map((c) => [c.Name, null])));
  });
});

describe('convertValue', () => {
  it('parses floating-point specials and timestamps with time zone', () => {
    expect(convertValue('NaN', 'double')).toBeNaN();
    expect(convertValue('-Infinity', 'real')).toBe(-Infinity);
    expect(convertValue('1.5E10', 'double')).toBe(15_000_000_000);
    expect(convertValue('false', 'boolean')).toBe(false);
    expect(convertValue('2024-05-01 10:00:00.000 UTC', 'timestamp with time zone')).toBe('2024-05-01T10:00:00.000Z');
    expect(convertValue('2024-05-01 12:00:00.000 Europe/Paris', 'timestamp with time zone')).toBe(
      '2024-05-01 12:00:00.000 Europe/Paris',
    );
    expect(convertValue('-12', 'smallint')).toBe(-12);
    expect(convertValue('-9223372036854775808', 'bigint')).toBe(-9223372036854775808n);
  });

  it('refuses a value that does not parse as its type instead of returning NaN', () => {
    expect(() => convertValue('12abc', 'integer')).toThrow(TypeError);
    expect(() => convertValue('1.5', 'bigint')).toThrow(TypeError);
    expect(() => convertValue('abc', 'double')).toThrow(TypeError);
    expect(() => convertValue('yes', 'boolean')).toThrow(TypeError);
  });
});

describe('sqlLiteral', () => {
  it('quotes strings with embedded quotes doubled and writes other values as literals', () => {
    expect(sqlLiteral("it's")).toBe("'it''s'");
    expect(sqlLiteral("'; DROP TABLE x; --")).toBe("'''; DROP TABLE x; --'");
    expect(sqlLiteral(42)).toBe('42');
    expect(sqlLiteral(12345678901234567890n)).toBe('12345678901234567890');
    expect(sqlLiteral(true)).toBe('true');
    expect(sqlLiteral(null)).toBe('NULL');
    expect(() => sqlLiteral(Number.NaN)).toThrow(RangeError);
  });
});
