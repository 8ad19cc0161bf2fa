-- Custom meters: per tenant, meter and usage hour, every aggregate a meter can ask for, over the
-- hour's distinct events, for the event-time range [range_start, range_end). Which aggregate a meter
-- bills is configuration (config/metering.json), applied in code (core/usage/meter-values.ts).
-- Parameters (text, positional): 1 = range_start, 2 = range_end, 'YYYY-MM-DD HH:MM:SS.mmm' in UTC.
-- Portable between Athena (Trino) and DuckDB. The bounds sit on event_time, the source column of the
-- table's hour(event_time) partitioning, so Athena reads only the hours asked for.
-- Duplicates: Firehose delivers at least once and reporters resend. An event id counts once per tenant
-- and hour of its event time: of its copies, the first received is kept (then the earliest event
-- time, then the smallest quantity, so the choice never depends on the engine).
-- LATEST: the quantity of the hour's last event by event time, then by event id.
-- Quantities are stored as exact decimal text, summed as DECIMAL(38, 6) and returned as text, so that
-- no engine rounds them through a double.
WITH copies AS (
  SELECT
    tenant_id,
    event_id,
    meter,
    CAST(quantity AS decimal(38, 6)) AS quantity,
    event_time,
    unique_value,
    date_trunc('hour', event_time) AS usage_hour,
    row_number() OVER (
      PARTITION BY tenant_id, event_id, date_trunc('hour', event_time)
      ORDER BY received_at, event_time, CAST(quantity AS decimal(38, 6)), meter
    ) AS copy
  FROM usage_events
  WHERE event_time >= CAST(? AS timestamp)
    AND event_time < CAST(? AS timestamp)
),
events AS (
  SELECT
    tenant_id,
    meter,
    usage_hour,
    quantity,
    unique_value,
    row_number() OVER (PARTITION BY tenant_id, meter, usage_hour ORDER BY event_time DESC, event_id DESC) AS recency
  FROM copies
  WHERE copy = 1
)
SELECT
  tenant_id,
  meter,
  CAST(usage_hour AS varchar) AS usage_hour,
  count(*) AS events,
  CAST(sum(quantity) AS varchar) AS quantity_sum,
  CAST(max(quantity) AS varchar) AS quantity_max,
  CAST(max(CASE WHEN recency = 1 THEN quantity END) AS varchar) AS quantity_latest,
  count(DISTINCT unique_value) AS unique_values
FROM events
GROUP BY tenant_id, meter, usage_hour
ORDER BY usage_hour, tenant_id, meter
