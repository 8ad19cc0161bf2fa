import { GlueCatalogTable } from '@cdktf/provider-aws/lib/glue-catalog-table';
import { Construct } from 'constructs';

/**
 * The Cost and Usage Report (CUR 2.0) as a table of the usage database: an external Parquet table over
 * the files a BCM Data Exports export writes, partitioned by billing period with partition projection
 * (no crawler, no `MSCK REPAIR TABLE`: Athena computes the partitions from the table properties).
 *
 * Declared here once for the Glue table, the export's query and `sql/ddl/cur2_cost_and_usage.sql` (the
 * same table as Athena DDL, for an export made outside the stack); a test keeps the DDL file in step.
 *
 * Why a Glue table rather than DDL through the `ddl-runner`: the table holds no data of its own (the
 * export owns the files), so creating, changing or dropping it never touches data, and Terraform can
 * manage it like any other resource — a changed column, location or projection is applied by the next
 * plan. The `ddl-runner` exists for the Iceberg tables, whose data Athena owns: it only ever appends
 * columns and never re-runs a changed CREATE statement.
 */

/** Name of the table; `sql/queries/daily_cost_lines.sql` reads it from the usage database. */
export const CUR_TABLE = 'cur2_cost_and_usage';

/** A column of the CUR 2.0 table: its name as CUR 2.0 writes it, and its Athena (Hive) type. */
export interface CurColumn {
  readonly name: string;
  readonly type: string;
  readonly comment: string;
}

/**
 * The columns cost allocation reads, in CUR 2.0's names and types (Data Exports table dictionary).
 * Parquet columns are matched by name, so more columns can be appended at any time: add them here
 * (the export then selects them too) and to the DDL file.
 */
export const CUR_COLUMNS: readonly CurColumn[] = [
  { name: 'line_item_usage_start_date', type: 'timestamp', comment: 'Start of the usage the line covers (UTC); a day with TIME_GRANULARITY DAILY' },
  { name: 'line_item_product_code', type: 'string', comment: 'The service, e.g. AWSLambda' },
  { name: 'line_item_resource_id', type: 'string', comment: 'The resource (INCLUDE_RESOURCES = TRUE); empty when the line has none' },
  { name: 'line_item_unblended_cost', type: 'double', comment: 'Cost of the line; negative for credits and refunds' },
  { name: 'line_item_currency_code', type: 'string', comment: 'ISO 4217 currency of the cost' },
  { name: 'resource_tags', type: 'map<string,string>', comment: 'Activated cost allocation tags of the resource, keyed like user_tenant_id' },
];

/** The partition key: the export writes each billing period (month) under `BILLING_PERIOD=YYYY-MM/`. */
export const CUR_PARTITION_KEY = { name: 'billing_period', type: 'string', comment: 'Billing period (month), YYYY-MM' } as const;

/**
 * First billing period the projection knows: November 2023, the first month CUR 2.0 exports exist for.
 * The range ends at `NOW`, so every new month is a partition without any change to the table.
 */
export const CUR_PROJECTION_START = '2023-11';

/** Prefix of the data files of one billing period under the data location. */
export const CUR_PERIOD_FOLDER = 'BILLING_PERIOD=';

/**
 * The table properties: partition projection of `billing_period` as months from
 * {@link CUR_PROJECTION_START} to now, each month's files under `<location>BILLING_PERIOD=<month>/`.
 * `${billing_period}` is Athena's placeholder, not Terraform's: `escapeForTerraform` writes it `$${…}`.
 */
export function curTableProperties(dataLocation: string, escapeForTerraform = false): Record<string, string> {
  const placeholder = `${escapeForTerraform ? '$$' : '$'}{${CUR_PARTITION_KEY.name}}`;
  const key = `projection.${CUR_PARTITION_KEY.name}`;
  return {
    'projection.enabled': 'true',
    [`${key}.type`]: 'date',
    [`${key}.format`]: 'yyyy-MM',
    [`${key}.interval`]: '1',
    [`${key}.interval.unit`]: 'MONTHS',
    [`${key}.range`]: `${CUR_PROJECTION_START},NOW`,
    'storage.location.template': `${dataLocation}${CUR_PERIOD_FOLDER}${placeholder}/`,
  };
}

/** The export's query: exactly the table's columns, from the CUR 2.0 table of Data Exports. */
export function curExportQuery(): string {
  return `SELECT ${CUR_COLUMNS.map((column) => column.name).join(', ')} FROM COST_AND_USAGE_REPORT`;
}

/** Parquet through the Hive SerDe, as Athena reads it. */
export const PARQUET_STORAGE = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
} as const;

export interface CurTableProps {
  /** 1 to create the table, 0 not to (a Terraform expression). */
  readonly count: number;
  /** The Glue database (the usage database). */
  readonly databaseName: string;
  /** `s3://<bucket>/<prefix>/<export name>/data/`, with the trailing slash. */
  readonly dataLocation: string;
}

/** The CUR 2.0 table in the Glue Data Catalog. */
export class CurTable extends Construct {
  readonly table: GlueCatalogTable;
  readonly tableName = CUR_TABLE;

  constructor(scope: Construct, id: string, props: CurTableProps) {
    super(scope, id);
    this.table = new GlueCatalogTable(this, 'table', {
      count: props.count,
      name: CUR_TABLE,
      databaseName: props.databaseName,
      description: 'AWS Cost and Usage Report (CUR 2.0 data export, Parquet): the columns cost allocation reads',
      tableType: 'EXTERNAL_TABLE',
      parameters: { EXTERNAL: 'TRUE', classification: 'parquet', ...curTableProperties(props.dataLocation, true) },
      partitionKeys: [{ ...CUR_PARTITION_KEY }],
      storageDescriptor: {
        location: props.dataLocation,
        inputFormat: PARQUET_STORAGE.inputFormat,
        outputFormat: PARQUET_STORAGE.outputFormat,
        serDeInfo: { serializationLibrary: PARQUET_STORAGE.serializationLibrary, parameters: { 'serialization.format': '1' } },
        columns: CUR_COLUMNS.map((column) => ({ ...column })),
      },
    });
  }
}
