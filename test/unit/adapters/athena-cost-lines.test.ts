import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import {
  AthenaCostLines,
  billingPeriodsOf,
  COST_LINE_PARAMETER_COUNT,
  CostLineQueryError,
  CostLineRangeError,
  CostLineRowError,
  DAY_MS,
  type CostLineRange,
} from '../../../adapters/athena/athena-cost-lines';
import { AthenaQueryRunner, QueryFailedError } from '../../../adapters/athena/athena-query-runner';
import { allocateCosts } from '../../../core/cost/allocate-costs';
import { parseCostAllocationConfig } from '../../../core/cost/allocation-config';
import { readCostLinesSql } from '../../../sql/sql-files';

const athena = mockClient(AthenaClient);
afterEach(() => athena.reset());

const SQL = readCostLinesSql();
const TAG = 'user_tenant_id';
const COLUMNS = ['usage_day', 'service', 'resource_id', 'tenant_tag', 'currency', 'amount'];
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const range = (first: string, endExclusive: string): CostLineRange => ({ start: day(first), end: day(endExclusive) });

const header = { Data: COLUMNS.map((VarCharValue) => ({ VarCharValue })) };
/** A result row; `undefined` is SQL NULL (Athena leaves VarCharValue out). */
const row = (...values: (string | undefined)[]) => ({ Data: values.map((VarCharValue) => (VarCharValue === undefined ? {} : { VarCharValue })) });
const columnInfo = COLUMNS.map((Name) => ({ Name, Type: 'varchar' }));

function answer(rows: ReturnType<typeof row>[], scanned = 52_428_800) {
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-cur' });
  athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: scanned, EngineExecutionTimeInMillis: 900 } } });
  athena.on(GetQueryResultsCommand).resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: columnInfo }, Rows: [header, ...rows] } });
}

function reader(options: { sql?: string; tenantTag?: string } = {}) {
  const runner = new AthenaQueryRunner(new AthenaClient({ region: 'us-east-1' }), { workGroup: 'usage', database: 'usage_db', sleep: async () => undefined });
  return new AthenaCostLines(runner, { sql: options.sql ?? SQL, tenantTag: options.tenantTag ?? TAG });
}

const startCall = () => athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input;

describe('the SQL text of daily_cost_lines.sql', () => {
  const placeholders = SQL.split('?');

  it(`takes ${COST_LINE_PARAMETER_COUNT} parameters, in the order the reader sends them`, () => {
    expect(placeholders).toHaveLength(COST_LINE_PARAMETER_COUNT + 1);
    const before = placeholders.slice(0, -1).map((text) => text.replace(/\s+/g, ' ').trimEnd());
    expect(before[0]).toMatch(/element_at\(resource_tags,$/);
    expect(before[1]).toMatch(/WHERE billing_period >=$/);
    expect(before[2]).toMatch(/AND billing_period <=$/);
    expect(before[3]).toMatch(/AND line_item_usage_start_date >= CAST\($/);
    expect(before[4]).toMatch(/AND line_item_usage_start_date < CAST\($/);
  });

  it('sums each cost as DECIMAL(38, 10) and returns the sums as text', () => {
    expect(SQL).toMatch(/CAST\(line_item_unblended_cost AS decimal\(38, 10\)\) AS cost/);
    expect(SQL).toMatch(/CAST\(sum\(cost\) AS varchar\) AS amount/);
    expect(SQL).not.toMatch(/sum\(line_item_unblended_cost\)/);
  });

  it('reads the CUR table by its unqualified name, as the other queries do (the database is the query context)', () => {
    expect(SQL).toMatch(/FROM cur2_cost_and_usage\b/);
  });
});

describe('AthenaCostLines', () => {
  it('sends the tag key, the billing periods and the day bounds as quoted execution parameters, never in the SQL', async () => {
    answer([]);
    await reader().read(range('2026-10-30', '2026-11-02'));

    const call = startCall();
    expect(call.QueryString).toBe(SQL);
    expect(call.ExecutionParameters).toEqual(["'user_tenant_id'", "'2026-10'", "'2026-11'", "'2026-10-30 00:00:00.000'", "'2026-11-02 00:00:00.000'"]);
    expect(call.QueryString).not.toMatch(/user_tenant_id|2026-1[01]/);
    expect(call.WorkGroup).toBe('usage');
    expect(call.QueryExecutionContext).toEqual({ Database: 'usage_db', Catalog: undefined });
  });

  it('doubles a quote in the tag key, so that the key cannot end the literal', async () => {
    answer([]);
    await reader({ tenantTag: "user_o'brien" }).read(range('2026-11-01', '2026-11-02'));
    expect(startCall().ExecutionParameters?.[0]).toBe("'user_o''brien'");
  });

  it('maps each row to a cost line: the day, the service, the resource, the tag under its CUR key, the exact amount', async () => {
    answer([
      row('2026-11-01 00:00:00.000', 'AWSLambda', 'arn:aws:lambda:us-east-1:123456789012:function:acme-api', 'acme', 'USD', '1.2345678901'),
      row('2026-11-01 00:00:00.000', 'AmazonDynamoDB', undefined, undefined, 'USD', '0.0000000001'),
      row('2026-11-02 00:00:00.000', 'AWSLambda', 'arn:aws:lambda:us-east-1:123456789012:function:shared', '', 'USD', '-0.5000000000'),
      // Beyond what a double holds (17 significant digits): still exact.
      row('2026-11-02 00:00:00.000', 'AmazonS3', 'lake-bucket', 'initech', 'USD', '12345678901234567.1234567891'),
    ], 123_456);

    const result = await reader().measure(range('2026-11-01', '2026-11-03'));

    expect(result.bytesScanned).toBe(123_456);
    expect(result.queryExecutionId).toBe('q-cur');
    expect(result.lines).toEqual([
      { start: day('2026-11-01'), service: 'AWSLambda', resourceId: 'arn:aws:lambda:us-east-1:123456789012:function:acme-api', tags: { user_tenant_id: 'acme' }, amount: '1.2345678901', currency: 'USD' },
      { start: day('2026-11-01'), service: 'AmazonDynamoDB', tags: {}, amount: '0.0000000001', currency: 'USD' },
      { start: day('2026-11-02'), service: 'AWSLambda', resourceId: 'arn:aws:lambda:us-east-1:123456789012:function:shared', tags: { user_tenant_id: '' }, amount: '-0.5000000000', currency: 'USD' },
      { start: day('2026-11-02'), service: 'AmazonS3', resourceId: 'lake-bucket', tags: { user_tenant_id: 'initech' }, amount: '12345678901234567.1234567891', currency: 'USD' },
    ]);
  });

  it('gives lines that cost allocation takes as they are: a tagged line goes to its tenant, an untagged one to the pool', async () => {
    answer([
      row('2026-11-01 00:00:00.000', 'AWSLambda', 'fn-acme', 'acme', 'USD', '1.0000000000'),
      row('2026-11-01 00:00:00.000', 'AWSLambda', 'fn-shared', undefined, 'USD', '3.0000000000'),
    ]);
    const lines = await reader().read(range('2026-11-01', '2026-11-02'));
    const config = parseCostAllocationConfig({ currency: 'USD', tenantTag: TAG, rules: [{ service: 'AWSLambda', split: 'even' }] });
    const result = allocateCosts({ config, tenants: ['acme', 'initech'], costs: lines, consumption: [], granularity: 'DAILY' });
    const byTenant = Object.fromEntries(result.byTenant.map((tenant) => [tenant.tenantId, tenant.costMinor]));
    // acme: its own line (100 cents) plus half the pool (150); initech: the other half.
    expect(byTenant).toEqual({ acme: 250n, initech: 150n });
  });

  it('reads every page of a large result', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-pages' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand)
      .resolvesOnce({ NextToken: 'page-2', ResultSet: { ResultSetMetadata: { ColumnInfo: columnInfo }, Rows: [header, row('2026-11-01 00:00:00.000', 'AWSLambda', 'a', 'acme', 'USD', '1')] } })
      .resolvesOnce({ ResultSet: { ResultSetMetadata: { ColumnInfo: columnInfo }, Rows: [row('2026-11-01 00:00:00.000', 'AWSLambda', 'b', 'acme', 'USD', '2')] } });
    const lines = await reader().read(range('2026-11-01', '2026-11-02'));
    expect(lines.map((line) => line.resourceId)).toEqual(['a', 'b']);
    expect(athena.commandCalls(GetQueryResultsCommand)[1].args[0].input.NextToken).toBe('page-2');
  });

  it.each([
    ['not at midnight', { start: day('2026-11-01') + 3_600_000, end: day('2026-11-02') }, /range start 2026-11-01T01:00:00.000Z is not the start of a UTC day/],
    ['empty', range('2026-11-02', '2026-11-02'), /must be before its end/],
    ['reversed', range('2026-11-03', '2026-11-01'), /must be before its end/],
    ['not a number', { start: Number.NaN, end: day('2026-11-02') }, /range start must be epoch milliseconds, got NaN/],
  ])('refuses a range that is %s, before any query', async (_, bad, message) => {
    answer([]);
    await expect(reader().read(bad)).rejects.toThrow(CostLineRangeError);
    await expect(reader().read(bad)).rejects.toThrow(message);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });

  it.each([
    ['a day outside the range', row('2026-11-05 00:00:00.000', 'AWSLambda', 'x', 'acme', 'USD', '1'), /row 0, column usage_day: "2026-11-05 00:00:00.000" is not a UTC day of the range/],
    ['a time that is not a day start', row('2026-11-01 10:00:00.000', 'AWSLambda', 'x', 'acme', 'USD', '1'), /column usage_day/],
    ['no service', row('2026-11-01 00:00:00.000', undefined, 'x', 'acme', 'USD', '1'), /row 0, column service: expected text, got null/],
    ['no currency', row('2026-11-01 00:00:00.000', 'AWSLambda', 'x', 'acme', undefined, '1'), /column currency: expected text/],
    ['a currency that is no ISO code', row('2026-11-01 00:00:00.000', 'AWSLambda', 'x', 'acme', 'usd', '1'), /column currency: expected an ISO 4217 code/],
    ['an amount in exponent notation', row('2026-11-01 00:00:00.000', 'AWSLambda', 'x', 'acme', 'USD', '1E-10'), /column amount: must be plain decimal text/],
    ['no amount', row('2026-11-01 00:00:00.000', 'AWSLambda', 'x', 'acme', 'USD', undefined), /column amount: expected text, got null/],
  ])('refuses a row with %s, naming the row and the column', async (_, bad, message) => {
    answer([bad]);
    const read = reader().read(range('2026-11-01', '2026-11-03'));
    await expect(read).rejects.toThrow(CostLineRowError);
    await expect(reader().read(range('2026-11-01', '2026-11-03'))).rejects.toThrow(message);
  });

  it('surfaces Athena\'s own failure reason', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-fail' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'TABLE_NOT_FOUND: line 17:8: Table usage_db.cur2_cost_and_usage does not exist' } } });
    const read = reader().read(range('2026-11-01', '2026-11-02'));
    await expect(read).rejects.toThrow(QueryFailedError);
    await expect(reader().read(range('2026-11-01', '2026-11-02'))).rejects.toThrow(/cur2_cost_and_usage does not exist/);
  });

  it.each([
    ['an empty tag key', { tenantTag: '' }, /tenantTag must be a tag key/],
    ['a tag key with a control character', { tenantTag: 'user_tenant\nid' }, /tenantTag must be a tag key/],
    ['SQL with a parameter missing', { sql: SQL.replace('element_at(resource_tags, ?)', "element_at(resource_tags, 'user_tenant_id')") }, /must take 5 parameters .* it has 4/],
  ])('refuses %s when it is built', (_, options, message) => {
    expect(() => reader(options)).toThrow(CostLineQueryError);
    expect(() => reader(options)).toThrow(message);
  });

  it('does not count a question mark inside a comment or a string literal as a parameter', () => {
    expect(() => reader({ sql: `-- what? where?\nSELECT '?' AS q, ${'?, '.repeat(4)}? FROM t` })).not.toThrow();
  });
});

describe('billingPeriodsOf', () => {
  it.each([
    ['one day', '2026-11-15', '2026-11-16', '2026-11', '2026-11'],
    ['a whole month, ending at the next month\'s first day', '2026-11-01', '2026-12-01', '2026-11', '2026-11'],
    ['a range across two months', '2026-10-30', '2026-11-02', '2026-10', '2026-11'],
    ['a range across the year end', '2026-12-31', '2027-01-02', '2026-12', '2027-01'],
    ['the last day of a leap February', '2028-02-29', '2028-03-01', '2028-02', '2028-02'],
  ])('%s', (_, first, end, expectedFirst, expectedLast) => {
    expect(billingPeriodsOf(range(first, end))).toEqual({ first: expectedFirst, last: expectedLast });
  });

  it('bounds exactly the months of the days in the range (property)', () => {
    const days = fc.integer({ min: day('2023-11-01') / DAY_MS, max: day('2030-12-31') / DAY_MS });
    fc.assert(
      fc.property(days, fc.integer({ min: 1, max: 400 }), (startDay, length) => {
        const r = { start: startDay * DAY_MS, end: (startDay + length) * DAY_MS };
        const { first, last } = billingPeriodsOf(r);
        const months = new Set<string>();
        for (let d = r.start; d < r.end; d += DAY_MS) months.add(new Date(d).toISOString().slice(0, 7));
        // Every day's month lies within [first, last], and both bounds are months of days in the range,
        // so the partition bounds read no month outside the range (string order is month order).
        for (const month of months) expect(first <= month && month <= last).toBe(true);
        expect(months.has(first)).toBe(true);
        expect(months.has(last)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
