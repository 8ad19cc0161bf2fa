import { ALPHABETS, generateRandomStrings, parseRandomStringsQuery } from '../../../core/random-strings/random-strings';

const parse = (single: Record<string, string>, multi?: Record<string, string[]>) =>
  parseRandomStringsQuery({ single, multi: multi ?? Object.fromEntries(Object.entries(single).map(([k, v]) => [k, [v]])) });

describe('parseRandomStringsQuery', () => {
  it('applies the defaults when no parameter is given', () => {
    expect(parseRandomStringsQuery({ single: null, multi: null })).toEqual({ ok: true, request: { chars: 'letters', num: 1, len: 1 } });
  });

  it.each(Object.keys(ALPHABETS))('accepts chars=%s', (chars) => {
    expect(parse({ chars })).toMatchObject({ ok: true, request: { chars } });
  });

  it('accepts the bounds of num and len', () => {
    expect(parse({ num: '1', len: '1' })).toMatchObject({ ok: true, request: { num: 1, len: 1 } });
    expect(parse({ num: '100', len: '20' })).toMatchObject({ ok: true, request: { num: 100, len: 20 } });
  });

  it.each([
    ['num', '0'], ['num', '101'], ['num', '-1'], ['num', '1.5'], ['num', '1e2'], ['num', ' 3'], ['num', ''],
    ['num', 'ten'], ['num', '0x10'], ['num', '99999999999999999999'], ['len', '21'], ['len', '0'], ['len', '+5'],
    ['len', '٣'], ['len', 'NaN'], ['len', 'Infinity'],
  ])('rejects %s=%j with a reason naming the range', (name, value) => {
    const result = parse({ [name]: value });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0].parameter).toBe(name);
      expect(result.errors[0].reason).toMatch(/whole number from 1 to (100|20)/);
      expect(result.errors[0].reason).toContain(JSON.stringify(value));
    }
  });

  it.each(['symbols', 'LETTERS', '', 'toString', '__proto__', 'constructor', 'hasOwnProperty'])('rejects chars=%j (including inherited property names)', (chars) => {
    const result = parse({ chars });
    expect(result).toEqual({ ok: false, errors: [expect.objectContaining({ parameter: 'chars', reason: expect.stringContaining('must be one of letters, lowercase, uppercase, digits') })] });
  });

  it('rejects unknown parameters', () => {
    const result = parse({ len: '3', size: '4' });
    expect(result).toEqual({ ok: false, errors: [{ parameter: 'size', reason: expect.stringContaining('not a parameter') }] });
  });

  it('rejects a parameter given twice', () => {
    const result = parseRandomStringsQuery({ single: { len: '3' }, multi: { len: ['2', '3'] } });
    expect(result).toEqual({ ok: false, errors: [{ parameter: 'len', reason: 'must be given at most once' }] });
  });

  it('reports every problem at once', () => {
    const result = parse({ chars: 'emoji', num: '0', len: '50', x: '1' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.parameter).sort()).toEqual(['chars', 'len', 'num', 'x']);
  });
});

describe('generateRandomStrings', () => {
  it('returns num strings of len characters from the alphabet', () => {
    for (const chars of Object.keys(ALPHABETS) as (keyof typeof ALPHABETS)[]) {
      const strings = generateRandomStrings({ chars, num: 100, len: 20 });
      expect(strings).toHaveLength(100);
      for (const value of strings) {
        expect(value).toHaveLength(20);
        for (const c of value) expect(ALPHABETS[chars]).toContain(c);
      }
    }
  });

  it('draws each character with the injected index source over the whole alphabet', () => {
    const asked: number[] = [];
    const strings = generateRandomStrings({ chars: 'digits', num: 2, len: 3 }, (max) => {
      asked.push(max);
      return asked.length % 10;
    });
    expect(asked).toEqual([10, 10, 10, 10, 10, 10]);
    expect(strings).toEqual(['123', '456']);
  });

  it('uses every character of the alphabet and is not constant (crypto source)', () => {
    const seen = new Set(generateRandomStrings({ chars: 'letters', num: 100, len: 20 }).join(''));
    expect(seen.size).toBeGreaterThan(45);
  });
});
