import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACCESS_LOG_COLUMNS } from '../../../core/lake/access-log-table';
import {
  IncompatibleSchemaChangeError,
  InvalidDdlRequestError,
  normalizeColumnType,
  parseDdlRequest,
  planDdl,
  quoteIdentifier,
} from '../../../core/lake/ddl-plan';
import { renderSqlTemplate, stripSqlComments } from '../../../core/lake/sql-template';

const CREATE =
  'CREATE TABLE IF NOT EXISTS `usage_lake`.`access_logs` (`request_id` string, `request_time` timestamp)\n' +
  "PARTITIONED BY (hour(`request_time`)) LOCATION 's3://lake/access_logs/' TBLPROPERTIES ('table_type' = 'ICEBERG')";

const COLUMNS = [
  { name: 'request_id', type: 'string' },
  { name: 'request_time', type: 'timestamp' },
];

const INPUT = {
  database: 'usage_lake',
  workGroup: 'usage-metering',
  table: 'access_logs',
  create: CREATE,
  columns: COLUMNS,
  dropOnDestroy: false,
};

type Input = Record<string, unknown>;

const created = (input: Input = INPUT) => ({ ...input, tf: { action: 'create', prev_input: null } });
const updated = (previous: Input, next: Input) => ({ ...next, tf: { action: 'update', prev_input: previous } });
const deleted = (input: Input = INPUT) => ({ ...input, tf: { action: 'delete', prev_input: input } });
const withColumns = (columns: { name: string; type: string }[], extra: Input = {}): Input => ({ ...INPUT, columns, ...extra });

function plan(event: unknown) {
  return planDdl(parseDdlRequest(event));
}

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('create', () => {
  it('runs the CREATE TABLE IF NOT EXISTS statement', () => {
    expect(plan(created())).toEqual({ action: 'create', statements: [CREATE], warnings: [] });
  });

  it('treats a direct invocation without the tf key as create', () => {
    expect(plan(INPUT)).toEqual({ action: 'create', statements: [CREATE], warnings: [] });
    expect(plan({ ...INPUT, tf: null })).toMatchObject({ action: 'create', statements: [CREATE] });
  });

  it('reads the lifecycle from a renamed terraform_key', () => {
    const event = { ...INPUT, lifecycle: { action: 'delete', prev_input: INPUT } };
    expect(parseDdlRequest(event, 'lifecycle').action).toBe('delete');
  });

  it('drops comment lines and a trailing semicolon before running the statement', () => {
    const sql = `-- the access-log table\n${CREATE.replace('\n', '\n  -- partitioned by hour\n')};\n`;
    expect(plan(created({ ...INPUT, create: sql })).statements).toEqual([CREATE]);
  });

  it('accepts the project access-log DDL with its declared columns', () => {
    const template = readFileSync(join(__dirname, '../../../sql/ddl/access_logs.sql'), 'utf8');
    const create = renderSqlTemplate(stripSqlComments(template), {
      database: 'usage_lake',
      table: 'access_logs',
      location: 's3://lake-bucket/access_logs/',
    });
    const event = created({ ...INPUT, create, columns: ACCESS_LOG_COLUMNS });
    expect(plan(event).statements).toEqual([create]);
  });
});

describe('update', () => {
  it('runs nothing when the columns did not change', () => {
    expect(plan(updated(INPUT, INPUT))).toEqual({ action: 'update', statements: [], warnings: [] });
  });

  it('runs nothing when only the workgroup or dropOnDestroy changed', () => {
    const next = { ...INPUT, workGroup: 'other-wg', dropOnDestroy: true };
    expect(plan(updated(INPUT, next))).toEqual({ action: 'update', statements: [], warnings: [] });
  });

  it('compares normalised types: INT and int, decimal(18, 6) and decimal(18,6) are the same', () => {
    const previous = withColumns([...COLUMNS, { name: 'amount', type: 'decimal(18, 6)' }, { name: 'n', type: 'INT' }]);
    const next = withColumns([...COLUMNS, { name: 'amount', type: 'DECIMAL(18,6)' }, { name: 'n', type: 'int' }]);
    expect(plan(updated(previous, next)).statements).toEqual([]);
  });

  it('appends columns added after the existing ones with one ALTER TABLE ADD COLUMNS', () => {
    const next = withColumns([
      ...COLUMNS,
      { name: 'tenant_id', type: 'string' },
      { name: 'amount', type: 'decimal(18, 6)' },
    ]);
    expect(plan(updated(INPUT, next))).toEqual({
      action: 'update',
      statements: ['ALTER TABLE `usage_lake`.`access_logs` ADD COLUMNS (`tenant_id` string, `amount` decimal(18,6))'],
      warnings: [],
    });
  });

  it('refuses a removed column and says the change must be done by hand', () => {
    const next = withColumns([COLUMNS[0]!]);
    const error = errorOf(() => plan(updated(INPUT, next)));
    expect(error).toBeInstanceOf(IncompatibleSchemaChangeError);
    expect((error as IncompatibleSchemaChangeError).changes).toEqual(['column request_time removed']);
    expect(error.message).toContain('Incompatible schema change for usage_lake.access_logs: column request_time removed');
    expect(error.message).toContain('by hand');
  });

  it('refuses a type change', () => {
    const next = withColumns([COLUMNS[0]!, { name: 'request_time', type: 'bigint' }]);
    const error = errorOf(() => plan(updated(INPUT, next))) as IncompatibleSchemaChangeError;
    expect(error).toBeInstanceOf(IncompatibleSchemaChangeError);
    expect(error.changes).toEqual(['column request_time type changed from timestamp to bigint']);
  });

  it('refuses a rename', () => {
    const next = withColumns([{ name: 'id', type: 'string' }, COLUMNS[1]!]);
    const error = errorOf(() => plan(updated(INPUT, next))) as IncompatibleSchemaChangeError;
    expect(error).toBeInstanceOf(IncompatibleSchemaChangeError);
    expect(error.changes).toEqual(['column request_id renamed to id (or removed and id added in its place)']);
  });

  it('refuses a column inserted before existing ones (ADD COLUMNS can only append)', () => {
    const next = withColumns([COLUMNS[0]!, { name: 'tenant_id', type: 'string' }, COLUMNS[1]!]);
    const error = errorOf(() => plan(updated(INPUT, next))) as IncompatibleSchemaChangeError;
    expect(error.changes).toEqual([expect.stringMatching(/^column tenant_id inserted before existing columns/)]);
  });

  it('refuses reordered columns', () => {
    const next = withColumns([COLUMNS[1]!, COLUMNS[0]!]);
    const error = errorOf(() => plan(updated(INPUT, next))) as IncompatibleSchemaChangeError;
    expect(error.changes).toEqual([
      'existing columns reordered (was request_id, request_time; now request_time, request_id)',
    ]);
  });

  it('lists every change at once', () => {
    const previous = withColumns([...COLUMNS, { name: 'status', type: 'int' }, { name: 'bytes', type: 'int' }]);
    const next = withColumns([COLUMNS[0]!, { name: 'status', type: 'string' }, { name: 'size', type: 'int' }]);
    const error = errorOf(() => plan(updated(previous, next))) as IncompatibleSchemaChangeError;
    expect(error.changes).toEqual([
      'column request_time removed',
      'column status type changed from int to string',
      'column bytes removed',
    ]);
    expect(error.message).toContain('column request_time removed; column status type changed from int to string; column bytes removed');
  });

  it('refuses a changed table or database name instead of creating an empty table beside the data', () => {
    const table = errorOf(() => plan(updated(INPUT, { ...INPUT, table: 'requests', create: CREATE.replace('access_logs', 'requests') })));
    expect(table).toBeInstanceOf(IncompatibleSchemaChangeError);
    expect(table.message).toContain('table renamed from access_logs to requests');

    const database = errorOf(() =>
      plan(updated(INPUT, { ...INPUT, database: 'lake_v2', create: CREATE.replace('usage_lake', 'lake_v2') })),
    );
    expect(database).toBeInstanceOf(IncompatibleSchemaChangeError);
    expect(database.message).toContain('Incompatible schema change for usage_lake.access_logs: database renamed from usage_lake to lake_v2');
  });

  it('warns that a changed CREATE statement with unchanged columns is not applied to the existing table', () => {
    const next = { ...INPUT, create: CREATE.replace("'ICEBERG')", "'ICEBERG', 'format' = 'parquet')") };
    const result = plan(updated(INPUT, next));
    expect(result.statements).toEqual([]);
    expect(result.warnings).toEqual([expect.stringContaining('not applied by a deploy')]);
  });

  it('does not warn about whitespace-only changes of the CREATE statement', () => {
    const next = { ...INPUT, create: CREATE.replace(/ /g, '  ') };
    expect(plan(updated(INPUT, next)).warnings).toEqual([]);
  });

  it('needs a valid prev_input', () => {
    const missing = errorOf(() => parseDdlRequest({ ...INPUT, tf: { action: 'update', prev_input: null } }));
    expect(missing).toBeInstanceOf(InvalidDdlRequestError);
    expect(missing.message).toContain('tf.prev_input must be the previous input object on update');

    const invalid = errorOf(() => parseDdlRequest(updated({ ...INPUT, table: 'Bad-Name' }, INPUT)));
    expect(invalid).toBeInstanceOf(InvalidDdlRequestError);
    expect(invalid.message).toContain('tf.prev_input.table must match');
  });
});

describe('delete', () => {
  it('runs nothing by default: a destroy never deletes data', () => {
    expect(plan(deleted())).toEqual({ action: 'delete', statements: [], warnings: [] });
  });

  it('drops the table when dropOnDestroy is true', () => {
    const input = { ...INPUT, dropOnDestroy: true };
    expect(plan(deleted(input))).toEqual({
      action: 'delete',
      statements: ['DROP TABLE IF EXISTS `usage_lake`.`access_logs`'],
      warnings: [],
    });
  });

  it('validates the names before dropping', () => {
    const input = { ...INPUT, dropOnDestroy: true, table: 'x` ; DROP DATABASE y; --' };
    expect(() => plan(deleted(input))).toThrow(InvalidDdlRequestError);
  });

  it('does not treat a truthy non-boolean as dropOnDestroy', () => {
    expect(plan(deleted({ ...INPUT, dropOnDestroy: 'true' })).statements).toEqual([]);
  });
});

describe('input validation', () => {
  it.each([
    ['an array', []],
    ['a string', 'CREATE TABLE'],
    ['null', null],
  ])('refuses %s as input', (_, event) => {
    expect(() => parseDdlRequest(event)).toThrow(InvalidDdlRequestError);
  });

  it('refuses an unknown lifecycle action', () => {
    expect(() => parseDdlRequest({ ...INPUT, tf: { action: 'read' } })).toThrow(
      'tf.action must be create, update or delete, got "read"',
    );
  });

  it.each(['Usage', '1usage', 'usage-lake', 'usage lake', 'usage`lake', 'usage.lake', '', 'a'.repeat(129), 42])(
    'refuses the identifier %p',
    (name) => {
      expect(() => parseDdlRequest({ ...INPUT, database: name })).toThrow(InvalidDdlRequestError);
      expect(() => parseDdlRequest(withColumns([{ name: name as string, type: 'string' }]))).toThrow(InvalidDdlRequestError);
    },
  );

  it('accepts identifiers of up to 128 characters starting with a letter or underscore', () => {
    const name = `_${'a'.repeat(127)}`;
    expect(parseDdlRequest(withColumns([{ name, type: 'string' }])).spec.columns).toEqual([{ name, type: 'string' }]);
  });

  it.each([
    'varchar(10)',
    'map<string,string>',
    'array<string>',
    'struct<a:int>',
    'decimal',
    'decimal(39,2)',
    'decimal(5,6)',
    'decimal(0,0)',
    'string) ; DROP TABLE x; --',
    'timestamptz',
    '',
  ])('refuses the column type %p', (type) => {
    expect(normalizeColumnType(type)).toBeUndefined();
    expect(() => parseDdlRequest(withColumns([{ name: 'c', type }]))).toThrow(InvalidDdlRequestError);
  });

  it.each([
    ['string', 'string'],
    ['INT', 'int'],
    ['bigint', 'bigint'],
    ['double', 'double'],
    ['float', 'float'],
    ['boolean', 'boolean'],
    ['date', 'date'],
    ['timestamp', 'timestamp'],
    ['binary', 'binary'],
    ['decimal(38, 0)', 'decimal(38,0)'],
    ['DECIMAL(18,6)', 'decimal(18,6)'],
  ])('accepts the column type %p as %p', (type, canonical) => {
    expect(normalizeColumnType(type)).toBe(canonical);
  });

  it('lists every problem of an input at once', () => {
    const error = errorOf(() =>
      parseDdlRequest({
        database: 'Usage',
        workGroup: 'bad workgroup',
        table: 'ok',
        create: 'CREATE TABLE IF NOT EXISTS ok',
        columns: [{ name: 'a', type: 'text' }, { name: 'a', type: 'int' }, { name: 'a', type: 'int' }, 'b'],
        dropOnDestroy: 'yes',
      }),
    ) as InvalidDdlRequestError;
    expect(error).toBeInstanceOf(InvalidDdlRequestError);
    expect(error.problems).toEqual([
      'database must match ^[a-z_][a-z0-9_]{0,127}$, got "Usage"',
      'workGroup must be an Athena workgroup name, got "bad workgroup"',
      'dropOnDestroy must be a boolean, got "yes"',
      'columns[0].type "text" is not an allowed Athena Iceberg type (string, int, bigint, double, float, boolean, date, timestamp, binary, decimal(p,s))',
      'columns[2].name a is declared twice',
      'columns[3] must be an object {name, type}',
    ]);
  });

  it('refuses an empty column list', () => {
    expect(() => parseDdlRequest(withColumns([]))).toThrow('columns must be a non-empty array of {name, type}');
  });

  it.each([
    ['a CREATE TABLE without IF NOT EXISTS', CREATE.replace('IF NOT EXISTS ', '')],
    ['a CREATE for another table', CREATE.replace('`access_logs`', '`other`')],
    ['a CREATE for a table whose name only starts like ours', CREATE.replace('`access_logs`', 'access_logs_v2')],
    ['a CREATE in another database', CREATE.replace('`usage_lake`', '`other`')],
    ['two statements', `${CREATE}; DROP TABLE \`usage_lake\`.\`access_logs\``],
    ['a DROP', 'DROP TABLE `usage_lake`.`access_logs`'],
    ['an empty string', ''],
  ])('refuses %s as the create statement', (_, create) => {
    const error = errorOf(() => parseDdlRequest({ ...INPUT, create }));
    expect(error).toBeInstanceOf(InvalidDdlRequestError);
    expect(error.message).toContain('create must be a single CREATE TABLE IF NOT EXISTS statement for usage_lake.access_logs');
  });

  it('accepts unquoted names and any letter case in the CREATE keywords', () => {
    const create = 'create table if not exists usage_lake.access_logs (request_id string, request_time timestamp)';
    expect(plan({ ...INPUT, create }).statements).toEqual([create]);
  });
});

describe('quoteIdentifier', () => {
  it('backticks a valid identifier and refuses anything that could break out of the quotes', () => {
    expect(quoteIdentifier('access_logs')).toBe('`access_logs`');
    expect(() => quoteIdentifier('a`; DROP TABLE b; --')).toThrow(InvalidDdlRequestError);
  });
});
