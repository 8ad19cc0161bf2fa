import type { Context, FirehoseTransformationEvent } from 'aws-lambda';
import type { IcebergTransformationResult } from '../../../core/ingestion/transform-batch';
import { accessLog, base64, line } from './fixtures';
import { captureOutput } from '../../support/capture-output';

type Handler = (event: FirehoseTransformationEvent, context?: Context) => Promise<IcebergTransformationResult>;

const ENVIRONMENT = {
  ACCESS_LOG_DATABASE: 'saas_metering',
  ACCESS_LOG_TABLE: 'access_logs',
  USAGE_EVENT_DATABASE: 'saas_metering',
  USAGE_EVENT_TABLE: 'usage_events',
  METRICS_NAMESPACE: 'SaaSMeteringTest',
  POWERTOOLS_DEV: '',
  POWERTOOLS_METRICS_DISABLED: 'false',
};

/** Loads a fresh copy of the handler module with the given environment. */
function loadHandler(environment: Record<string, string | undefined>): Handler {
  const saved = { ...process.env };
  Object.assign(process.env, environment);
  for (const [name, value] of Object.entries(environment)) if (value === undefined) delete process.env[name];
  try {
    let handler: Handler | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = (require('../../../functions/access-log-transform/index') as { handler: Handler }).handler;
    });
    return handler as Handler;
  } finally {
    process.env = saved;
  }
}


const SECRET_USER = 'jane.doe.secret@example.com';
const SECRET_IP = '198.51.100.201';

function event(): FirehoseTransformationEvent {
  const now = String(Date.now());
  return {
    invocationId: 'invocation-1',
    deliveryStreamArn: 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/amazon-apigateway-usage',
    region: 'eu-west-1',
    records: [
      { recordId: 'r1', approximateArrivalTimestamp: Date.now(), data: base64(line(accessLog({ request_time: now }))) },
      { recordId: 'r2', approximateArrivalTimestamp: Date.now(), data: base64(line(accessLog({ request_time: now, user: SECRET_USER, ip: SECRET_IP, status: 'OK' }))) },
      { recordId: 'r3', approximateArrivalTimestamp: Date.now(), data: base64(`{"user":"${SECRET_USER}","ip":"${SECRET_IP}"`) },
      { recordId: 'r4', approximateArrivalTimestamp: Date.now(), data: '!!not base64!!' },
    ],
  };
}

describe('the access-log-transform handler', () => {
  it('answers every record in order, logs failures without their payload and publishes the counts', async () => {
    const handler = loadHandler(ENVIRONMENT);
    const input = event();
    const { value, output } = await captureOutput(() => handler(input));

    expect(value.records.map((record) => [record.recordId, record.result])).toEqual([
      ['r1', 'Ok'],
      ['r2', 'ProcessingFailed'],
      ['r3', 'ProcessingFailed'],
      ['r4', 'ProcessingFailed'],
    ]);
    expect(value.records[0]?.metadata).toEqual({ otfMetadata: { destinationDatabaseName: 'saas_metering', destinationTableName: 'access_logs', operation: 'insert' } });
    expect(value.records.slice(1).map((record) => record.data)).toEqual(input.records.slice(1).map((record) => record.data));

    const lines = output
      .split('\n')
      .filter((text) => text.trim() !== '')
      .map((text) => JSON.parse(text) as Record<string, unknown>);
    const failures = lines.filter((entry) => entry.message === 'record failed transformation');
    expect(failures).toEqual([
      expect.objectContaining({ level: 'WARN', service: 'access-log-transform', recordId: 'r2', requestId: 'c6b2a3e4-1f0d-4b8a-9c2e-5d7f8a9b0c1d', category: 'FailedSchema', reason: 'access-log: status: not a decimal integer' }),
      expect.objectContaining({ recordId: 'r3', category: 'FailedJson', reason: 'not valid JSON' }),
      expect.objectContaining({ recordId: 'r4', category: 'FailedDecode', reason: 'data is not valid base64' }),
    ]);
    expect(failures[1]).not.toHaveProperty('requestId');

    // Never the payload: neither the decoded values nor the raw base64 data.
    expect(output).not.toContain(SECRET_USER);
    expect(output).not.toContain(SECRET_IP);
    for (const record of input.records) expect(output).not.toContain(record.data.slice(0, 24));

    const emf = lines.find((entry) => entry._aws !== undefined) as Record<string, unknown>;
    expect(emf).toMatchObject({ RecordsOk: 1, RecordsFailed: 3, FailedDecode: 1, FailedJson: 1, FailedSchema: 1, service: 'access-log-transform' });
    // Categories that did not occur publish nothing (a custom metric costs money every month it gets data).
    for (const absent of ['FailedTooLarge', 'FailedResponseLimit', 'FailedInternal']) expect(emf).not.toHaveProperty(absent);
    expect(JSON.stringify(emf._aws)).toContain('"Namespace":"SaaSMeteringTest"');
    expect(lines.filter((entry) => entry._aws !== undefined)).toHaveLength(1);
  });

  it('never throws because of record content, and answers an empty batch', async () => {
    const handler = loadHandler(ENVIRONMENT);
    const garbage = {
      invocationId: 'x',
      deliveryStreamArn: 'arn',
      region: 'eu-west-1',
      records: [{ recordId: 'a', approximateArrivalTimestamp: 0, data: null }, { recordId: 'b' }, { data: base64('{}') }, null],
    } as unknown as FirehoseTransformationEvent;
    const { value } = await captureOutput(() => handler(garbage));
    expect(value.records.map((record) => record.result)).toEqual(['ProcessingFailed', 'ProcessingFailed', 'ProcessingFailed', 'ProcessingFailed']);
    const { value: empty } = await captureOutput(() => handler({ ...garbage, records: [] }));
    expect(empty).toEqual({ records: [] });
  });

  it('defaults the metrics namespace to SaaSMetering', async () => {
    const handler = loadHandler({ ...ENVIRONMENT, METRICS_NAMESPACE: undefined });
    const { output } = await captureOutput(() => handler(event()));
    expect(output).toContain('"Namespace":"SaaSMetering"');
  });

  it('refuses to start without its destination (a configuration error at cold start)', () => {
    expect(() => loadHandler({ ...ENVIRONMENT, ACCESS_LOG_TABLE: undefined })).toThrow('ACCESS_LOG_TABLE is not set');
    expect(() => loadHandler({ ...ENVIRONMENT, USAGE_EVENT_TABLE: undefined })).toThrow('USAGE_EVENT_TABLE is not set');
    expect(() => loadHandler({ ...ENVIRONMENT, ACCESS_LOG_DATABASE: undefined, ACCESS_LOG_TABLE: undefined })).toThrow(
      'ingestion transform misconfigured: ACCESS_LOG_DATABASE is not set; ACCESS_LOG_TABLE is not set',
    );
  });
});
