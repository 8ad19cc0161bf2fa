-- Tenant consumption from the access logs: per tenant and period (UTC hour or day), the requests
-- (each request counted once) and their response bytes, for the request-time range
-- [range_start, range_end). Cost allocation splits shared cost by these figures
-- (core/cost/lake-consumption.ts), so they follow the billing query's rules exactly.
-- Parameters (text, positional): 1 = range_start, 2 = range_end, 'YYYY-MM-DD HH:MM:SS.mmm' in UTC;
-- 3 = the period, 'hour' or 'day' (the unit of date_trunc).
-- Portable between Athena (Trino) and DuckDB. The bounds sit on request_time, the source column of
-- the table's hour(request_time) partitioning, so Athena reads only the hours asked for.
-- Duplicates: as in hourly_request_groups.sql, Firehose delivers at least once and the copies of a
-- request share request_id and request_time, so each request is counted once by grouping on
-- request_id. Requests without a tenant (rejected by the authorizer) are nobody's and left out.
-- Counts and sums are returned as text, so no engine or driver rounds a large byte count.
WITH unique_requests AS (
  SELECT
    tenant_id,
    request_id,
    max(request_time) AS request_time,
    max(response_length) AS response_length
  FROM access_logs
  WHERE request_time >= CAST(? AS timestamp)
    AND request_time < CAST(? AS timestamp)
    AND tenant_id IS NOT NULL
  GROUP BY tenant_id, request_id
),
periods AS (
  SELECT
    tenant_id,
    date_trunc(?, request_time) AS period,
    response_length
  FROM unique_requests
)
SELECT
  tenant_id,
  CAST(period AS varchar) AS period_start,
  CAST(count(*) AS varchar) AS requests,
  CAST(coalesce(sum(response_length), 0) AS varchar) AS response_bytes
FROM periods
GROUP BY tenant_id, period
ORDER BY period_start, tenant_id
