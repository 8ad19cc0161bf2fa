import { leavingTenantOf } from '../../../core/marketplace/final-usage';
import { DETAIL_TYPES } from '../../../core/marketplace/subscription-effects';

const event = (fields: Record<string, unknown>) => JSON.stringify({ version: '0', source: 'saas-metering.marketplace', 'detail-type': DETAIL_TYPES.unsubscribePending, detail: { tenantId: 'mp-abc' }, ...fields });

describe('leavingTenantOf', () => {
  it('reads the tenant of an unsubscribe-pending event as EventBridge delivers it to SQS', () => {
    expect(leavingTenantOf(event({}))).toBe('mp-abc');
  });

  it.each([
    [event({ 'detail-type': DETAIL_TYPES.newSubscriber }), /not an "AWS Marketplace Unsubscribe Pending" event/],
    [event({ detail: {} }), /names no tenant/],
    [event({ detail: { tenantId: '' } }), /names no tenant/],
    ['not json', /JSON/],
  ])('refuses %s', (body, message) => {
    expect(() => leavingTenantOf(body)).toThrow(message);
  });
});
