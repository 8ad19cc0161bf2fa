-- Billable requests and response bytes per tenant for one hour [hour_start, hour_end).
-- Parameters (strings, positional): 1 = hour_start, 2 = hour_end, as 'YYYY-MM-DD HH:MM:SS.mmm' UTC.
-- Portable between Athena (Trino) and DuckDB. The time bounds sit on request_time, the partition
-- source column (hour(request_time)), so Athena reads only that hour's partition.
-- Firehose delivers at least once: a request may be stored more than once, always with the same
-- request_id and request_time, so each request is counted once by grouping on request_id.
-- A request is billable when it has a tenant (from the verified token) and a 2xx status.
WITH unique_requests AS (
  SELECT
    tenant_id,
    request_id,
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
  count(*) AS billable_requests,
  coalesce(sum(response_length), 0) AS response_bytes
FROM unique_requests
WHERE status BETWEEN 200 AND 299
GROUP BY tenant_id
ORDER BY tenant_id
