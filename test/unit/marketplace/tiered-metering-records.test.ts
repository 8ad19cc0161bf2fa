import { monthSpanOf, tieredHourState, tierQuantities } from '../../../core/marketplace/metering-records';
import { compileTieredDimension } from '../../../core/pricing/marketplace-tiers';
import { parsePlan } from '../../../core/pricing/plan-schema';
import type { SeriesHour } from '../../../core/usage/carry-forward';

const H = (day: number, hour: number) => Date.UTC(2026, 10, day, hour);
const sent = (quantity: number) => ({ quantity, measured: quantity, carriedIn: [] });

const { tiers } = compileTieredDimension(
  parsePlan({
    id: 'growth',
    name: 'Growth',
    currency: 'USD',
    charges: [{ dimension: 'api_requests', kind: 'graduated', freeAllowance: 10, tiers: [{ upTo: 100, price: 5 }, { upTo: null, price: 2 }] }],
  }).charges[0],
  ['T1', 'T2'],
);

describe('tieredHourState', () => {
  it('is ready with the sum sent for the earlier hours of the same UTC month (the previous month does not count)', () => {
    const series: SeriesHour[] = [
      { hour: Date.UTC(2026, 9, 31, 23), measured: 500, sent: sent(500) },
      { hour: H(1, 0), measured: 7, sent: sent(7) },
      { hour: H(1, 1), measured: 3, sent: { quantity: 5, measured: 3, carriedIn: [{ fromHour: H(1, 0), amount: 2 }] } },
      { hour: H(1, 2), measured: 4 },
    ];
    expect(tieredHourState(series, H(1, 2))).toEqual({ kind: 'ready', runningTotal: 12n });
  });

  it('waits while an earlier hour of the month is unsent or pending', () => {
    const unsent: SeriesHour[] = [{ hour: H(2, 0), measured: 1 }, { hour: H(2, 1), measured: 1 }];
    expect(tieredHourState(unsent, H(2, 1))).toEqual({ kind: 'wait', earlier: unsent[0] });
    const pending: SeriesHour[] = [{ hour: H(2, 0), measured: 1, pending: sent(1) }, { hour: H(2, 1), measured: 1, pending: sent(1) }];
    expect(tieredHourState(pending, H(2, 1))).toEqual({ kind: 'wait', earlier: pending[0] });
  });

  it('calls an unsent hour out of order when a later hour of its month is already pending or sent', () => {
    const laterSent: SeriesHour[] = [{ hour: H(3, 0), measured: 2 }, { hour: H(3, 5), measured: 9, sent: sent(9) }];
    expect(tieredHourState(laterSent, H(3, 0))).toEqual({ kind: 'out-of-order', later: laterSent[1] });
    const laterPending: SeriesHour[] = [{ hour: H(3, 0), measured: 2 }, { hour: H(3, 5), measured: 9, pending: sent(9) }];
    expect(tieredHourState(laterPending, H(3, 0)).kind).toBe('out-of-order');
    // …but not an hour whose record is already pending (it may have been sent): it goes on.
    const ownPending: SeriesHour[] = [{ hour: H(3, 0), measured: 2, pending: sent(2) }, { hour: H(3, 5), measured: 9, pending: sent(9) }];
    expect(tieredHourState(ownPending, H(3, 0))).toEqual({ kind: 'ready', runningTotal: 0n });
    // A later hour still unsent is no obstacle, nor is the next month.
    expect(tieredHourState([{ hour: H(3, 0), measured: 2 }, { hour: H(3, 5), measured: 9 }], H(3, 0)).kind).toBe('ready');
    expect(tieredHourState([{ hour: H(30, 23), measured: 2 }, { hour: Date.UTC(2026, 11, 1, 0), measured: 9, sent: sent(9) }], H(30, 23)).kind).toBe('ready');
  });

  it('is done for a sent or missing hour', () => {
    expect(tieredHourState([{ hour: H(4, 0), measured: 1, sent: sent(1) }], H(4, 0))).toEqual({ kind: 'done' });
    expect(tieredHourState([], H(4, 0))).toEqual({ kind: 'done' });
  });
});

describe('tierQuantities', () => {
  it('gives one record per tier the hour reaches', () => {
    expect(tierQuantities(tiers, 50n, 100)).toEqual([{ listingDimension: 'T1', quantity: 60 }, { listingDimension: 'T2', quantity: 40 }]);
    expect(tierQuantities(tiers, 200n, 3)).toEqual([{ listingDimension: 'T2', quantity: 3 }]);
  });

  it('sends an hour with nothing billable as one zero record of the tier that bills the next unit', () => {
    expect(tierQuantities(tiers, 0n, 5)).toEqual([{ listingDimension: 'T1', quantity: 0 }]); // inside the free allowance
    expect(tierQuantities(tiers, 110n, 0)).toEqual([{ listingDimension: 'T2', quantity: 0 }]);
  });

  it('refuses a share above Marketplace\'s largest quantity', () => {
    expect(() => tierQuantities(tiers, 0n, 2 ** 31 + 200)).toThrow(/exceeds Marketplace's maximum/);
  });
});

describe('monthSpanOf', () => {
  it('is the UTC calendar month', () => {
    expect(monthSpanOf(H(30, 23))).toEqual({ start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) });
    expect(monthSpanOf(Date.UTC(2026, 11, 31, 23))).toEqual({ start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) });
  });
});
