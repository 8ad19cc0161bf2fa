import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { METERING_CONFIG_FILE, readMeteringConfigFile } from '../../../config/metering-config-file';
import { PRICING_CONFIG_FILE, readPricingConfigFile } from '../../../config/pricing-config-file';
import { PricingConfigError, type PricingConfig } from '../../../core/pricing/plan-schema';
import { rateUsage } from '../../../core/pricing/rating';
import { dimensionNamesOf, parseMeteringConfig } from '../../../core/usage/metering-config';

const metering = readMeteringConfigFile();

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PricingConfigError);
    return [...(error as PricingConfigError).problems];
  }
  throw new Error('expected a PricingConfigError');
}

describe('config/pricing.json', () => {
  const config: PricingConfig = readPricingConfigFile(metering);

  it('is valid against config/metering.json', () => {
    expect(config.plans.map((p) => p.id)).toEqual(expect.arrayContaining(['starter', 'growth']));
    expect(config.plans.map((p) => p.id)).toContain(config.defaultPlan);
  });

  it('prices every dimension of the metering configuration in at least two plans', () => {
    for (const dimension of dimensionNamesOf(metering)) {
      const pricing = config.plans.filter((p) => p.charges.some((c) => c.dimension === dimension));
      expect([dimension, pricing.length >= 2]).toEqual([dimension, true]);
    }
  });

  it('uses every charge kind, a free allowance, a flat fee, a minimum commitment and a graduated api_requests', () => {
    const charges = config.plans.flatMap((p) => p.charges);
    expect(new Set(charges.map((c) => c.kind))).toEqual(new Set(['per_unit', 'graduated', 'volume', 'package']));
    expect(charges.some((c) => c.freeAllowance > 0n)).toBe(true);
    expect(config.plans.some((p) => p.flatFeeMinor > 0n)).toBe(true);
    expect(config.plans.some((p) => p.minimumCommitmentMinor > 0n)).toBe(true);
    expect(charges.filter((c) => c.dimension === 'api_requests').map((c) => c.kind)).toContain('graduated');
  });

  it('rates a month of every dimension under every plan without unpriced usage', () => {
    const usage = Object.fromEntries(dimensionNamesOf(metering).map((d) => [d, 123_456_789n]));
    for (const plan of config.plans) {
      const invoice = rateUsage(plan, usage, { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) });
      expect(invoice.totalMinor).toBeGreaterThan(0n);
      expect(invoice.unpriced).toEqual([]);
    }
  });
});

describe('readPricingConfigFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pricing-file-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
  };
  const plan = (charges: unknown[]) => ({ id: 'p', name: 'P', currency: 'USD', charges });

  it('reads the shipped file by default', () => {
    expect(PRICING_CONFIG_FILE.endsWith(path.join('config', 'pricing.json'))).toBe(true);
    expect(readPricingConfigFile(metering).defaultPlan).toBe('starter');
  });

  it('names every charge on a dimension the metering configuration lacks', () => {
    const file = write('typo.json', JSON.stringify({
      plans: [plan([{ dimension: 'api_request', kind: 'per_unit', price: 1 }, { dimension: 'tokens', kind: 'per_unit', price: 1 }, { dimension: 'gpu_seconds', kind: 'per_unit', price: 1 }])],
      defaultPlan: 'p',
    }));
    const problems = problemsOf(() => readPricingConfigFile(metering, file));
    expect(problems).toEqual([
      expect.stringMatching(/^plans\.0\.charges\.0\.dimension: "api_request" \(plan p\) is not a dimension of the metering configuration \(dimensions: api_requests, response_bytes, tokens, /),
      expect.stringMatching(/^plans\.0\.charges\.2\.dimension: "gpu_seconds" \(plan p\)/),
    ]);
    expect(() => readPricingConfigFile(metering, file)).toThrow(`Invalid pricing configuration (${file})`);
  });

  it('checks against the metering configuration it is given', () => {
    const requestsOnly = parseMeteringConfig({ ...JSON.parse(fs.readFileSync(METERING_CONFIG_FILE, 'utf8')), meters: [] });
    const file = write('tokens.json', JSON.stringify({ plans: [plan([{ dimension: 'tokens', kind: 'per_unit', price: 1 }])], defaultPlan: 'p' }));
    expect(readPricingConfigFile(metering, file).plans).toHaveLength(1);
    expect(problemsOf(() => readPricingConfigFile(requestsOnly, file))).toEqual([
      'plans.0.charges.0.dimension: "tokens" (plan p) is not a dimension of the metering configuration (dimensions: api_requests, response_bytes)',
    ]);
  });

  it('names a missing file, invalid JSON and schema problems', () => {
    expect(problemsOf(() => readPricingConfigFile(metering, path.join(dir, 'missing.json')))).toEqual(['cannot be read: ENOENT']);
    expect(problemsOf(() => readPricingConfigFile(metering, write('broken.json', '{ "plans": ')))).toEqual([expect.stringMatching(/^is not valid JSON: /)]);
    expect(problemsOf(() => readPricingConfigFile(metering, write('unknown.json', JSON.stringify({ plans: [plan([])], defaultPlan: 'gold' }))))).toEqual([
      'defaultPlan: unknown plan "gold" (plans: p)',
    ]);
  });
});

describe('readPricingConfigFile on files of its own', () => {
  const validPlan = {
    id: 'pro',
    name: 'Pro',
    currency: 'USD',
    charges: [{ dimension: 'requests', kind: 'graduated', freeAllowance: 1000, tiers: [{ upTo: 100000, price: { amountMinor: 1, per: 1000 } }, { upTo: null, price: { amountMinor: 1, per: 2000 } }] }],
  };
  const metering = parseMeteringConfig({
    dimensions: [{ name: 'requests', measure: 'requests', match: { resourcePaths: ['*'] } }],
    aggregation: { graceSeconds: 0, lookBackHours: 6, maxHoursPerRun: 24 },
  });
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pricing-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads and validates a JSON file', () => {
    const file = path.join(dir, 'plans.json');
    fs.writeFileSync(file, JSON.stringify({ defaultPlan: 'pro', plans: [validPlan] }));
    expect(readPricingConfigFile(metering, file).plans[0].id).toBe('pro');
  });

  it('names the file for invalid JSON and invalid content', () => {
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, '{ plans: ');
    expect(() => readPricingConfigFile(metering, broken)).toThrow(/broken\.json.*\n.*not valid JSON/);
    const invalid = path.join(dir, 'invalid.json');
    fs.writeFileSync(invalid, JSON.stringify({ defaultPlan: 'pro', plans: [{ ...validPlan, currency: 'EURO' }] }));
    expect(() => readPricingConfigFile(metering, invalid)).toThrow(/invalid\.json[\s\S]*plans\.0\.currency/);
  });
});
