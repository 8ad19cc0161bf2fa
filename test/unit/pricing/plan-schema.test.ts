import { parsePlan, parsePricingConfig, planById, planOfTenant, PricingConfigError, UnknownPlanError, unknownDimensionProblems } from '../../../core/pricing/plan-schema';

const validPlan = {
  id: 'pro',
  name: 'Pro',
  currency: 'USD',
  flatFeeMinor: 4900,
  minimumCommitmentMinor: '10000',
  charges: [
    { dimension: 'requests', kind: 'graduated', freeAllowance: 1000, tiers: [{ upTo: 100000, price: { amountMinor: 1, per: 1000 } }, { upTo: null, price: { amountMinor: 1, per: 2000 } }] },
    { dimension: 'response_bytes', kind: 'package', packageSize: 1073741824, priceMinor: 9 },
    { dimension: 'exports', kind: 'per_unit', price: 25 },
    { dimension: 'seats', kind: 'volume', tiers: [{ upTo: 10, price: 1000 }, { upTo: null, price: 800 }] },
  ],
};

function problemsOf(value: unknown): string[] {
  try {
    parsePricingConfig(value);
  } catch (error) {
    expect(error).toBeInstanceOf(PricingConfigError);
    return [...(error as PricingConfigError).problems];
  }
  throw new Error('expected a validation error');
}

describe('pricing configuration schema', () => {
  it('parses amounts to bigint, prices to rationals and derives minor-unit digits', () => {
    const config = parsePricingConfig({ defaultPlan: 'pro', plans: [validPlan, { id: 'jp', name: 'Japan', currency: 'JPY', charges: [] }] });
    const [pro, jp] = config.plans;
    expect(pro.flatFeeMinor).toBe(4900n);
    expect(pro.minimumCommitmentMinor).toBe(10000n);
    expect(pro.minorUnitDigits).toBe(2);
    expect(jp.minorUnitDigits).toBe(0);
    expect(jp.flatFeeMinor).toBe(0n);
    expect(pro.charges[0]).toMatchObject({ kind: 'graduated', freeAllowance: 1000n, tiers: [{ upTo: 100000n, price: { amountMinor: 1n, per: 1000n } }, { upTo: null }] });
    expect(pro.charges[2]).toMatchObject({ kind: 'per_unit', freeAllowance: 0n, price: { amountMinor: 25n, per: 1n } });
  });

  it('keeps a given minorUnitDigits and accepts decimal strings beyond 2^53', () => {
    const plan = parsePlan({ id: 'x', name: 'X', currency: 'USD', minorUnitDigits: 3, charges: [{ dimension: 'd', kind: 'per_unit', price: '18446744073709551616' }] });
    expect(plan.minorUnitDigits).toBe(3);
    expect(plan.charges[0]).toMatchObject({ price: { amountMinor: 2n ** 64n, per: 1n } });
  });

  it('requires ascending tiers ending with an open tier, naming the path', () => {
    const tiers = (list: unknown[]) => ({ defaultPlan: 'pro', plans: [{ ...validPlan, charges: [{ dimension: 'requests', kind: 'volume', tiers: list }] }] });
    expect(problemsOf(tiers([{ upTo: 10, price: 1 }, { upTo: 10, price: 1 }, { upTo: null, price: 1 }]))).toEqual([
      "plans.0.charges.0.tiers.1.upTo: must be greater than the previous tier's upTo (10)",
    ]);
    expect(problemsOf(tiers([{ upTo: 10, price: 1 }, { upTo: 20, price: 1 }]))).toEqual(['plans.0.charges.0.tiers.1.upTo: the last tier must be open (upTo: null)']);
    expect(problemsOf(tiers([{ upTo: null, price: 1 }, { upTo: null, price: 1 }]))).toEqual(['plans.0.charges.0.tiers.0.upTo: only the last tier may be open (upTo: null)']);
    expect(problemsOf(tiers([]))[0]).toMatch(/^plans\.0\.charges\.0\.tiers: /);
    expect(problemsOf(tiers([{ upTo: 0, price: 1 }, { upTo: null, price: 1 }]))).toEqual(['plans.0.charges.0.tiers.0.upTo: must be positive']);
  });

  it('rejects bad currencies, amounts, prices and duplicates with their paths', () => {
    const problems = problemsOf({
      defaultPlan: 'pro',
      plans: [
        { ...validPlan, currency: 'usd', flatFeeMinor: 1.5 },
        { ...validPlan, charges: [{ dimension: 'a', kind: 'per_unit', price: { amountMinor: -1, per: 0 } }, { dimension: 'a', kind: 'package', packageSize: 0, priceMinor: 1 }] },
      ],
    });
    expect(problems).toEqual(expect.arrayContaining([
      'plans.0.currency: must be an ISO 4217 code of three capital letters',
      'plans.0.flatFeeMinor: must be a non-negative safe integer, got 1.5 (write larger values as a decimal string)',
      'plans.1.charges.0.price.amountMinor: must be a non-negative safe integer, got -1 (write larger values as a decimal string)',
      'plans.1.charges.0.price.per: must be positive',
      'plans.1.charges.1.packageSize: must be positive',
    ]));
    expect(problemsOf({ defaultPlan: 'pro', plans: [{ ...validPlan, charges: [validPlan.charges[2], { ...validPlan.charges[1], dimension: 'exports' }] }] })).toEqual([
      'plans.0.charges.1.dimension: duplicate dimension "exports"',
    ]);
    expect(problemsOf({ defaultPlan: 'pro', plans: [{ ...validPlan, charges: [{ dimension: 'a', kind: 'per_unit', price: 'ten' }] }] })).toEqual([
      'plans.0.charges.0.price.amountMinor: must be a non-negative decimal integer, got "ten"',
    ]);
  });

  it('rejects duplicate plan ids', () => {
    expect(problemsOf({ defaultPlan: 'pro', plans: [validPlan, { ...validPlan, name: 'Pro again' }] })).toEqual(['plans.1.id: duplicate plan id "pro"']);
  });

  it('rejects unknown charge kinds, unknown keys and unsafe JSON numbers', () => {
    expect(problemsOf({ defaultPlan: 'pro', plans: [{ ...validPlan, charges: [{ dimension: 'a', kind: 'stairstep', price: 1 }] }] })[0]).toMatch(/^plans\.0\.charges\.0\.kind: /);
    expect(problemsOf({ defaultPlan: 'pro', plans: [{ ...validPlan, discount: 5 }] })[0]).toMatch(/^plans\.0: .*discount/);
    expect(problemsOf({ defaultPlan: 'pro', plans: [{ ...validPlan, flatFeeMinor: 2 ** 60 }] })[0]).toMatch(/^plans\.0\.flatFeeMinor: /);
    expect(problemsOf({ defaultPlan: 'pro', plans: [{ ...validPlan, flatFeeMinor: '-5' }] })).toEqual(['plans.0.flatFeeMinor: must be a non-negative decimal integer, got "-5"']);
    expect(problemsOf({ defaultPlan: 'pro', plans: [{ ...validPlan, flatFeeMinor: true }] })).toEqual(['plans.0.flatFeeMinor: must be a non-negative integer (number, decimal string or bigint)']);
    expect(problemsOf({ defaultPlan: 'pro', plans: [] })[0]).toMatch(/^plans: /);
  });

  it('lists every problem in the error message', () => {
    expect(() => parsePlan({ id: 'Bad', name: '', currency: 'USD', charges: [] }, 'plans.json')).toThrow(/Invalid pricing configuration \(plans\.json\):\n {2}- id: .*\n {2}- name: /);
  });
});

describe('plan assignment', () => {
  const basic = { id: 'basic', name: 'Basic', currency: 'USD', charges: [] };

  it('reads defaultPlan and tenantPlans (empty when omitted) and picks each tenant\'s plan', () => {
    const config = parsePricingConfig({ plans: [validPlan, basic], defaultPlan: 'basic', tenantPlans: { acme: 'pro', 'globex.eu': 'basic' } });
    expect(config.defaultPlan).toBe('basic');
    expect(config.tenantPlans).toEqual({ acme: 'pro', 'globex.eu': 'basic' });
    expect(planOfTenant(config, 'acme').id).toBe('pro');
    expect(planOfTenant(config, 'globex.eu').id).toBe('basic');
    expect(planOfTenant(config, 'initech').id).toBe('basic');
    expect(planOfTenant(config, 'toString').id).toBe('basic'); // not an inherited property
    expect(parsePricingConfig({ plans: [validPlan], defaultPlan: 'pro' }).tenantPlans).toEqual({});
  });

  it('names unknown plan ids and the plans there are', () => {
    expect(problemsOf({ plans: [validPlan, basic], defaultPlan: 'gold', tenantPlans: { acme: 'pro', globex: 'silver' } })).toEqual([
      'defaultPlan: unknown plan "gold" (plans: pro, basic)',
      'tenantPlans.globex: unknown plan "silver" (plans: pro, basic)',
    ]);
  });

  it('requires defaultPlan and text plan ids, and rejects control characters in tenant ids', () => {
    expect(problemsOf({ plans: [validPlan] })).toEqual([expect.stringMatching(/^defaultPlan: /)]);
    expect(problemsOf({ plans: [validPlan], defaultPlan: 'pro', tenantPlans: { acme: 7 } })).toEqual(['tenantPlans.acme: must be a plan id (text)']);
    expect(problemsOf({ plans: [validPlan], defaultPlan: 'pro', tenantPlans: { 'bad\ntenant': 'pro' } })).toEqual([
      'tenantPlans.bad\ntenant: the tenant id must be 1-256 characters without control characters',
    ]);
    expect(problemsOf({ plans: [validPlan], defaultPlan: 'pro', tenantPlans: [] })[0]).toMatch(/^tenantPlans: /);
  });

  it('finds a plan by id, or names the plans there are', () => {
    const config = parsePricingConfig({ plans: [validPlan, basic], defaultPlan: 'pro' });
    expect(planById(config, 'basic').name).toBe('Basic');
    expect(() => planById(config, 'gold')).toThrow(UnknownPlanError);
    expect(() => planById(config, 'gold')).toThrow('unknown plan "gold" (plans: pro, basic)');
  });

  it('lists each charge on a dimension the metering configuration does not have', () => {
    const config = parsePricingConfig({ plans: [validPlan, { ...basic, charges: [{ dimension: 'seats', kind: 'per_unit', price: 1 }] }], defaultPlan: 'pro' });
    expect(unknownDimensionProblems(config, ['requests', 'response_bytes', 'exports', 'seats'])).toEqual([]);
    expect(unknownDimensionProblems(config, ['requests', 'response_bytes'])).toEqual([
      'plans.0.charges.2.dimension: "exports" (plan pro) is not a dimension of the metering configuration (dimensions: requests, response_bytes)',
      'plans.0.charges.3.dimension: "seats" (plan pro) is not a dimension of the metering configuration (dimensions: requests, response_bytes)',
      'plans.1.charges.0.dimension: "seats" (plan basic) is not a dimension of the metering configuration (dimensions: requests, response_bytes)',
    ]);
  });
});
