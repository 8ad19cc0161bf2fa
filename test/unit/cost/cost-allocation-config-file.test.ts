import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COST_ALLOCATION_CONFIG_FILE, readCostAllocationConfigFile } from '../../../config/cost-allocation-config-file';
import { allocateCosts } from '../../../core/cost/allocate-costs';
import { CostAllocationConfigError } from '../../../core/cost/allocation-config';
import { CONSUMPTION_STREAMS, type ConsumptionRecord } from '../../../core/cost/consumption';
import { parseCostFileText } from '../../../core/cost/cost-file';

const SAMPLE_COSTS = path.join(__dirname, '../../../local/cost/sample-costs.json');

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CostAllocationConfigError);
    return [...(error as CostAllocationConfigError).problems];
  }
  throw new Error('expected a CostAllocationConfigError');
}

describe('config/cost-allocation.json', () => {
  const config = readCostAllocationConfigFile();

  it('is valid: USD, the user_tenant_id tag, the rules the design names', () => {
    expect(COST_ALLOCATION_CONFIG_FILE.endsWith(path.join('config', 'cost-allocation.json'))).toBe(true);
    expect(config).toMatchObject({ currency: 'USD', minorUnitDigits: 2, tenantTag: 'user_tenant_id' });
    expect(config.rules).toEqual(expect.arrayContaining([
      expect.objectContaining({ service: 'AmazonApiGateway', split: 'proportional', stream: 'api_requests' }),
      expect.objectContaining({ service: 'AWSLambda', split: 'proportional', stream: 'lambda_duration_ms' }),
      expect.objectContaining({ service: 'AmazonDynamoDB', split: 'proportional', stream: 'dynamodb_capacity_units' }),
      expect.objectContaining({ service: 'AmazonKinesisFirehose', split: 'proportional', stream: 'response_bytes' }),
      expect.objectContaining({ service: 'AWSGlue', split: 'even' }),
    ]));
  });

  it('rules every service of the sample cost file except the one left unallocated on purpose', () => {
    const services = new Set(parseCostFileText(fs.readFileSync(SAMPLE_COSTS, 'utf8')).map((l) => l.service));
    const ruled = new Set(config.rules.map((r) => r.service));
    expect([...services].filter((s) => !ruled.has(s))).toEqual(['AWSSecretsManager']);
    expect([...ruled].filter((s) => !services.has(s))).toEqual([]);
  });

  it('allocates the sample: initech gets its silo, only the unruled line stays unallocated', () => {
    const costs = parseCostFileText(fs.readFileSync(SAMPLE_COSTS, 'utf8'));
    const tenants = ['acme', 'globex', 'initech'];
    const days = [...new Set(costs.map((l) => Date.UTC(new Date(l.start).getUTCFullYear(), new Date(l.start).getUTCMonth(), new Date(l.start).getUTCDate())))];
    const consumption: ConsumptionRecord[] = days.flatMap((start, d) => tenants.flatMap((tenantId, t) => CONSUMPTION_STREAMS.map((stream) => ({
      tenantId, stream, granularity: 'DAILY' as const, start, value: String((t + 1) * 1000 + d),
    }))));
    const result = allocateCosts({ config, tenants, costs, consumption, granularity: 'DAILY' });
    expect(result.unallocated).toEqual([{ day: '2026-11-01', service: 'AWSSecretsManager', amountMinor: 1n, reason: 'no rule for service AWSSecretsManager', lineCount: 1 }]);
    expect(result.allocations.filter((a) => a.basis === 'silo')).toEqual(['2026-11-01', '2026-11-02', '2026-11-03'].map((day) => ({ tenantId: 'initech', day, service: 'AmazonS3', basis: 'silo', amountMinor: 5n })));
    expect(result.allocatedMinor + result.unallocatedMinor).toBe(result.totalMinor);
    expect(result.byTenant.map((t) => t.tenantId)).toEqual(tenants);
    for (const t of result.byTenant) {
      expect(t.costMinor > 0n).toBe(true);
      expect(t.byService.map((s) => s.service)).toEqual(expect.arrayContaining(['AWSLambda', 'AmazonApiGateway', 'AmazonDynamoDB', 'AmazonKinesisFirehose', 'AmazonS3', 'AmazonCloudWatch']));
    }
  });
});

describe('readCostAllocationConfigFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-allocation-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
  };

  it('reads a file of its own', () => {
    const file = write('rules.json', JSON.stringify({ currency: 'EUR', tenantTag: 'user_tenant', rules: [{ service: 'AWSGlue', split: 'even' }] }));
    expect(readCostAllocationConfigFile(file)).toEqual({ currency: 'EUR', minorUnitDigits: 2, tenantTag: 'user_tenant', rules: [{ service: 'AWSGlue', split: 'even' }] });
  });

  it('names a missing file, invalid JSON and schema problems, with the file', () => {
    expect(problemsOf(() => readCostAllocationConfigFile(path.join(dir, 'missing.json')))).toEqual(['cannot be read: ENOENT']);
    expect(problemsOf(() => readCostAllocationConfigFile(write('broken.json', '{ "rules": ')))).toEqual([expect.stringMatching(/^is not valid JSON: /)]);
    const invalid = write('invalid.json', JSON.stringify({ currency: 'USD', tenantTag: 'user_tenant_id', rules: [{ service: 'AWSLambda', split: 'proportional', stream: 'cpu' }] }));
    expect(() => readCostAllocationConfigFile(invalid)).toThrow(/invalid\.json\):\n {2}- rules\.0\.stream: must be a consumption stream/);
  });
});
