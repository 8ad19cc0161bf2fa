import type * as FirehoseSdk from '@aws-sdk/client-firehose';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { parseJsonBody, MAX_BODY_BYTES } from '../../../functions/usage-events/request-body';
import { usageCallerOf } from '../../../functions/usage-events/usage-caller';
import { captureOutput } from '../../support/capture-output';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

type FirehoseStub = AwsStub<object, FirehoseSdk.ServiceOutputTypes, object>;
let firehose: FirehoseStub;
let sdk: typeof FirehoseSdk;

/** A fresh handler module whose Firehose client answers as `setUp` says (every record accepted by default). */
function loadHandler(setUp?: (stub: FirehoseStub) => void): Handler {
  const saved = { ...process.env };
  process.env.DELIVERY_STREAM_NAME = 'amazon-apigateway-test';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'Test/Tenants';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  try {
    let handler: Handler | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      sdk = require('@aws-sdk/client-firehose') as typeof FirehoseSdk;
      firehose = mockClient(sdk.FirehoseClient) as unknown as FirehoseStub;
      if (setUp) setUp(firehose);
      else {
        firehose.on(sdk.PutRecordBatchCommand).callsFake((input: { Records: unknown[] }) => ({
          FailedPutCount: 0,
          RequestResponses: input.Records.map((_, i) => ({ RecordId: `rec-${i}` })),
        }));
      }
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = (require('../../../functions/usage-events/index') as { handler: Handler }).handler;
    });
    return handler as Handler;
  } finally {
    process.env = saved;
  }
}

function apiEvent(resource: string, body: unknown, context: { claims?: Record<string, string>; userArn?: string } = {}): APIGatewayProxyEvent {
  return {
    resource,
    path: resource,
    httpMethod: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      requestId: 'req-1',
      authorizer: context.claims ? { claims: context.claims } : undefined,
      identity: { userArn: context.userArn ?? null },
    },
  } as unknown as APIGatewayProxyEvent;
}

const CONTEXT = { functionName: 'usage-events', awsRequestId: 'aws-1' } as Context;
const now = () => new Date(Date.now() - 60_000).toISOString();

describe('usage-events handler', () => {
  it('accepts a tenant\'s events and puts them on the delivery stream with its tenant', async () => {
    const handler = loadHandler();
    const body = { events: [{ id: 'e1', meter: 'tokens', quantity: 40, timestamp: now() }] };
    const { value: result } = await captureOutput(() => handler(apiEvent('/usage', body, { claims: { 'custom:tenant_id': 'acme' } }), CONTEXT));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body).accepted).toEqual([{ index: 0, id: 'e1' }]);
    const call = firehose.commandCalls(sdk.PutRecordBatchCommand)[0].args[0].input as FirehoseSdk.PutRecordBatchInput;
    expect(call.DeliveryStreamName).toBe('amazon-apigateway-test');
    const record = JSON.parse(Buffer.from(call.Records?.[0].Data as Uint8Array).toString('utf8'));
    expect(record).toMatchObject({ record_type: 'usage_event', tenant_id: 'acme', event_id: 'e1', meter: 'tokens', quantity: '40', source: 'tenant' });
  });

  it('refuses a tenant caller without a tenant claim, and an unsigned backend call, with 403', async () => {
    const handler = loadHandler();
    const body = { events: [{ id: 'e1', meter: 'tokens', quantity: 1, timestamp: now(), tenantId: 'acme' }] };
    const { value: noTenant } = await captureOutput(() => handler(apiEvent('/usage', body, { claims: { sub: 'x' } }), CONTEXT));
    const { value: unsigned } = await captureOutput(() => handler(apiEvent('/backend/usage', body, { claims: { 'custom:tenant_id': 'acme' } }), CONTEXT));
    expect([noTenant.statusCode, unsigned.statusCode]).toEqual([403, 403]);
    expect(firehose.commandCalls(sdk.PutRecordBatchCommand)).toHaveLength(0);
  });

  it('answers 400 for invalid JSON and lists rejected events, logging ids and reasons but never properties', async () => {
    const handler = loadHandler();
    const { value: invalid } = await captureOutput(() => handler(apiEvent('/usage', '{"events": [', { claims: { 'custom:tenant_id': 'acme' } }), CONTEXT));
    expect(invalid.statusCode).toBe(400);
    expect(JSON.parse(invalid.body).message).toBe('The body is not valid JSON');
    const body = { events: [{ id: 'e1', meter: 'nope', quantity: 1, timestamp: now(), properties: { secret: 'do-not-log-me' } }] };
    const { value: result, output } = await captureOutput(() => handler(apiEvent('/usage', body, { claims: { 'custom:tenant_id': 'acme' } }), CONTEXT));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).rejected[0].reasons[0]).toMatch(/^unknown meter "nope"/);
    expect(output).toContain('usage events not accepted');
    expect(output).not.toContain('do-not-log-me');
  });

  it('answers 503 with the events Firehose kept refusing', async () => {
    const handler = loadHandler((stub) => stub.on(sdk.PutRecordBatchCommand).rejects(Object.assign(new Error('stream gone'), { name: 'ResourceNotFoundException' })));
    const body = { events: [{ id: 'e1', meter: 'tokens', quantity: 1, timestamp: now(), tenantId: 'acme' }] };
    const { value: result } = await captureOutput(() => handler(apiEvent('/backend/usage', body, { userArn: 'arn:aws:iam::123456789012:role/billing-backend' }), CONTEXT));
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body).failed).toEqual([{ index: 0, id: 'e1', reason: 'not delivered: ResourceNotFoundException (stream gone)' }]);
  });
});

describe('usageCallerOf', () => {
  const claims = { 'custom:tenant_id': 'acme' };
  it('takes the tenant from the verified claims on /usage only', () => {
    expect(usageCallerOf(apiEvent('/usage', {}, { claims }))).toEqual({ ok: true, caller: { kind: 'tenant', tenantId: 'acme' } });
    expect(usageCallerOf(apiEvent('/usage', {}, {}))).toMatchObject({ ok: false, statusCode: 403 });
  });
  it('treats /backend/usage as a backend only when the request was IAM-signed', () => {
    expect(usageCallerOf(apiEvent('/backend/usage', {}, { userArn: 'arn:aws:sts::123456789012:assumed-role/app/x' }))).toEqual({ ok: true, caller: { kind: 'backend' } });
    expect(usageCallerOf(apiEvent('/backend/usage', {}, { claims }))).toMatchObject({ ok: false, statusCode: 403 });
  });
  it('refuses any other resource', () => {
    expect(usageCallerOf(apiEvent('/random/strings', {}, { claims }))).toMatchObject({ ok: false, statusCode: 404 });
  });
});

describe('parseJsonBody', () => {
  it('reads plain and base64 bodies, and refuses empty, oversized and invalid ones', () => {
    expect(parseJsonBody({ body: '{"a":1}', isBase64Encoded: false })).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonBody({ body: Buffer.from('{"a":2}').toString('base64'), isBase64Encoded: true })).toEqual({ ok: true, value: { a: 2 } });
    expect(parseJsonBody({ body: null, isBase64Encoded: false })).toMatchObject({ ok: false, statusCode: 400 });
    expect(parseJsonBody({ body: 'x'.repeat(MAX_BODY_BYTES + 1), isBase64Encoded: false })).toMatchObject({ ok: false, statusCode: 413 });
    expect(parseJsonBody({ body: 'nope', isBase64Encoded: false })).toEqual({ ok: false, statusCode: 400, message: 'The body is not valid JSON' });
  });
});
