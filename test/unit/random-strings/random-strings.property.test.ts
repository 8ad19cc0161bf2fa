import fc from 'fast-check';
import { ALPHABETS, LIMITS, parseRandomStringsQuery } from '../../../core/random-strings/random-strings';

const names = fc.constantFrom('chars', 'num', 'len', 'other', '__proto__', 'constructor', '');
const values = fc.oneof(fc.string(), fc.integer().map(String), fc.constantFrom(...Object.keys(ALPHABETS), '-', '1e1', ' 1', '0x1', '٣', '0000000001', '0100', '99999999999999999999'));

/** The rules, written out independently of the parser. */
function isValid(query: Record<string, string[]>): boolean {
  for (const [name, list] of Object.entries(query)) {
    if (!['chars', 'num', 'len'].includes(name) || list.length !== 1) return false;
    const value = list[0];
    if (name === 'chars' && !Object.keys(ALPHABETS).includes(value)) return false;
    if (name !== 'chars') {
      const { min, max } = LIMITS[name as 'num' | 'len'];
      if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) return false;
    }
  }
  return true;
}

describe('parseRandomStringsQuery (property, 2,000 runs)', () => {
  it('accepts exactly the valid queries and gives a reason for every rejected parameter, never throwing', () => {
    fc.assert(
      fc.property(fc.dictionary(names, fc.array(values, { minLength: 1, maxLength: 3 }), { maxKeys: 5 }), (multi) => {
        const single = Object.fromEntries(Object.entries(multi).map(([name, list]) => [name, list[list.length - 1]]));
        const result = parseRandomStringsQuery({ single, multi });
        if (result.ok !== isValid(multi)) return false;
        if (result.ok) return result.request.num >= 1 && result.request.num <= 100 && result.request.len >= 1 && result.request.len <= 20;
        return result.errors.length > 0 && result.errors.every((e) => e.reason.length > 0 && typeof e.parameter === 'string');
      }),
      { numRuns: 2000 },
    );
  });
});
