import { ACCESS_LOG_FIELDS, type AccessLogFieldType } from '../access-log/fields';

/** A column of an Iceberg table, with its Athena DDL type. */
export interface TableColumn {
  readonly name: string;
  readonly type: string;
}

const COLUMN_TYPE: Record<AccessLogFieldType, string> = {
  string: 'string',
  integer: 'int',
  epoch_millis: 'timestamp',
  ip: 'string',
};

/** Columns of the access-log table, derived from the access-log field list, in its order. */
export const ACCESS_LOG_COLUMNS: readonly TableColumn[] = ACCESS_LOG_FIELDS.map((field) => ({
  name: field.name,
  type: COLUMN_TYPE[field.type],
}));

/** Default name of the access-log table in the usage database. */
export const ACCESS_LOG_TABLE = 'access_logs';
