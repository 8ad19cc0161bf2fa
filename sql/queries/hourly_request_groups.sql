-- Distinct requests per tenant, usage hour, resource path, method and status, for the request-time
-- range [range_start, range_end). The billing dimensions are applied to these groups in code
-- (core/usage/request-dimensions.ts), so which paths and statuses bill is configuration, not SQL.
-- Parameters (text, positional): 1 = range_start, 2 = range_end, 'YYYY-MM-DD HH:MM:SS.mmm' in UTC.
-- Portable between Athena (Trino) and DuckDB. The bounds sit on request_time, the source column of
-- the table's hour(request_time) partitioning, so Athena reads only the hours asked for.
-- Firehose delivers at least once: copies of a request share request_id and request_time, so each
-- request is counted once by grouping on request_id (copies always fall in the same hour).
-- Requests without a tenant (rejected by the authorizer) bill nobody and are left out.
WITH unique_requests AS (
  SELECT
    tenant_id,
    request_id,
    max(request_time) AS request_time,
    max(resource_path) AS resource_path,
    max(http_method) AS http_method,
    max(status) AS status,
    max(response_length) AS response_length
  FROM access_logs
  WHERE request_time >= CAST(? AS timestamp)
    AND request_time < CAST(? AS timestamp)
    AND tenant_id IS NOT NULL
  GROUP BY tenant_id, request_id
)
SELECT
  tenant_id,
  CAST(date_trunc('hour', request_time) AS varchar) AS usage_hour,
  resource_path,
  http_method,
  status,
  count(*) AS requests,
  coalesce(sum(response_length), 0) AS response_bytes
FROM unique_requests
GROUP BY tenant_id, date_trunc('hour', request_time), resource_path, http_method, status
ORDER BY usage_hour, tenant_id, resource_path, http_method, status
