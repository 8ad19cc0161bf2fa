/**
 * The cost-line query on a CUR 2.0 table of another name. `sql/queries/daily_cost_lines.sql` reads the
 * table the stack creates (`cur2_cost_and_usage`) by its unqualified name, the database being the
 * query's context; an export made outside the stack may have its table under another name. A table
 * name cannot be a query parameter, so the name is put into the text — only a name that passed the
 * strict check below (lowercase letters, digits, underscores: what Glue and Athena name tables with),
 * and quoted as an identifier. Every value still goes as an execution parameter.
 */
import { STACK_CUR_TABLE } from './options';

/** Glue table names as Athena reads them. */
const TABLE = /^[a-z0-9_]{1,255}$/;

const STACK_TABLE_REFERENCE = new RegExp(`\\bFROM ${STACK_CUR_TABLE}\\b`, 'g');

/** The table name is not one a CUR query may read. */
export class CurTableNameError extends RangeError {
  override readonly name = 'CurTableNameError';
}

/**
 * `sql` (the text of `daily_cost_lines.sql`) reading `table` instead of the stack's table; unchanged
 * for the stack's table.
 * @throws CurTableNameError for a name that is not lowercase letters, digits and underscores
 * @throws Error when the SQL does not read the stack's table exactly once (it changed: this must follow)
 */
export function costLinesSqlForTable(sql: string, table: string): string {
  if (!TABLE.test(table)) throw new CurTableNameError(`CUR table name ${JSON.stringify(table)} must be 1-255 lowercase letters, digits or _`);
  const references = sql.match(STACK_TABLE_REFERENCE)?.length ?? 0;
  if (references !== 1) throw new Error(`the cost line SQL must read FROM ${STACK_CUR_TABLE} exactly once, it does ${references} times`);
  return table === STACK_CUR_TABLE ? sql : sql.replace(STACK_TABLE_REFERENCE, `FROM "${table}"`);
}
