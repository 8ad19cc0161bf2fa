import { CostAllocationConfigError, parseCostAllocationConfig, ruleForService } from '../../../core/cost/allocation-config';

const valid = {
  currency: 'USD',
  tenantTag: 'user_tenant_id',
  rules: [
    { service: 'AWSLambda', split: 'proportional', stream: 'lambda_duration_ms', whenNoConsumption: 'even' },
    { service: 'AmazonApiGateway', split: 'proportional', stream: 'api_requests', description: 'per request' },
    { service: 'AWSGlue', split: 'even' },
  ],
};

function problemsOf(value: unknown): string[] {
  try {
    parseCostAllocationConfig(value);
  } catch (error) {
    expect(error).toBeInstanceOf(CostAllocationConfigError);
    return [...(error as CostAllocationConfigError).problems];
  }
  throw new Error('expected a CostAllocationConfigError');
}

const withRules = (...rules: unknown[]) => ({ ...valid, rules });

describe('cost allocation configuration', () => {
  it('parses rules, defaults whenNoConsumption to unallocated and derives the minor-unit digits', () => {
    const config = parseCostAllocationConfig(valid);
    expect(config.minorUnitDigits).toBe(2);
    expect(config.rules).toEqual([
      { service: 'AWSLambda', split: 'proportional', stream: 'lambda_duration_ms', whenNoConsumption: 'even' },
      { service: 'AmazonApiGateway', split: 'proportional', stream: 'api_requests', whenNoConsumption: 'unallocated', description: 'per request' },
      { service: 'AWSGlue', split: 'even' },
    ]);
    expect(parseCostAllocationConfig({ ...valid, currency: 'JPY' }).minorUnitDigits).toBe(0);
    expect(ruleForService(config, 'AWSGlue')).toEqual({ service: 'AWSGlue', split: 'even' });
    expect(ruleForService(config, 'AmazonS3')).toBeUndefined();
  });

  it('refuses a stream that is not a consumption stream, naming the path and the streams', () => {
    expect(problemsOf(withRules({ service: 'AWSLambda', split: 'proportional', stream: 'lambda_seconds' }))).toEqual([
      'rules.0.stream: must be a consumption stream (api_requests, response_bytes, lambda_invocations, lambda_duration_ms, dynamodb_capacity_units), got "lambda_seconds"',
    ]);
    expect(problemsOf(withRules({ service: 'AWSLambda', split: 'proportional' }))).toEqual([expect.stringMatching(/^rules\.0\.stream: must be a consumption stream .*got undefined$/)]);
  });

  it('refuses a duplicate service, naming both rules', () => {
    expect(problemsOf(withRules({ service: 'AWSGlue', split: 'even' }, { service: 'AWSLambda', split: 'even' }, { service: 'AWSGlue', split: 'proportional', stream: 'api_requests' }))).toEqual([
      'rules.2.service: duplicate service "AWSGlue" (already ruled by rules.0)',
    ]);
  });

  it('refuses unknown keys at every level', () => {
    expect(problemsOf({ ...valid, tenantTags: 'x' })).toEqual(['(root): Unrecognized key: "tenantTags"']);
    expect(problemsOf(withRules({ service: 'AWSGlue', split: 'even', whenNoConsumption: 'even' }))).toEqual(['rules.0: Unrecognized key: "whenNoConsumption"']);
    expect(problemsOf(withRules({ service: 'AWSGlue', split: 'proportional', stream: 'api_requests', weight: 2 }))).toEqual(['rules.0: Unrecognized key: "weight"']);
  });

  it('names every other problem with its path', () => {
    expect(problemsOf({ currency: 'usd', tenantTag: '', rules: [{ service: 'AWSGlue', split: 'evenly' }, 'AWSLambda', { service: '', split: 'even' }, { service: 'AmazonS3', split: 'proportional', stream: 'api_requests', whenNoConsumption: 'skip' }] })).toEqual([
      'currency: must be an ISO 4217 code of three capital letters',
      'tenantTag: must be a tag key of 1-128 characters without control characters',
      'rules.0.split: must be "proportional" or "even"',
      'rules.1: must be a rule object ({ service, split, ... })',
      expect.stringMatching(/^rules\.2\.service: must be a CUR product code/),
      'rules.3.whenNoConsumption: must be "even" or "unallocated"',
    ]);
    expect(problemsOf({ currency: 'USD', tenantTag: 'user_tenant_id' })).toEqual(['rules: Invalid input: expected array, received undefined']);
    expect(problemsOf(null)).toEqual(['(root): Invalid input: expected object, received null']);
  });

  it('names the source in the message', () => {
    expect(() => parseCostAllocationConfig({ ...valid, currency: 'EURO' }, 'rules.json')).toThrow('Invalid cost allocation configuration (rules.json):\n  - currency: must be an ISO 4217 code of three capital letters');
  });
});
