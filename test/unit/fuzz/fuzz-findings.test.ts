/**
 * The counterexamples the fuzzing properties found (docs/fuzzing.md, "Bugs these properties found"),
 * kept as plain regression tests.
 */
import { transformBatch } from '../../../core/ingestion/transform-batch';
import { routingInDatabase } from '../../../core/ingestion/record-kinds';
import { parseListingConfig } from '../../../core/marketplace/listing-config';
import { parseCostFile } from '../../../core/cost/cost-file';
import { parsePricingConfig } from '../../../core/pricing/plan-schema';
import { validateUsageRequest } from '../../../core/usage-events/usage-event-validation';
import { readMeteringConfigFile } from '../../../config/metering-config-file';

const METERING = readMeteringConfigFile();
const NOW = Date.UTC(2026, 10, 23, 12);

it('a negative UNIQUE_COUNT value is a distinct value like any other, not a crash of the batch', () => {
  const timestamp = new Date(NOW - 60_000).toISOString();
  const result = validateUsageRequest({ events: [
    { id: 'e1', meter: 'active_users', timestamp, properties: { user_id: -1 } },
    { id: 'e2', meter: 'active_users', timestamp, properties: { user_id: -5e-324 } },
    { id: 'e3', meter: 'active_users', timestamp, properties: { user_id: 1 } },
  ] }, { kind: 'tenant', tenantId: 'acme' }, METERING, NOW);
  if (!result.ok) throw new Error(result.message);
  expect(result.rejected).toEqual([]);
  expect(result.accepted.map((e) => e.uniqueValue)).toEqual(['-1', expect.stringMatching(/^-0\.0+5/), '1']);
});

it('a record id that cannot be written as text fails that record, not the batch', () => {
  const result = transformBatch([
    { recordId: { toString: null } as unknown as string, approximateArrivalTimestamp: NOW, data: 'eA==' },
    { recordId: 'r2', approximateArrivalTimestamp: NOW, data: 'eA==' },
  ], routingInDatabase('db'), { nowMillis: NOW });
  expect(result.records.map((r) => r.result)).toEqual(['ProcessingFailed', 'ProcessingFailed']);
  expect(result.failures[0].recordId).toBe('(a record id that cannot be written as text)');
});

describe('"__proto__" keys are refused with their path, never dropped', () => {
  const plan = { id: 'basic', name: 'B', currency: 'USD', charges: [] };
  it('in tenantPlans', () => {
    expect(() => parsePricingConfig(JSON.parse('{"plans":[{"id":"basic","name":"B","currency":"USD","charges":[]}],"defaultPlan":"basic","tenantPlans":{"__proto__":"nope"}}'))).toThrow('tenantPlans.__proto__: "__proto__" cannot be used as a key');
    expect(parsePricingConfig({ plans: [plan], defaultPlan: 'basic', tenantPlans: { acme: 'basic' } }).tenantPlans).toEqual({ acme: 'basic' });
  });
  it('in the listing\'s dimensions', () => {
    expect(() => parseListingConfig(JSON.parse('{"productCode":"prod-x","dimensions":{"api_requests":"ApiRequests","__proto__":null}}'), METERING)).toThrow('dimensions.__proto__');
  });
  it('in a cost line\'s tags', () => {
    expect(() => parseCostFile(JSON.parse('{"currency":"USD","lines":[{"start":"2026-11-01T00:00:00Z","service":"AWSLambda","amount":"1.00","tags":{"__proto__":"x"}}]}'))).toThrow('lines.0.tags.__proto__');
  });
});
