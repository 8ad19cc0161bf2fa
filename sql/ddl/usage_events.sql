-- The custom usage-event table: one row per event posted to POST /usage, written by Amazon Data
-- Firehose through the same delivery stream and transform as the access logs (routed by record kind).
-- Run by the ddl-runner function at deploy time; {{database}}, {{table}} and {{location}} are filled in
-- at synth. The columns must match core/lake/usage-event-table.ts (a test checks it).
-- quantity is exact decimal text (a JSON number would pass through a double); queries cast it to
-- DECIMAL(38,6).
-- Partitioned by hour(event_time): the hourly meter query reads exactly the hours it asks for.
-- Firehose delivers at least once and reporters retry: queries de-duplicate by tenant and event_id.
CREATE TABLE IF NOT EXISTS `{{database}}`.`{{table}}` (
  `tenant_id` string,
  `event_id` string,
  `meter` string,
  `quantity` string,
  `event_time` timestamp,
  `received_at` timestamp,
  `unique_value` string,
  `properties` string,
  `source` string
)
PARTITIONED BY (hour(`event_time`))
LOCATION '{{location}}'
TBLPROPERTIES (
  'table_type' = 'ICEBERG',
  'format' = 'parquet',
  'write_compression' = 'zstd',
  'optimize_rewrite_delete_file_threshold' = '10'
)
