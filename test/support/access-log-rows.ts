/** Access-log rows shaped as the ingestion transform writes them (request_time in epoch µs). */
export function accessLogRow(fields: { id: string; tenant: string | null; at: number; status?: number; bytes?: number; path?: string; method?: string }) {
  return {
    request_id: fields.id,
    ip: '198.51.100.7',
    user: fields.tenant === null ? null : `user-of-${fields.tenant}`,
    request_time: fields.at * 1000,
    http_method: fields.method ?? 'GET',
    resource_path: fields.path ?? '/random/strings',
    status: fields.status ?? 200,
    protocol: 'HTTP/1.1',
    response_length: fields.bytes ?? 100,
    tenant_id: fields.tenant,
    path: `/prod${fields.path ?? '/random/strings'}`,
    stage: 'prod',
    api_id: 'abc123',
    response_latency: 20,
    integration_latency: 18,
    error_type: null,
  };
}
