import { Logger } from '@aws-lambda-powertools/logger';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { QueryFailedError, QueryTimeoutError } from '../../../adapters/athena/athena-query-runner';
import { IncompatibleSchemaChangeError, InvalidDdlRequestError } from '../../../core/lake/ddl-plan';
import { TIMEOUT_MARGIN_MS, createHandler, handler } from '../../../functions/ddl-runner';

const athenaMock = mockClient(AthenaClient);

const CREATE =
  'CREATE TABLE IF NOT EXISTS `usage_lake`.`access_logs` (`request_id` string, `request_time` timestamp) ' +
  "PARTITIONED BY (hour(`request_time`)) LOCATION 's3://lake/access_logs/' TBLPROPERTIES ('table_type' = 'ICEBERG')";
const INPUT = {
  database: 'usage_lake',
  workGroup: 'usage-metering',
  table: 'access_logs',
  create: CREATE,
  columns: [
    { name: 'request_id', type: 'string' },
    { name: 'request_time', type: 'timestamp' },
  ],
  dropOnDestroy: false,
};

function setup(statementTimeoutMs?: number) {
  let clock = 0;
  const logger = new Logger({ serviceName: 'ddl-runner-test', logLevel: 'SILENT' });
  const info = jest.spyOn(logger, 'info');
  const warn = jest.spyOn(logger, 'warn');
  const error = jest.spyOn(logger, 'error');
  const run = createHandler({
    athena: new AthenaClient({ region: 'eu-west-1' }),
    logger,
    sleep: async (ms) => {
      clock += ms;
    },
    now: () => clock,
    statementTimeoutMs,
  });
  return { run, info, warn, error };
}

function succeedWith(...ids: string[]) {
  const start = athenaMock.on(StartQueryExecutionCommand);
  ids.forEach((id) => start.resolvesOnce({ QueryExecutionId: id }));
  athenaMock
    .on(GetQueryExecutionCommand)
    .callsFake(({ QueryExecutionId }: { QueryExecutionId: string }) => ({
      QueryExecution: { QueryExecutionId, Status: { State: 'SUCCEEDED' }, Statistics: { EngineExecutionTimeInMillis: 900 } },
    }));
}

function startedQueries(): string[] {
  return athenaMock.commandCalls(StartQueryExecutionCommand).map((call) => call.args[0].input.QueryString ?? '');
}

beforeEach(() => {
  athenaMock.reset();
});

it('create runs the DDL in the input workgroup and logs its execution id', async () => {
  succeedWith('qe-create');
  const { run, info } = setup();

  const result = await run({ ...INPUT, tf: { action: 'create', prev_input: null } });

  expect(result).toEqual({ action: 'create', statements: 1, queryExecutionIds: ['qe-create'], warnings: [] });
  expect(athenaMock).toHaveReceivedCommandTimes(StartQueryExecutionCommand, 1);
  expect(athenaMock).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
    QueryString: CREATE,
    WorkGroup: 'usage-metering',
    QueryExecutionContext: { Database: 'usage_lake' },
  });
  expect(info).toHaveBeenCalledWith(
    'DDL statement succeeded',
    expect.objectContaining({ queryExecutionId: 'qe-create', table: 'usage_lake.access_logs', step: '1/1' }),
  );
});

it('a direct invocation without the tf key creates the table', async () => {
  succeedWith('qe-direct');
  const { run } = setup();

  await expect(run(INPUT)).resolves.toMatchObject({ action: 'create', queryExecutionIds: ['qe-direct'] });
  expect(startedQueries()).toEqual([CREATE]);
});

it('update adds a new column with ALTER TABLE ADD COLUMNS', async () => {
  succeedWith('qe-alter');
  const { run } = setup();
  const next = { ...INPUT, columns: [...INPUT.columns, { name: 'tenant_id', type: 'string' }] };

  const result = await run({ ...next, tf: { action: 'update', prev_input: INPUT } });

  expect(startedQueries()).toEqual(['ALTER TABLE `usage_lake`.`access_logs` ADD COLUMNS (`tenant_id` string)']);
  expect(result).toEqual({ action: 'update', statements: 1, queryExecutionIds: ['qe-alter'], warnings: [] });
});

it('update without a column change runs nothing and logs the warning about the changed CREATE', async () => {
  const { run, warn } = setup();
  const next = { ...INPUT, create: CREATE.replace("'ICEBERG')", "'ICEBERG', 'format' = 'parquet')") };

  const result = await run({ ...next, tf: { action: 'update', prev_input: INPUT } });

  expect(result).toMatchObject({ action: 'update', statements: 0, queryExecutionIds: [] });
  expect(result.warnings).toHaveLength(1);
  expect(warn).toHaveBeenCalledWith(result.warnings[0], { table: 'usage_lake.access_logs' });
  expect(athenaMock).not.toHaveReceivedCommand(StartQueryExecutionCommand);
});

it("fails with Athena's own error message so that terraform apply shows it", async () => {
  const reason = "FAILED: SemanticException [Error 10072]: Database does not exist: usage_lake";
  athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-fail' });
  athenaMock.on(GetQueryExecutionCommand).resolves({
    QueryExecution: {
      QueryExecutionId: 'qe-fail',
      Status: { State: 'FAILED', StateChangeReason: reason, AthenaError: { ErrorCategory: 2, ErrorType: 1301 } },
    },
  });
  const { run, error } = setup();

  const failure = await run(INPUT).catch((e: unknown) => e);

  expect(failure).toBeInstanceOf(QueryFailedError);
  expect((failure as Error).message).toBe(`${reason} (query execution qe-fail FAILED, ErrorCategory 2, ErrorType 1301)`);
  expect(error).toHaveBeenCalledWith(
    'DDL statement failed',
    expect.objectContaining({ sql: CREATE, step: '1/1', error: failure }),
  );
});

it('a statement that outlives its timeout is stopped and the timeout surfaces', async () => {
  athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-slow' });
  athenaMock.on(GetQueryExecutionCommand).resolves({
    QueryExecution: { QueryExecutionId: 'qe-slow', Status: { State: 'RUNNING' } },
  });
  athenaMock.on(StopQueryExecutionCommand).resolves({});
  const { run } = setup(10_000);

  const failure = (await run(INPUT).catch((e: unknown) => e)) as QueryTimeoutError;

  expect(failure).toBeInstanceOf(QueryTimeoutError);
  expect(failure.message).toBe('Athena query execution qe-slow did not finish within 10000 ms and was stopped');
  expect(athenaMock).toHaveReceivedCommandWith(StopQueryExecutionCommand, { QueryExecutionId: 'qe-slow' });
});

it("keeps each statement's timeout inside the Lambda's remaining time, less a margin", async () => {
  athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'qe-slow' });
  athenaMock.on(GetQueryExecutionCommand).resolves({
    QueryExecution: { QueryExecutionId: 'qe-slow', Status: { State: 'RUNNING' } },
  });
  athenaMock.on(StopQueryExecutionCommand).resolves({});
  const { run } = setup();

  const failure = (await run(INPUT, { getRemainingTimeInMillis: () => TIMEOUT_MARGIN_MS + 3000 }).catch(
    (e: unknown) => e,
  )) as QueryTimeoutError;

  expect(failure).toBeInstanceOf(QueryTimeoutError);
  expect(failure.elapsedMs).toBe(3000);
});

it('delete does nothing by default: the table and its data stay', async () => {
  const { run } = setup();

  const result = await run({ ...INPUT, tf: { action: 'delete', prev_input: INPUT } });

  expect(result).toEqual({ action: 'delete', statements: 0, queryExecutionIds: [], warnings: [] });
  expect(athenaMock).not.toHaveReceivedCommand(StartQueryExecutionCommand);
});

it('delete drops the table when dropOnDestroy is true', async () => {
  succeedWith('qe-drop');
  const { run } = setup();
  const input = { ...INPUT, dropOnDestroy: true };

  await expect(run({ ...input, tf: { action: 'delete', prev_input: input } })).resolves.toMatchObject({
    statements: 1,
    queryExecutionIds: ['qe-drop'],
  });
  expect(startedQueries()).toEqual(['DROP TABLE IF EXISTS `usage_lake`.`access_logs`']);
});

it('an incompatible schema change fails before anything runs', async () => {
  const { run } = setup();
  const next = { ...INPUT, columns: [INPUT.columns[0]!] };

  await expect(run({ ...next, tf: { action: 'update', prev_input: INPUT } })).rejects.toThrow(
    IncompatibleSchemaChangeError,
  );
  expect(athenaMock).not.toHaveReceivedCommand(StartQueryExecutionCommand);
});

it('an invalid input fails before anything runs', async () => {
  const { run } = setup();

  await expect(run({ ...INPUT, table: 'access_logs; DROP TABLE x' })).rejects.toThrow(InvalidDdlRequestError);
  expect(athenaMock).not.toHaveReceivedCommand(StartQueryExecutionCommand);
});

it('the exported handler runs with the module-scope Athena client', async () => {
  succeedWith('qe-module');

  await expect(handler({ ...INPUT, tf: { action: 'create', prev_input: null } })).resolves.toEqual({
    action: 'create',
    statements: 1,
    queryExecutionIds: ['qe-module'],
    warnings: [],
  });
});
