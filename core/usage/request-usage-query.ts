import { parseSqlTimestamp, sqlTimestamp } from './hours';
import type { RequestGroup } from './request-dimensions';
import { integerValue, textValue, type UsageQueryEngine } from './usage-query-engine';

/** Runs the hourly request-groups SQL for [start, end) and returns typed groups. */
export async function queryRequestGroups(
  engine: UsageQueryEngine,
  sql: string,
  range: { start: number; end: number },
): Promise<{ groups: RequestGroup[]; bytesScanned?: number }> {
  const result = await engine.query({ sql, parameters: [sqlTimestamp(range.start), sqlTimestamp(range.end)], timeRange: range });
  const groups = result.rows.map((row) => ({
    tenantId: textValue(row.tenant_id, 'tenant_id'),
    hour: parseSqlTimestamp(textValue(row.usage_hour, 'usage_hour')),
    resourcePath: textValue(row.resource_path, 'resource_path'),
    httpMethod: textValue(row.http_method, 'http_method'),
    status: integerValue(row.status, 'status'),
    requests: integerValue(row.requests, 'requests'),
    responseBytes: integerValue(row.response_bytes, 'response_bytes'),
  }));
  return { groups, bytesScanned: result.bytesScanned };
}
