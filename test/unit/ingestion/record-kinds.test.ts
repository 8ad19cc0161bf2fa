import { ACCESS_LOG_KIND, ConfigurationError, kindOf, RECORD_KINDS, routingFromEnvironment, routingInDatabase, USAGE_EVENT_KIND, type RecordKind } from '../../../core/ingestion/record-kinds';
import { validationContextAt } from '../../../core/ingestion/access-log-schema';
import { accessLog, NOW } from './fixtures';

describe('the record-kind registry', () => {
  it('holds the usage-event kind, then the catch-all access-log kind, each with its own destination', () => {
    expect(RECORD_KINDS).toEqual([USAGE_EVENT_KIND, ACCESS_LOG_KIND]);
    expect(USAGE_EVENT_KIND.destinationEnvironment).toEqual({ database: 'USAGE_EVENT_DATABASE', table: 'USAGE_EVENT_TABLE' });
    expect(ACCESS_LOG_KIND.destinationEnvironment).toEqual({ database: 'ACCESS_LOG_DATABASE', table: 'ACCESS_LOG_TABLE' });
  });

  it('routes records with the usage-event marker to the usage-event kind and everything else to access logs', () => {
    expect(kindOf({ record_type: 'usage_event' })).toBe(USAGE_EVENT_KIND);
    expect(kindOf({ record_type: 'something_else' })).toBe(ACCESS_LOG_KIND);
    expect(kindOf(accessLog())).toBe(ACCESS_LOG_KIND);
  });

  it('gives a record to the first kind that recognises it; access logs take the rest', () => {
    const usage: RecordKind = { ...ACCESS_LOG_KIND, name: 'usage-event', recognises: (record) => record.kind === 'usage' };
    expect(kindOf({ kind: 'usage' }, [usage, ACCESS_LOG_KIND])).toBe(usage);
    expect(kindOf(accessLog(), [usage, ACCESS_LOG_KIND])).toBe(ACCESS_LOG_KIND);
    expect(kindOf({ kind: 'usage' }, [usage])).toBe(usage);
    expect(kindOf({}, [usage])).toBeUndefined();
  });

  it('normalises an access log into its JSON line, or says why not', () => {
    const context = validationContextAt(NOW);
    const ok = ACCESS_LOG_KIND.normalise(accessLog(), context);
    expect(ok.ok && JSON.parse(ok.json)).toMatchObject({ status: 200, error_type: null });
    expect(ACCESS_LOG_KIND.normalise(accessLog({ status: '1' }), context)).toEqual({
      ok: false,
      reason: 'status: outside 100..599',
      requestId: 'c6b2a3e4-1f0d-4b8a-9c2e-5d7f8a9b0c1d',
    });
  });
});

describe('routingFromEnvironment', () => {
  it('reads each kind destination from its environment variables', () => {
    const routing = routingFromEnvironment({ ACCESS_LOG_DATABASE: 'saas_metering', ACCESS_LOG_TABLE: 'access_logs', USAGE_EVENT_DATABASE: 'saas_metering', USAGE_EVENT_TABLE: 'usage_events', OTHER: 'x' });
    expect([...routing]).toEqual([
      ['usage-event', { databaseName: 'saas_metering', tableName: 'usage_events' }],
      ['access-log', { databaseName: 'saas_metering', tableName: 'access_logs' }],
    ]);
  });

  it('routes every kind to its own lake table in one database for local runs', () => {
    expect([...routingInDatabase('local_usage')]).toEqual([
      ['usage-event', { databaseName: 'local_usage', tableName: 'usage_events' }],
      ['access-log', { databaseName: 'local_usage', tableName: 'access_logs' }],
    ]);
  });

  it('throws a ConfigurationError naming every missing variable', () => {
    expect(() => routingFromEnvironment({})).toThrow(ConfigurationError);
    expect(() => routingFromEnvironment({})).toThrow(
      'ingestion transform misconfigured: USAGE_EVENT_DATABASE is not set; USAGE_EVENT_TABLE is not set; ACCESS_LOG_DATABASE is not set; ACCESS_LOG_TABLE is not set',
    );
    expect(() => routingFromEnvironment({ ACCESS_LOG_DATABASE: 'db', ACCESS_LOG_TABLE: '' }, [ACCESS_LOG_KIND])).toThrow('ACCESS_LOG_TABLE is not set');
  });

  it.each(['access logs', 'db;drop', 'x'.repeat(256), 'tâble', 'a.b'])('rejects the malformed name %j', (name) => {
    expect(() => routingFromEnvironment({ ACCESS_LOG_DATABASE: 'db', ACCESS_LOG_TABLE: name }, [ACCESS_LOG_KIND])).toThrow('ACCESS_LOG_TABLE is not a valid Glue name');
  });
});
