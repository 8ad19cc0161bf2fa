import shippedListing from '../../../config/marketplace.json';
import { readListingConfigFile } from '../../../config/marketplace-config-file';
import { readMeteringConfigFile } from '../../../config/metering-config-file';
import { readPricingConfigFile } from '../../../config/pricing-config-file';
import { listingTargetOf, ListingConfigError, parseListingConfig } from '../../../core/marketplace/listing-config';
import { parsePlan, type Plan } from '../../../core/pricing/plan-schema';
import { parseMeteringConfig } from '../../../core/usage/metering-config';

const metering = parseMeteringConfig({
  dimensions: [
    { name: 'api_requests', measure: 'requests', match: { resourcePaths: ['*'] } },
    { name: 'response_bytes', measure: 'response_bytes', match: { resourcePaths: ['*'] } },
  ],
  aggregation: { graceSeconds: 0, lookBackHours: 1, maxHoursPerRun: 1 },
});

const GROWTH: Plan = parsePlan({
  id: 'growth',
  name: 'Growth',
  currency: 'USD',
  charges: [
    { dimension: 'api_requests', kind: 'graduated', freeAllowance: 100, tiers: [{ upTo: 1000, price: 5 }, { upTo: 10000, price: 3 }, { upTo: null, price: { amountMinor: 1, per: 1000 } }] },
    { dimension: 'response_bytes', kind: 'volume', tiers: [{ upTo: 1000, price: 2 }, { upTo: null, price: 1 }] },
  ],
});
const EURO: Plan = parsePlan({ id: 'euro', name: 'Euro', currency: 'EUR', charges: [{ dimension: 'api_requests', kind: 'per_unit', price: 1 }] });
const BASIC: Plan = parsePlan({ id: 'basic', name: 'Basic', currency: 'USD', charges: [{ dimension: 'api_requests', kind: 'per_unit', freeAllowance: 1000, price: 1 }] });
const PLANS = [GROWTH, EURO, BASIC];
const TIERS = ['ApiRequestsTier1', 'ApiRequestsTier2', 'ApiRequestsTier3'];

describe('listing configuration', () => {
  it('accepts the shipped config/marketplace.json, and compiles it against the shipped pricing plans', () => {
    expect(readListingConfigFile().dimensions.api_requests).toEqual({ tiers: TIERS, plan: 'growth', fractionalPrices: 'meter-charge' });
    const meteringConfig = readMeteringConfigFile();
    const compiled = parseListingConfig(shippedListing, meteringConfig, readPricingConfigFile(meteringConfig).plans);
    expect(listingTargetOf(compiled, 'api_requests')).toMatchObject({ kind: 'tiered', plan: 'growth', compiled: { kind: 'graduated', tiers: [{ listingDimension: 'ApiRequestsTier1' }, {}, {}] } });
    expect(listingTargetOf(compiled, 'reports_exported')).toMatchObject({ kind: 'tiered', plan: 'growth' });
    // Volume charges cannot be billed per unit on Marketplace: measured and rated, not sent there.
    expect(listingTargetOf(compiled, 'tokens')).toBeNull();
  });

  it('maps dimensions to listing names, null (not billed there) or undefined (unmapped)', () => {
    const config = parseListingConfig({ productCode: 'prod-1', dimensions: { api_requests: 'ApiRequests', response_bytes: null } }, metering);
    expect(listingTargetOf(config, 'api_requests')).toEqual({ kind: 'dimension', listingDimension: 'ApiRequests' });
    expect(listingTargetOf(config, 'response_bytes')).toBeNull();
    expect(listingTargetOf(config, 'errors')).toBeUndefined();
    expect(listingTargetOf(config, 'constructor')).toBeUndefined();
  });

  it('compiles a tiered dimension against its plan\'s charge when the plans are given', () => {
    const config = parseListingConfig({ productCode: 'prod-1', dimensions: { api_requests: { tiers: TIERS, plan: 'growth', fractionalPrices: 'meter-charge' }, response_bytes: null } }, metering, PLANS);
    const target = listingTargetOf(config, 'api_requests');
    expect(target).toMatchObject({ kind: 'tiered', plan: 'growth' });
    expect(target?.kind === 'tiered' && target.compiled.tiers.map((t) => [t.listingDimension, t.from, t.upTo, t.meter, t.unitPriceMinor])).toEqual([
      ['ApiRequestsTier1', 100n, 1100n, 'units', 5n],
      ['ApiRequestsTier2', 1100n, 10100n, 'units', 3n],
      ['ApiRequestsTier3', 10100n, null, 'charge', 1n],
    ]);
  });

  it('compiles a per-unit charge with a free allowance into one dimension that never bills the free units', () => {
    const config = parseListingConfig({ productCode: 'prod-1', dimensions: { api_requests: { tiers: ['Requests'], plan: 'basic' } } }, metering, PLANS);
    expect(listingTargetOf(config, 'api_requests')).toMatchObject({ kind: 'tiered', compiled: { kind: 'per_unit', freeAllowance: 1000n, tiers: [{ listingDimension: 'Requests', from: 1000n, upTo: null, unitPriceMinor: 1n }] } });
  });

  it('keeps a tiered dimension uncompiled when read without the plans (older callers): metering holds it back', () => {
    const config = parseListingConfig({ productCode: 'prod-1', dimensions: { api_requests: { tiers: TIERS, plan: 'growth' } } }, metering);
    expect(listingTargetOf(config, 'api_requests')).toEqual({ kind: 'uncompiled', plan: 'growth' });
  });

  it.each([
    [{ productCode: '', dimensions: {} }, /productCode/],
    [{ productCode: 'p', dimensions: { api_requests: 'Api Requests' } }, /dimensions\.api_requests: must be a listing dimension API name/],
    [{ productCode: 'p', dimensions: { unknown_dimension: 'X' } }, /dimensions\.unknown_dimension: not a dimension of the metering configuration/],
    [{ productCode: 'p', dimensions: {}, heartbeat: true }, /Unrecognized key/i],
    [{ productCode: 'p', dimensions: { api_requests: 7 } }, /dimensions\.api_requests: must be a listing dimension API name, null, or \{ "tiers"/],
    [{ productCode: 'p', dimensions: { api_requests: { tiers: [], plan: 'growth' } } }, /dimensions\.api_requests\.tiers: must name at least one listing dimension/],
    [{ productCode: 'p', dimensions: { api_requests: { tiers: ['Tier 1'], plan: 'growth' } } }, /dimensions\.api_requests\.tiers\.0: must be a listing dimension API name/],
    [{ productCode: 'p', dimensions: { api_requests: { tiers: TIERS } } }, /dimensions\.api_requests\.plan/],
    [{ productCode: 'p', dimensions: { api_requests: { tiers: TIERS, plan: 'growth', heartbeat: true } } }, /dimensions\.api_requests: Unrecognized key: "heartbeat"/],
    [{ productCode: 'p', dimensions: { api_requests: { tiers: TIERS, plan: 'growth', fractionalPrices: 'round' } } }, /dimensions\.api_requests\.fractionalPrices/],
    [{ productCode: 'p', dimensions: { api_requests: 'Requests', response_bytes: 'Requests' } }, /dimensions\.response_bytes: listing dimension "Requests" is already used by "api_requests"/],
    [{ productCode: 'p', dimensions: { api_requests: { tiers: TIERS, plan: 'growth' }, response_bytes: 'ApiRequestsTier2' } }, /listing dimension "ApiRequestsTier2" is already used by "api_requests"/],
  ])('rejects %j', (value, message) => {
    expect(() => parseListingConfig(value, metering, PLANS)).toThrow(ListingConfigError);
    expect(() => parseListingConfig(value, metering, PLANS)).toThrow(message);
  });

  it.each([
    [{ api_requests: { tiers: TIERS, plan: 'starter' } }, /dimensions\.api_requests\.plan: no plan "starter" in the pricing configuration \(plans: growth, euro, basic\)/],
    [{ response_bytes: { tiers: ['Bytes'], plan: 'basic' } }, /dimensions\.response_bytes\.plan: plan "basic" has no charge for "response_bytes"/],
    [{ api_requests: { tiers: ['Requests'], plan: 'euro' } }, /plan "euro" is priced in EUR, but AWS Marketplace lists prices in USD/],
    [{ api_requests: { tiers: TIERS.slice(0, 2), plan: 'growth', fractionalPrices: 'meter-charge' } }, /dimensions\.api_requests\.tiers: plan "growth": "api_requests" is a graduated charge of 3 tiers and needs 3 listing dimensions, got 2/],
    [{ api_requests: { tiers: TIERS, plan: 'growth' } }, /dimensions\.api_requests\.tiers: plan "growth": tier 3 of "api_requests" costs 1 minor unit per 1000 units/],
    [{ response_bytes: { tiers: ['Bytes1', 'Bytes2'], plan: 'growth' } }, /dimensions\.response_bytes\.tiers: plan "growth": "response_bytes" is a volume charge/],
  ])('checks the tiered mapping %j against the plans', (dimensions, message) => {
    expect(() => parseListingConfig({ productCode: 'p', dimensions }, metering, PLANS)).toThrow(message);
  });

  it('names every problem at once', () => {
    try {
      parseListingConfig({ productCode: 'p', dimensions: { api_requests: { tiers: TIERS, plan: 'nope' }, response_bytes: { tiers: ['B'], plan: 'growth' } } }, metering, PLANS);
      throw new Error('accepted');
    } catch (error) {
      expect((error as ListingConfigError).problems).toHaveLength(2);
    }
  });
});
