/**
 * A line of AWS cost, as the Cost and Usage Report (CUR 2.0 data export) lists it, reduced to what
 * allocation needs. In AWS the lines come from the CUR table through Athena; locally from a cost file.
 */
export interface CostLine {
  /** Start of the line's usage (CUR `line_item_usage_start_date`), epoch ms. */
  readonly start: number;
  /** The service (CUR `line_item_product_code`, e.g. `AWSLambda`, `AmazonDynamoDB`). */
  readonly service: string;
  /** The resource (CUR `line_item_resource_id`), when the line has one. */
  readonly resourceId?: string;
  /** Resource tags (CUR 2.0 `resource_tags`, keys as the export writes them, e.g. `user_tenant_id`). */
  readonly tags: Readonly<Record<string, string>>;
  /** Cost as exact decimal text (CUR `line_item_unblended_cost`, e.g. `"0.0000166667"`); may be negative (credits). */
  readonly amount: string;
  /** ISO 4217 code (CUR `line_item_currency_code`). */
  readonly currency: string;
}

/**
 * Where cost lines come from: the CUR table through Athena in AWS (adapters/athena/athena-cost-lines.ts),
 * a cost file locally (local/cost/cost-file-source.ts).
 */
export interface CostLineSource {
  /** The lines whose usage day (UTC day of `start`) lies in `[start, end)`, a range of whole UTC days in epoch ms. */
  read(range: { readonly start: number; readonly end: number }): Promise<CostLine[]>;
}
