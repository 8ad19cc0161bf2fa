/**
 * What the `ddl-runner` function runs for one lifecycle event of Terraform's `aws_lambda_invocation`
 * resource with `lifecycle_scope = "CRUD"`. Pure: no AWS calls here.
 *
 * In CRUD mode the AWS provider adds one key to the input JSON, `tf` by default (the resource's
 * `terraform_key` argument renames it; our input must therefore have no `tf` key of its own), holding
 * `action` (`create`, `update` or `delete`) and `prev_input` (the previously applied input: `null` on
 * create, the old input on update, the current input again on delete). Replacing the resource (for
 * instance a change of `triggers` or `function_name`) is a delete followed by a create.
 * https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/lambda_invocation
 * https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service/lambda/invocation.go
 *
 * Caveat: when an update invocation fails, the provider still records the new input in the state
 * (https://github.com/hashicorp/terraform-provider-aws/issues/43447), so the next apply sees no change
 * and does not retry: fix the table by hand with the statement the error names.
 */
import type { TableColumn } from './access-log-table';

/** The key the AWS provider adds in CRUD mode unless `terraform_key` says otherwise. */
export const DEFAULT_TERRAFORM_KEY = 'tf';

/** A lifecycle event of the invocation resource. */
export type DdlAction = 'create' | 'update' | 'delete';

/** One Iceberg table as the infrastructure declares it (the invocation input, without the `tf` key). */
export interface TableSpec {
  readonly database: string;
  readonly workGroup: string;
  readonly table: string;
  /** `CREATE TABLE IF NOT EXISTS <database>.<table> …` in Athena DDL, without comment lines. */
  readonly create: string;
  /** The table's columns in order, with normalised Athena Iceberg types. */
  readonly columns: readonly TableColumn[];
  /**
   * Drop the table on destroy. Athena treats Iceberg tables as managed, so DROP TABLE deletes the data
   * files too (https://docs.aws.amazon.com/athena/latest/ug/querying-iceberg-drop-table.html): only for
   * throw-away stacks. @default false
   */
  readonly dropOnDestroy: boolean;
}

/** A validated invocation. */
export interface DdlRequest {
  readonly action: DdlAction;
  readonly spec: TableSpec;
  /** The previously applied spec; present on update. */
  readonly previous?: TableSpec;
}

/** The statements to run, in order, and anything the operator should know. */
export interface DdlPlan {
  readonly action: DdlAction;
  readonly statements: readonly string[];
  readonly warnings: readonly string[];
}

/** The invocation input is malformed or names something DDL must not contain. */
export class InvalidDdlRequestError extends Error {
  override readonly name = 'InvalidDdlRequestError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid ddl-runner input: ${problems.join('; ')}`);
  }
}

/** The declared schema changed in a way a deploy must not apply (it could lose data). */
export class IncompatibleSchemaChangeError extends Error {
  override readonly name = 'IncompatibleSchemaChangeError';
  constructor(
    readonly table: string,
    readonly changes: readonly string[],
  ) {
    super(
      `Incompatible schema change for ${table}: ${changes.join('; ')}. ` +
        'A deploy only creates tables and appends columns; it never drops, renames, retypes or moves ' +
        'anything, so that data is never destroyed. Make this change by hand (and migrate the data), ' +
        'or revert the declaration.',
    );
  }
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,127}$/;
const SIMPLE_TYPES = new Set(['string', 'int', 'bigint', 'double', 'float', 'boolean', 'date', 'timestamp', 'binary']);
const DECIMAL = /^decimal\((\d{1,2}),(\d{1,2})\)$/;

/** Whether `name` may appear in DDL: lower-case letters, digits and `_`, not starting with a digit. */
export function isValidIdentifier(name: unknown): name is string {
  return typeof name === 'string' && IDENTIFIER.test(name);
}

/** An identifier in backticks, after checking it against the strict identifier pattern. */
export function quoteIdentifier(name: string): string {
  if (!isValidIdentifier(name)) throw new InvalidDdlRequestError([`not a valid identifier: ${JSON.stringify(name)}`]);
  return `\`${name}\``;
}

/**
 * The column type in canonical form (lower case, no blanks: `decimal(18,6)`), or undefined when it is
 * not on the allow-list of Athena Iceberg types: string, int, bigint, double, float, boolean, date,
 * timestamp, binary and decimal(p,s) with 1 ≤ p ≤ 38 and 0 ≤ s ≤ p.
 */
export function normalizeColumnType(type: unknown): string | undefined {
  if (typeof type !== 'string') return undefined;
  const canonical = type.toLowerCase().replace(/\s+/g, '');
  if (SIMPLE_TYPES.has(canonical)) return canonical;
  const decimal = DECIMAL.exec(canonical);
  if (!decimal) return undefined;
  const precision = Number(decimal[1]);
  const scale = Number(decimal[2]);
  return precision >= 1 && precision <= 38 && scale <= precision ? `decimal(${precision},${scale})` : undefined;
}

/**
 * Validates the invocation input. Without the lifecycle key (a direct invocation) the action is
 * `create`. On update, `prev_input` must be a valid spec too.
 * @throws InvalidDdlRequestError listing every problem found
 */
export function parseDdlRequest(event: unknown, terraformKey: string = DEFAULT_TERRAFORM_KEY): DdlRequest {
  if (!isObject(event)) throw new InvalidDdlRequestError(['the input must be a JSON object']);
  const lifecycle = event[terraformKey];
  if (lifecycle === undefined || lifecycle === null) return { action: 'create', spec: parseSpec(event, '') };
  if (!isObject(lifecycle)) throw new InvalidDdlRequestError([`${terraformKey} must be an object`]);

  const action = lifecycle.action;
  if (action !== 'create' && action !== 'update' && action !== 'delete') {
    throw new InvalidDdlRequestError([`${terraformKey}.action must be create, update or delete, got ${JSON.stringify(action)}`]);
  }
  if (action === 'delete') return { action, spec: parseDeleteSpec(event) };
  const spec = parseSpec(event, '');
  if (action === 'create') return { action, spec };
  if (!isObject(lifecycle.prev_input)) {
    throw new InvalidDdlRequestError([`${terraformKey}.prev_input must be the previous input object on update`]);
  }
  return { action, spec, previous: parseSpec(lifecycle.prev_input, `${terraformKey}.prev_input.`) };
}

/**
 * The statements for one lifecycle event:
 * - create: the CREATE TABLE IF NOT EXISTS statement (idempotent: an existing table is left alone);
 * - update: nothing when the columns are unchanged; `ALTER TABLE … ADD COLUMNS` when columns were only
 *   appended after the existing ones (same names, types and order); any other column change, and any
 *   change of database or table name, is an {@link IncompatibleSchemaChangeError};
 * - delete: nothing, unless `dropOnDestroy` asks for `DROP TABLE IF EXISTS`.
 */
export function planDdl(request: DdlRequest): DdlPlan {
  const { action, spec } = request;
  switch (action) {
    case 'create':
      return { action, statements: [spec.create], warnings: [] };
    case 'delete':
      return {
        action,
        statements: spec.dropOnDestroy ? [`DROP TABLE IF EXISTS ${qualifiedName(spec)}`] : [],
        warnings: [],
      };
    case 'update':
      if (!request.previous) throw new InvalidDdlRequestError(['an update needs the previous input']);
      return planUpdate(request.previous, spec);
  }
}

function planUpdate(previous: TableSpec, spec: TableSpec): DdlPlan {
  const renamed: string[] = [];
  if (previous.database !== spec.database) renamed.push(`database renamed from ${previous.database} to ${spec.database}`);
  if (previous.table !== spec.table) renamed.push(`table renamed from ${previous.table} to ${spec.table}`);
  if (renamed.length > 0) throw new IncompatibleSchemaChangeError(`${previous.database}.${previous.table}`, renamed);

  const changes = columnChanges(previous.columns, spec.columns);
  if (changes.length > 0) throw new IncompatibleSchemaChangeError(`${spec.database}.${spec.table}`, changes);

  const added = spec.columns.slice(previous.columns.length);
  const statements =
    added.length === 0
      ? []
      : [
          `ALTER TABLE ${qualifiedName(spec)} ADD COLUMNS (` +
            added.map((column) => `${quoteIdentifier(column.name)} ${column.type}`).join(', ') +
            ')',
        ];
  const warnings =
    normalizeSql(previous.create) !== normalizeSql(spec.create) && added.length === 0
      ? [
          'The CREATE TABLE statement changed but the columns did not: CREATE TABLE IF NOT EXISTS is not ' +
            'run again for an existing table, so changes to its partitioning, location or table ' +
            'properties are not applied by a deploy.',
        ]
      : [];
  return { action: 'update', statements, warnings };
}

/** Every change other than columns appended after the existing ones, described for a person. */
function columnChanges(previous: readonly TableColumn[], next: readonly TableColumn[]): string[] {
  const changes: string[] = [];
  const previousNames = new Set(previous.map((column) => column.name));
  const nextByName = new Map(next.map((column) => [column.name, column]));
  const renameTargets = new Set<string>();

  previous.forEach((old, index) => {
    const now = nextByName.get(old.name);
    if (now === undefined) {
      const atSamePlace = next[index];
      if (atSamePlace !== undefined && !previousNames.has(atSamePlace.name)) {
        renameTargets.add(atSamePlace.name);
        changes.push(`column ${old.name} renamed to ${atSamePlace.name} (or removed and ${atSamePlace.name} added in its place)`);
      } else {
        changes.push(`column ${old.name} removed`);
      }
    } else if (now.type !== old.type) {
      changes.push(`column ${old.name} type changed from ${old.type} to ${now.type}`);
    }
  });

  const keptInOldOrder = previous.map((column) => column.name).filter((name) => nextByName.has(name));
  const keptInNewOrder = next.map((column) => column.name).filter((name) => previousNames.has(name));
  if (keptInOldOrder.join(',') !== keptInNewOrder.join(',')) {
    changes.push(`existing columns reordered (was ${keptInOldOrder.join(', ')}; now ${keptInNewOrder.join(', ')})`);
  }

  const lastKept = next.reduce((last, column, index) => (previousNames.has(column.name) ? index : last), -1);
  next.forEach((column, index) => {
    if (index < lastKept && !previousNames.has(column.name) && !renameTargets.has(column.name)) {
      changes.push(
        `column ${column.name} inserted before existing columns (ADD COLUMNS appends at the end: ` +
          'declare new columns after the existing ones)',
      );
    }
  });
  return changes;
}

function qualifiedName(spec: Pick<TableSpec, 'database' | 'table'>): string {
  return `${quoteIdentifier(spec.database)}.${quoteIdentifier(spec.table)}`;
}

function normalizeSql(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** On delete only the names matter (and only when the table is to be dropped). */
function parseDeleteSpec(event: Record<string, unknown>): TableSpec {
  const dropOnDestroy = event.dropOnDestroy === true;
  if (!dropOnDestroy) {
    return {
      database: String(event.database ?? ''),
      workGroup: String(event.workGroup ?? ''),
      table: String(event.table ?? ''),
      create: '',
      columns: [],
      dropOnDestroy,
    };
  }
  return parseSpec(event, '');
}

function parseSpec(input: Record<string, unknown>, prefix: string): TableSpec {
  const problems: string[] = [];
  const identifier = (field: string): string => {
    const value = input[field];
    if (!isValidIdentifier(value)) {
      problems.push(`${prefix}${field} must match ${IDENTIFIER.source}, got ${JSON.stringify(value)}`);
      return '';
    }
    return value;
  };
  const database = identifier('database');
  const table = identifier('table');

  const workGroup = input.workGroup;
  if (typeof workGroup !== 'string' || !/^[a-zA-Z0-9._-]{1,128}$/.test(workGroup)) {
    problems.push(`${prefix}workGroup must be an Athena workgroup name, got ${JSON.stringify(workGroup)}`);
  }

  const dropOnDestroy = input.dropOnDestroy ?? false;
  if (typeof dropOnDestroy !== 'boolean') {
    problems.push(`${prefix}dropOnDestroy must be a boolean, got ${JSON.stringify(dropOnDestroy)}`);
  }

  const columns = parseColumns(input.columns, prefix, problems);

  const create = typeof input.create === 'string' ? statementText(input.create) : undefined;
  if (create === undefined) {
    problems.push(`${prefix}create must be a string`);
  } else if (database && table && !createsTable(create, database, table)) {
    problems.push(
      `${prefix}create must be a single CREATE TABLE IF NOT EXISTS statement for ${database}.${table} ` +
        '(idempotent, so that a re-run never fails or replaces the table)',
    );
  }

  if (problems.length > 0) throw new InvalidDdlRequestError(problems);
  return {
    database,
    table,
    workGroup: workGroup as string,
    create: create as string,
    columns,
    dropOnDestroy: dropOnDestroy as boolean,
  };
}

function parseColumns(value: unknown, prefix: string, problems: string[]): TableColumn[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push(`${prefix}columns must be a non-empty array of {name, type}`);
    return [];
  }
  const seen = new Set<string>();
  const columns: TableColumn[] = [];
  value.forEach((column: unknown, index) => {
    const where = `${prefix}columns[${index}]`;
    if (!isObject(column)) {
      problems.push(`${where} must be an object {name, type}`);
      return;
    }
    const { name } = column;
    const type = normalizeColumnType(column.type);
    if (!isValidIdentifier(name)) {
      problems.push(`${where}.name must match ${IDENTIFIER.source}, got ${JSON.stringify(name)}`);
    } else if (seen.has(name)) {
      problems.push(`${where}.name ${name} is declared twice`);
    }
    if (type === undefined) {
      problems.push(
        `${where}.type ${JSON.stringify(column.type)} is not an allowed Athena Iceberg type ` +
          '(string, int, bigint, double, float, boolean, date, timestamp, binary, decimal(p,s))',
      );
    }
    if (isValidIdentifier(name) && type !== undefined) {
      seen.add(name);
      columns.push({ name, type });
    }
  });
  return columns;
}

/** The statement without `--` comment lines, surrounding blanks and a trailing semicolon. */
function statementText(sql: string): string {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .trim()
    .replace(/;\s*$/, '');
}

/** Whether `sql` is one `CREATE TABLE IF NOT EXISTS` statement for exactly `database.table`. */
function createsTable(sql: string, database: string, table: string): boolean {
  if (sql.includes(';')) return false;
  const name = (identifier: string): string => `(?:\`${identifier}\`|${identifier})`;
  const head = new RegExp(`^CREATE\\s+TABLE\\s+IF\\s+NOT\\s+EXISTS\\s+${name(database)}\\.${name(table)}(?![a-z0-9_])`, 'i');
  return head.test(sql);
}
