-- AWS cost lines of a range of whole UTC days, from the CUR 2.0 table (sql/ddl/cur2_cost_and_usage.sql):
-- per usage day, service (product code), resource, tenant tag value and currency, the summed cost.
-- Cost allocation (core/cost/allocate-costs.ts) gives these lines to tenants day by day: a line whose
-- tenant tag names a tenant is that tenant's, the others are split by consumption.
-- Parameters (text, positional, in this order):
--   1 = the resource_tags key of the tenant tag, as CUR 2.0 writes it ('user_tenant_id' for tenant_id);
--   2 = the first billing period of the range, 'YYYY-MM'; 3 = its last billing period, 'YYYY-MM';
--   4 = range_start, 5 = range_end, 'YYYY-MM-DD HH:MM:SS.mmm' in UTC: the days [range_start, range_end).
-- Athena only (the local run reads a cost file instead). billing_period is the table's projected
-- partition key: bounds 2 and 3 make Athena read only the months of the range.
-- Exact sums: CUR 2.0 stores costs as double. Each line's cost is cast to DECIMAL(38, 10) before it is
-- summed: CUR costs carry about ten fraction digits, which the cast keeps (rounding half up beyond
-- them), and a decimal sum adds no float error however many lines it adds. The sum is returned as
-- text, so that no engine or driver rounds it through a double.
-- Lines without a cost (NULL) are left out; a line without a resource (CUR writes an empty string)
-- has resource_id NULL, and a line without the tag has tenant_tag NULL.
WITH lines AS (
  SELECT
    date_trunc('day', line_item_usage_start_date) AS day_start,
    line_item_product_code AS service,
    nullif(line_item_resource_id, '') AS resource_id,
    element_at(resource_tags, ?) AS tenant_tag,
    line_item_currency_code AS currency,
    CAST(line_item_unblended_cost AS decimal(38, 10)) AS cost
  FROM cur2_cost_and_usage
  WHERE billing_period >= ?
    AND billing_period <= ?
    AND line_item_usage_start_date >= CAST(? AS timestamp)
    AND line_item_usage_start_date < CAST(? AS timestamp)
    AND line_item_unblended_cost IS NOT NULL
)
SELECT
  CAST(day_start AS varchar) AS usage_day,
  service,
  resource_id,
  tenant_tag,
  currency,
  CAST(sum(cost) AS varchar) AS amount
FROM lines
GROUP BY day_start, service, resource_id, tenant_tag, currency
ORDER BY day_start, service, resource_id, tenant_tag, currency
