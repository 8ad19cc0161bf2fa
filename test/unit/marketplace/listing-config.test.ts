import { readListingConfigFile } from '../../../config/marketplace-config-file';
import { listingDimensionOf, ListingConfigError, parseListingConfig } from '../../../core/marketplace/listing-config';
import { parseMeteringConfig } from '../../../core/usage/metering-config';

const metering = parseMeteringConfig({
  dimensions: [
    { name: 'api_requests', measure: 'requests', match: { resourcePaths: ['*'] } },
    { name: 'response_bytes', measure: 'response_bytes', match: { resourcePaths: ['*'] } },
  ],
  aggregation: { graceSeconds: 0, lookBackHours: 1, maxHoursPerRun: 1 },
});

describe('listing configuration', () => {
  it('accepts the shipped config/marketplace.json', () => {
    expect(readListingConfigFile().dimensions.api_requests).toBe('ApiRequests');
  });

  it('maps dimensions to listing names, null (not billed there) or undefined (unmapped)', () => {
    const config = parseListingConfig({ productCode: 'prod-1', dimensions: { api_requests: 'ApiRequests', response_bytes: null } }, metering);
    expect(listingDimensionOf(config, 'api_requests')).toBe('ApiRequests');
    expect(listingDimensionOf(config, 'response_bytes')).toBeNull();
    expect(listingDimensionOf(config, 'errors')).toBeUndefined();
    expect(listingDimensionOf(config, 'constructor')).toBeUndefined();
  });

  it.each([
    [{ productCode: '', dimensions: {} }, /productCode/],
    [{ productCode: 'p', dimensions: { api_requests: 'Api Requests' } }, /dimensions\.api_requests: must be a listing dimension API name/],
    [{ productCode: 'p', dimensions: { unknown_dimension: 'X' } }, /dimensions\.unknown_dimension: not a dimension of the metering configuration/],
    [{ productCode: 'p', dimensions: {}, heartbeat: true }, /Unrecognized key/i],
  ])('rejects %j', (value, message) => {
    expect(() => parseListingConfig(value, metering)).toThrow(ListingConfigError);
    expect(() => parseListingConfig(value, metering)).toThrow(message);
  });
});
