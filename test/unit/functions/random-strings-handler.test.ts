import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { consumptionFromEmfLines } from '../../../core/cost/emf-consumption';
import { TenantMetrics } from '../../../functions/commons/tenant-metrics';
import { createRandomStringsHandler } from '../../../functions/random-strings/handler';

const emfLines: string[] = [];
const NOW = Date.UTC(2026, 10, 23, 10, 15);
const handler = createRandomStringsHandler({
  logger: new Logger({ serviceName: 'random-strings', logLevel: 'SILENT' }),
  metrics: new TenantMetrics({ serviceName: 'random-strings', namespace: 'Test/Tenants', write: (line) => emfLines.push(line), now: () => NOW }),
});

const context = { functionName: 'random-strings', awsRequestId: 'req-1' } as Context;

const TENANT_CLAIMS = { 'custom:tenant_id': 'tenant-a', 'cognito:username': 'u1' };

function event(query: Record<string, string> | null, claims: Record<string, string> | null = TENANT_CLAIMS): APIGatewayProxyEvent {
  return {
    queryStringParameters: query,
    multiValueQueryStringParameters: query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
    requestContext: { requestId: 'api-req-1', authorizer: claims ? { claims } : undefined },
  } as unknown as APIGatewayProxyEvent;
}

describe('random-strings handler', () => {
  it('answers 200 with a JSON array of strings', async () => {
    const response = await handler(event({ len: '7', num: '3', chars: 'digits' }), context);
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toMatch(/application\/json/);
    const body = JSON.parse(response.body) as string[];
    expect(body).toHaveLength(3);
    for (const s of body) expect(s).toMatch(/^[0-9]{7}$/);
  });

  it('answers 400 with every reason for invalid parameters', async () => {
    const response = await handler(event({ chars: 'symbols', len: '0' }), context);
    expect(response.statusCode).toBe(400);
    const body = JSON.parse(response.body);
    expect(body.message).toBe('Invalid query parameters');
    expect(body.errors.map((e: { parameter: string }) => e.parameter).sort()).toEqual(['chars', 'len']);
  });

  it('answers 403 when the verified token carries no tenant', async () => {
    const response = await handler(event({ len: '3' }, { 'cognito:username': 'u1' }), context);
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body).message).toMatch(/no tenant/);
  });

  it('answers 403 without authorizer claims at all', async () => {
    const response = await handler(event(null, null), context);
    expect(response.statusCode).toBe(403);
  });

  it('ignores a tenant given anywhere but the verified claims', async () => {
    const e = event({ len: '3' }, { 'cognito:username': 'u1' });
    (e as { headers: Record<string, string> }).headers = { 'x-tenant-id': 'tenant-b' };
    expect((await handler(e, context)).statusCode).toBe(403);
  });

  it('records each call of a tenant in the tenant metrics (invocations and duration), and none for a caller without tenant', async () => {
    emfLines.length = 0;
    await handler(event({ len: '7' }), context);
    await handler(event({ len: 'x' }, { 'custom:tenant_id': 'tenant-b' }), context);
    await handler(event({ len: '7' }, { 'cognito:username': 'u1' }), context);
    const hour = Date.UTC(2026, 10, 23, 10);
    const { records } = consumptionFromEmfLines(emfLines, { range: { start: hour, end: hour + 3_600_000 }, granularity: 'HOURLY', namespace: 'Test/Tenants' });
    const invocations = records.filter((r) => r.stream === 'lambda_invocations').map((r) => [r.tenantId, r.value]);
    expect(invocations.sort()).toEqual([['tenant-a', '1'], ['tenant-b', '1']]);
    expect(records.filter((r) => r.stream === 'lambda_duration_ms').map((r) => r.tenantId).sort()).toEqual(['tenant-a', 'tenant-b']);
  });
});
