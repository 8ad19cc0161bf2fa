-- The AWS Cost and Usage Report (CUR 2.0, a BCM Data Exports export in Parquet) as an Athena table:
-- an external table over the files the export writes to
-- s3://<bucket>/<prefix>/<export name>/data/BILLING_PERIOD=YYYY-MM/.
-- With cost_export_enabled the stack creates this same table as a Glue table (declared in
-- modules/cost-allocation/cur-table.ts; a test keeps this file in step with it). Run this file
-- yourself for an export made outside the stack: replace {{database}} with the usage database,
-- {{table}} with cur2_cost_and_usage (the name sql/queries/daily_cost_lines.sql reads) and
-- {{location}} with the export's data/ folder, trailing slash included; the export must select at least
-- these columns, with INCLUDE_RESOURCES = TRUE (line_item_resource_id) and resource_tags.
-- Only the columns cost allocation reads. Parquet columns are matched by name, so more columns of the
-- export can be appended here (and in cur-table.ts) at any time, and the export may hold more
-- columns than the table declares.
-- Partition projection on billing_period (no crawler, no MSCK REPAIR TABLE): Athena computes the
-- partitions, months from 2023-11 (the first month of CUR 2.0) to now, from the table properties, and
-- a query bounded on billing_period reads only those months' files.
CREATE EXTERNAL TABLE IF NOT EXISTS `{{database}}`.`{{table}}` (
  `line_item_usage_start_date` timestamp,
  `line_item_product_code` string,
  `line_item_resource_id` string,
  `line_item_unblended_cost` double,
  `line_item_currency_code` string,
  `resource_tags` map<string,string>
)
PARTITIONED BY (`billing_period` string)
STORED AS PARQUET
LOCATION '{{location}}'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.billing_period.type' = 'date',
  'projection.billing_period.format' = 'yyyy-MM',
  'projection.billing_period.interval' = '1',
  'projection.billing_period.interval.unit' = 'MONTHS',
  'projection.billing_period.range' = '2023-11,NOW',
  'storage.location.template' = '{{location}}BILLING_PERIOD=${billing_period}/'
)
