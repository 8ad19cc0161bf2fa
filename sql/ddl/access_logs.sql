-- The access-log table: one row per API Gateway request, written by Amazon Data Firehose.
-- Run by the ddl-runner function at deploy time; {{database}}, {{table}} and {{location}} are
-- filled in at synth from the stack's own names (identifiers cannot be query parameters).
-- The columns must match core/access-log/fields.ts (a test checks it).
-- Partitioned by hour(request_time): an hourly billing query reads exactly the hour it asks for.
-- Firehose delivers at least once: a request may be stored twice, so queries de-duplicate by request_id.
CREATE TABLE IF NOT EXISTS `{{database}}`.`{{table}}` (
  `request_id` string,
  `ip` string,
  `user` string,
  `request_time` timestamp,
  `http_method` string,
  `resource_path` string,
  `status` int,
  `protocol` string,
  `response_length` int,
  `tenant_id` string,
  `path` string,
  `stage` string,
  `api_id` string,
  `response_latency` int,
  `integration_latency` int,
  `error_type` string
)
PARTITIONED BY (hour(`request_time`))
LOCATION '{{location}}'
TBLPROPERTIES (
  'table_type' = 'ICEBERG',
  'format' = 'parquet',
  'write_compression' = 'zstd',
  'optimize_rewrite_delete_file_threshold' = '10'
)
