import * as fs from 'node:fs';
import * as path from 'node:path';
import { CostFileError, parseCostFile, parseCostFileText } from '../../../core/cost/cost-file';

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CostFileError);
    return [...(error as CostFileError).problems];
  }
  throw new Error('expected a CostFileError');
}

const line = (extra: Record<string, unknown> = {}) => ({ start: '2026-11-01T00:00:00Z', service: 'AWSLambda', amount: '1.2345678901', ...extra });

describe('parseCostFile', () => {
  it('turns a cost file into cost lines in the file currency', () => {
    expect(parseCostFile({
      currency: 'USD',
      lines: [
        line(),
        line({ start: '2026-11-01T23:30:00.500+01:00', service: 'AmazonS3', resourceId: 'meter-exports-initech', tags: { user_tenant_id: 'initech' }, amount: '-0.25' }),
      ],
    })).toEqual([
      { start: Date.UTC(2026, 10, 1), service: 'AWSLambda', tags: {}, amount: '1.2345678901', currency: 'USD' },
      { start: Date.UTC(2026, 10, 1, 22, 30, 0, 500), service: 'AmazonS3', resourceId: 'meter-exports-initech', tags: { user_tenant_id: 'initech' }, amount: '-0.25', currency: 'USD' },
    ]);
    expect(parseCostFile({ currency: 'JPY', lines: [] })).toEqual([]);
  });

  it('reports every problem with its line index', () => {
    expect(problemsOf(() => parseCostFile({
      currency: 'USD',
      lines: [
        line(),
        line({ amount: 1.5 }),
        line({ amount: '1,5' }),
        line({ start: '2026-02-30T00:00:00Z' }),
        line({ start: '2026-11-01 00:00:00' }),
        line({ service: '' }),
        line({ tag: { user_tenant_id: 'initech' } }),
        line({ tags: { user_tenant_id: 7 } }),
        'AWSLambda 1.50',
        line({ amount: '0.0000000000001', resourceId: '' }),
      ],
    }))).toEqual([
      'lines.1.amount: must be decimal text (a string), got the number 1.5 (write it as a string to keep it exact)',
      'lines.2.amount: must be plain decimal text like "12.34", got "1,5"',
      'lines.3.start: must be an ISO 8601 time with an offset, such as "2026-11-01T00:00:00Z", got "2026-02-30T00:00:00Z"',
      'lines.4.start: must be an ISO 8601 time with an offset, such as "2026-11-01T00:00:00Z", got "2026-11-01 00:00:00"',
      'lines.5.service: must not be empty',
      'lines.6: Unrecognized key: "tag"',
      'lines.7.tags.user_tenant_id: a tag value must be text',
      'lines.8: must be a cost line object ({ start, service, amount, ... })',
      'lines.9.resourceId: must not be empty (leave it out instead)',
      'lines.9.amount: has more than 12 fraction digits: "0.0000000000001"',
    ]);
  });

  it('names problems of the file itself', () => {
    expect(problemsOf(() => parseCostFile([]))).toEqual(['(root): must be an object { "currency", "lines" }']);
    expect(problemsOf(() => parseCostFile({ currency: 'usd', lines: {}, total: '3' }))).toEqual([
      'currency: must be an ISO 4217 code of three capital letters',
      'lines: must be an array of cost lines',
      '(root): Unrecognized key: "total"',
    ]);
    expect(problemsOf(() => parseCostFileText('{ "currency": ', 'costs.json'))).toEqual([expect.stringMatching(/^is not valid JSON: /)]);
    expect(() => parseCostFileText('{}', 'costs.json')).toThrow(/^Invalid cost file \(costs\.json\):\n {2}- currency: /);
  });

  it('shows at most 20 problems in the message', () => {
    const run = () => parseCostFile({ currency: 'USD', lines: Array.from({ length: 23 }, () => line({ amount: 'x' })) });
    expect(problemsOf(run)).toHaveLength(23);
    expect(run).toThrow(/lines\.19\.amount[^\n]*\n {2}… and 3 more$/);
  });
});

describe('local/cost/sample-costs.json', () => {
  const lines = parseCostFileText(fs.readFileSync(path.join(__dirname, '../../../local/cost/sample-costs.json'), 'utf8'), 'sample-costs.json');

  it('covers a few days of the services of this system', () => {
    expect(new Set(lines.map((l) => new Date(l.start).toISOString().slice(0, 10))).size).toBeGreaterThanOrEqual(3);
    expect(new Set(lines.map((l) => l.service))).toEqual(new Set([
      'AWSLambda', 'AmazonApiGateway', 'AmazonDynamoDB', 'AmazonS3', 'AmazonKinesisFirehose', 'AmazonAthena', 'AWSGlue', 'AmazonCloudWatch', 'AWSSecretsManager',
    ]));
    expect(lines.every((l) => l.currency === 'USD')).toBe(true);
  });

  it('has one siloed resource of initech, a credit and one untagged line of a service without a rule', () => {
    const siloed = lines.filter((l) => l.tags.user_tenant_id !== undefined);
    expect(new Set(siloed.map((l) => `${l.service} ${l.resourceId} ${l.tags.user_tenant_id}`))).toEqual(new Set(['AmazonS3 meter-exports-initech initech']));
    expect(lines.some((l) => l.amount.startsWith('-'))).toBe(true);
    expect(lines.filter((l) => l.service === 'AWSSecretsManager').map((l) => l.tags)).toEqual([{}]);
  });
});
