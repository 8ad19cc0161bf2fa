/**
 * The crash injector: a clean run counts the steps; an armed one kills the "process" at one step,
 * before the call goes out or after it took effect, and nothing reaches a target afterwards.
 */
import fc from 'fast-check';
import { CRASH_POSITIONS, CrashError, CrashPlanError, CrashPoints, type CrashPosition } from '../../../local/faults/crash-points';

/** A target with effects: every call that reaches it is written down, after a turn of the event loop. */
class Ledger {
  readonly name = 'ledger';
  readonly effects: string[] = [];

  async write(entry: string): Promise<string> {
    await new Promise((resolve) => setImmediate(resolve));
    this.effects.push(entry);
    return `ok ${entry}`;
  }

  async refuse(entry: string): Promise<string> {
    await new Promise((resolve) => setImmediate(resolve));
    this.effects.push(entry);
    throw new Error(`refused ${entry}`);
  }

  total(): number {
    return this.effects.length;
  }
}

type Call = { readonly method: 'write' | 'refuse'; readonly entry: string };
const callsArbitrary = fc.array(fc.record({ method: fc.constantFrom<'write' | 'refuse'>('write', 'refuse'), entry: fc.string({ maxLength: 6 }) }), { minLength: 1, maxLength: 12 });

/** The calls one after the other, as code that catches every error and goes on would make them. */
async function callInTurn(ledger: Ledger, calls: readonly Call[]): Promise<({ value: string } | { error: unknown })[]> {
  const outcomes: ({ value: string } | { error: unknown })[] = [];
  for (const call of calls) {
    try {
      outcomes.push({ value: await ledger[call.method](call.entry) });
    } catch (error) {
      outcomes.push({ error });
    }
  }
  return outcomes;
}

const NUM_RUNS = 300;

describe('crash points', () => {
  it(`counts every call of a clean run and passes answers and errors through unchanged (${NUM_RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(callsArbitrary, async (calls) => {
        const ledger = new Ledger();
        const observed: number[] = [];
        const points = new CrashPoints({ observe: (step) => { observed.push(step.index); } });
        const outcomes = await callInTurn(points.wrap('ledger', ledger), calls);
        expect(ledger.effects).toEqual(calls.map((c) => c.entry));
        expect(outcomes).toEqual(calls.map((c) => (c.method === 'write' ? { value: `ok ${c.entry}` } : { error: new Error(`refused ${c.entry}`) })));
        expect(points.steps).toEqual(calls.map((c, i) => ({ index: i + 1, target: 'ledger', method: c.method })));
        expect(observed).toEqual(calls.map((_, i) => i + 1));
        expect(points.struck).toBeUndefined();
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it(`crashes at the chosen step and position, and nothing reaches a target afterwards (${NUM_RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        callsArbitrary.chain((calls) => fc.tuple(fc.constant(calls), fc.integer({ min: 1, max: calls.length }), fc.constantFrom<CrashPosition>(...CRASH_POSITIONS))),
        async ([calls, step, position]) => {
          const ledger = new Ledger();
          const other = new Ledger();
          const observed: number[] = [];
          const points = new CrashPoints({ crash: { step, position }, observe: (s) => { observed.push(s.index); } });
          const outcomes = await callInTurn(points.wrap('ledger', ledger), calls);
          // Before: the call never went out. After: it took effect, but its answer was lost.
          const landed = position === 'before' ? step - 1 : step;
          expect(ledger.effects).toEqual(calls.slice(0, landed).map((c) => c.entry));
          outcomes.slice(0, step - 1).forEach((o, i) => expect(o).toEqual(calls[i].method === 'write' ? { value: `ok ${calls[i].entry}` } : { error: new Error(`refused ${calls[i].entry}`) }));
          const atCrash = (outcomes[step - 1] as { error: unknown }).error;
          expect(atCrash).toBeInstanceOf(CrashError);
          expect(atCrash).toMatchObject({ atCrashPoint: true, position, step: { index: step, target: 'ledger', method: calls[step - 1].method } });
          for (const later of outcomes.slice(step)) expect((later as { error: unknown }).error).toMatchObject({ name: 'CrashError', atCrashPoint: false });
          // The process is dead for every wrapped dependency, not only the one that crashed.
          await expect(points.wrap('other', other).write('x')).rejects.toBeInstanceOf(CrashError);
          expect(other.effects).toEqual([]);
          expect(points.struck).toEqual({ index: step, target: 'ledger', method: calls[step - 1].method, position });
          expect(points.steps).toHaveLength(step);
          expect(observed).toEqual(Array.from({ length: step - 1 }, (_, i) => i + 1));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('numbers the steps across every dependency it wraps', async () => {
    const points = new CrashPoints({ crash: { step: 3, position: 'after' } });
    const a = points.wrap('a', new Ledger());
    const b = points.wrap('b', new Ledger());
    await a.write('1');
    await b.write('2');
    await expect(a.write('3')).rejects.toThrow('crashed after step 3 (a.write)');
    expect(points.steps.map((s) => `${s.index} ${s.target}.${s.method}`)).toEqual(['1 a.write', '2 b.write', '3 a.write']);
  });

  it('loses the answers of calls in flight when the process dies, though they may have landed', async () => {
    const ledger = new Ledger();
    const points = new CrashPoints({ crash: { step: 2, position: 'after' } });
    const wrapped = points.wrap('ledger', ledger);
    const results = await Promise.allSettled(['1', '2', '3', '4'].map((entry) => wrapped.write(entry)));
    // All four went out before the second one's answer came back: all landed.
    expect(ledger.effects).toEqual(['1', '2', '3', '4']);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 'ok 1' });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { atCrashPoint: true } });
    expect(results[2]).toMatchObject({ status: 'rejected', reason: { atCrashPoint: false } });
    expect(results[3]).toMatchObject({ status: 'rejected', reason: { atCrashPoint: false } });

    // Before: the calls started after the crashed one are refused without reaching the target.
    const second = new Ledger();
    const before = new CrashPoints({ crash: { step: 2, position: 'before' } }).wrap('ledger', second);
    const refused = await Promise.allSettled(['1', '2', '3'].map((entry) => before.write(entry)));
    expect(second.effects).toEqual(['1']);
    expect(refused.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });

  it('leaves properties alone, and counts a method that throws at once like one that rejects', async () => {
    const target = {
      name: 'engine',
      boom(): Promise<void> {
        throw new Error('at once');
      },
    };
    const points = new CrashPoints({ crash: { step: 1, position: 'after' } });
    const wrapped = points.wrap('engine', target);
    expect(wrapped.name).toBe('engine');
    await expect(wrapped.boom()).rejects.toBeInstanceOf(CrashError);
    const clean = new CrashPoints().wrap('engine', target);
    await expect(clean.boom()).rejects.toThrow('at once');
  });

  it('refuses a plan that names no step, and a method that is not asynchronous', async () => {
    for (const step of [0, -1, 1.5, Number.NaN]) expect(() => new CrashPoints({ crash: { step, position: 'before' } })).toThrow(CrashPlanError);
    expect(() => new CrashPoints({ crash: { step: 1, position: 'during' as CrashPosition } })).toThrow("crash position must be 'before' or 'after', got during");
    const ledger = new CrashPoints().wrap('ledger', new Ledger()) as unknown as { total(): Promise<number> };
    await expect(ledger.total()).rejects.toThrow('ledger.total did not return a promise: only asynchronous methods can be crash points');
  });
});
