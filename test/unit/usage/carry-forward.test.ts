import fc from 'fast-check';
import { carriedOutByHour, outstandingCarries, planHourRecord, type SeriesHour } from '../../../core/usage/carry-forward';

const H = (n: number) => Date.UTC(2026, 10, 23, 0) + n * 3_600_000;

describe('planHourRecord', () => {
  it('sends an hour as measured when nothing is outstanding', () => {
    expect(planHourRecord([{ hour: H(0), measured: 7 }], H(0))).toEqual({ hour: H(0), measured: 7, carriedIn: [], quantity: 7 });
  });

  it('carries late increases of sent hours into the next record, oldest first', () => {
    const series: SeriesHour[] = [
      { hour: H(0), measured: 5, sent: { quantity: 2, measured: 2, carriedIn: [] } },
      { hour: H(1), measured: 4, sent: { quantity: 3, measured: 3, carriedIn: [] } },
      { hour: H(2), measured: 1 },
    ];
    expect(planHourRecord(series, H(2))).toEqual({ hour: H(2), measured: 1, carriedIn: [{ fromHour: H(0), amount: 3 }, { fromHour: H(1), amount: 1 }], quantity: 5 });
  });

  it('carries each change once: what a sent record carried is settled', () => {
    const series: SeriesHour[] = [
      { hour: H(0), measured: 5, sent: { quantity: 2, measured: 2, carriedIn: [] } },
      { hour: H(1), measured: 1, sent: { quantity: 4, measured: 1, carriedIn: [{ fromHour: H(0), amount: 3 }] } },
      { hour: H(2), measured: 2 },
    ];
    expect(carriedOutByHour(series).get(H(0))).toBe(3);
    expect(outstandingCarries(series)).toEqual([]);
    expect(planHourRecord(series, H(2)).quantity).toBe(2);
  });

  it('gives back a pending record unchanged, and counts what it carries as settled', () => {
    const series: SeriesHour[] = [
      { hour: H(0), measured: 6, sent: { quantity: 2, measured: 2, carriedIn: [] } },
      { hour: H(1), measured: 9, pending: { quantity: 5, measured: 1, carriedIn: [{ fromHour: H(0), amount: 4 }] } },
      { hour: H(2), measured: 1 },
    ];
    expect(planHourRecord(series, H(1))).toEqual({ hour: H(1), measured: 1, carriedIn: [{ fromHour: H(0), amount: 4 }], quantity: 5 });
    expect(outstandingCarries(series)).toEqual([]);
  });

  it('does not carry changes of hours after the one being sent', () => {
    const series: SeriesHour[] = [{ hour: H(0), measured: 1 }, { hour: H(1), measured: 9, sent: { quantity: 1, measured: 1, carriedIn: [] } }];
    expect(planHourRecord(series, H(0)).quantity).toBe(1);
  });

  it('never plans a negative quantity: a decrease is carried only down to zero', () => {
    const series: SeriesHour[] = [
      { hour: H(0), measured: 1, sent: { quantity: 5, measured: 5, carriedIn: [] } },
      { hour: H(1), measured: 3 },
    ];
    expect(planHourRecord(series, H(1))).toEqual({ hour: H(1), measured: 3, carriedIn: [{ fromHour: H(0), amount: -3 }], quantity: 0 });
    expect(outstandingCarries([{ ...series[0] }, { hour: H(1), measured: 3, sent: { quantity: 0, measured: 3, carriedIn: [{ fromHour: H(0), amount: -3 }] } }])).toEqual([{ fromHour: H(0), amount: -1 }]);
  });

  it('refuses an hour that is missing or already sent', () => {
    expect(() => planHourRecord([], H(0))).toThrow(/no usage hour/);
    expect(() => planHourRecord([{ hour: H(0), measured: 1, sent: { quantity: 1, measured: 1, carriedIn: [] } }], H(0))).toThrow(/already sent/);
  });

  it('settles at most the given number of carries per record; the rest waits', () => {
    const series: SeriesHour[] = [0, 1, 2].map((n) => ({ hour: H(n), measured: 2, sent: { quantity: 1, measured: 1, carriedIn: [] } }));
    const plan = planHourRecord([...series, { hour: H(3), measured: 0 }], H(3), 2);
    expect(plan.carriedIn.map((c) => c.fromHour)).toEqual([H(0), H(1)]);
  });

  // Property (500 runs): whatever late increases arrive between sends, once the last hour is sent
  // after the last change, the billed total equals the measured total and nothing is billed twice.
  it('bills exactly the measured total over any sequence of late changes and sends', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ initial: fc.nat(1000), late: fc.array(fc.record({ afterSends: fc.nat(8), amount: fc.nat(100) }), { maxLength: 4 }) }), { minLength: 2, maxLength: 8 }),
        (hours) => {
          let series: SeriesHour[] = hours.map((h, i) => ({ hour: H(i), measured: h.initial }));
          let sends = 0;
          const applyLate = () => {
            series = series.map((h, i) => ({ ...h, measured: h.measured + hours[i].late.filter((l) => l.afterSends === sends).reduce((s, l) => s + l.amount, 0) }));
          };
          for (let i = 0; i < hours.length; i += 1) {
            applyLate();
            const plan = planHourRecord(series, H(i));
            if (plan.quantity < 0) return false;
            series = series.map((h) => (h.hour === H(i) ? { ...h, sent: { quantity: plan.quantity, measured: plan.measured, carriedIn: plan.carriedIn } } : h));
            sends += 1;
          }
          // Every late change still to come happens now; one more (empty) hour settles them.
          for (let k = sends; k <= 8; k += 1) {
            sends = k;
            applyLate();
          }
          series.push({ hour: H(hours.length), measured: 0 });
          const last = planHourRecord(series, H(hours.length));
          const billed = series.reduce((s, h) => s + (h.sent?.quantity ?? 0), 0) + last.quantity;
          const measured = series.reduce((s, h) => s + h.measured, 0);
          return billed === measured;
        },
      ),
      { numRuns: 500 },
    );
  });
});
