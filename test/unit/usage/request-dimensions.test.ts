import { parseMeteringConfig } from '../../../core/usage/metering-config';
import { measureRequestGroups, type RequestGroup } from '../../../core/usage/request-dimensions';

const H = Date.UTC(2026, 10, 23, 10);
const group = (fields: Partial<RequestGroup>): RequestGroup => ({ tenantId: 'acme', hour: H, resourcePath: '/random/strings', httpMethod: 'GET', status: 200, requests: 1, responseBytes: 10, ...fields });
const dimensions = parseMeteringConfig({
  dimensions: [
    { name: 'strings', measure: 'requests', match: { resourcePaths: ['/random/strings'], methods: ['GET'] } },
    { name: 'bytes', measure: 'response_bytes', match: { resourcePaths: ['*'], statuses: [{ from: 200, to: 299 }, { from: 304, to: 304 }] } },
    { name: 'errors', measure: 'requests', match: { resourcePaths: ['*'], statuses: [{ from: 500, to: 599 }] } },
  ],
  aggregation: { graceSeconds: 0, lookBackHours: 1, maxHoursPerRun: 1 },
}).dimensions;

describe('measureRequestGroups', () => {
  it('applies path, method and status rules, and lets a group count toward several dimensions', () => {
    const result = measureRequestGroups([
      group({ requests: 3, responseBytes: 30 }),
      group({ httpMethod: 'POST', requests: 2, responseBytes: 5 }),
      group({ resourcePath: '/other', status: 304, requests: 1, responseBytes: 0 }),
      group({ status: 503, requests: 4, responseBytes: 100 }),
      group({ status: 404, requests: 9, responseBytes: 90 }),
    ], dimensions);
    expect(result).toEqual(expect.arrayContaining([
      { tenantId: 'acme', dimension: 'strings', hour: H, quantity: 3 },
      { tenantId: 'acme', dimension: 'bytes', hour: H, quantity: 35 },
      { tenantId: 'acme', dimension: 'errors', hour: H, quantity: 4 },
    ]));
    expect(result).toHaveLength(3);
  });

  it('keeps tenants and hours apart', () => {
    const result = measureRequestGroups([group({}), group({ tenantId: 'globex' }), group({ hour: H + 3_600_000 })], dimensions.slice(0, 1));
    expect(result.map((m) => `${m.tenantId}@${m.hour - H}`).sort()).toEqual(['acme@0', 'acme@3600000', 'globex@0']);
  });

  it('refuses a total that is not an exact integer', () => {
    expect(() => measureRequestGroups([group({ responseBytes: Number.MAX_SAFE_INTEGER }), group({ responseBytes: 10, status: 201 })], dimensions.slice(1, 2))).toThrow(/exact integer/);
  });
});
