import { planAggregationWindow } from '../../../core/usage/aggregation-window';
import { HOUR_MS, hourKey } from '../../../core/usage/hours';

const at = (iso: string) => Date.parse(iso);
const plan = (now: string, extra: Partial<Parameters<typeof planAggregationWindow>[0]> = {}) => {
  const window = planAggregationWindow({ nowMillis: at(now), watermarkDelaySeconds: 420, lookBackHours: 3, maxHoursPerRun: 48, ...extra });
  return window && [hourKey(window.firstHour), hourKey(window.lastHour)];
};

describe('planAggregationWindow', () => {
  it('takes an hour only once its end plus the watermark delay has passed', () => {
    expect(plan('2026-11-23T11:06:59.999Z')).toEqual(['2026-11-23T07', '2026-11-23T09']);
    expect(plan('2026-11-23T11:07:00.000Z')).toEqual(['2026-11-23T08', '2026-11-23T10']);
  });

  it('re-reads the look-back window on every run', () => {
    expect(plan('2026-11-23T12:30:00Z', { lastCompleteHour: at('2026-11-23T11:00:00Z') - HOUR_MS })).toEqual(['2026-11-23T09', '2026-11-23T11']);
  });

  it('catches up every hour no run completed, oldest first, even beyond the look-back window', () => {
    expect(plan('2026-11-23T12:30:00Z', { lastCompleteHour: at('2026-11-22T23:00:00Z') })).toEqual(['2026-11-23T00', '2026-11-23T11']);
  });

  it('reads at most maxHoursPerRun hours', () => {
    expect(plan('2026-11-23T12:30:00Z', { lastCompleteHour: at('2026-11-20T00:00:00Z'), maxHoursPerRun: 24 })).toEqual(['2026-11-20T01', '2026-11-21T00']);
  });

  it('keeps re-reading the look-back window even when the cursor is ahead of the last ready hour', () => {
    expect(plan('2026-11-23T00:03:00Z', { lookBackHours: 1, lastCompleteHour: at('2026-11-22T23:00:00Z') })).toEqual(['2026-11-22T22', '2026-11-22T22']);
  });
});
