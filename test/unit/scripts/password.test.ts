import {
  COGNITO_SYMBOLS,
  GENERATED_PASSWORD_LENGTH,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  generatePassword,
  passwordPolicyViolations,
} from '../../../scripts/cognito/password';

describe('generatePassword', () => {
  it('satisfies the pool policy across many generations', () => {
    for (let i = 0; i < 2000; i++) {
      const password = generatePassword();
      expect(password).toHaveLength(GENERATED_PASSWORD_LENGTH);
      expect(password).toMatch(/[A-Z]/);
      expect(password).toMatch(/[a-z]/);
      expect(password).toMatch(/[0-9]/);
      expect([...password].some((c) => COGNITO_SYMBOLS.includes(c))).toBe(true);
      expect(passwordPolicyViolations(password)).toEqual([]);
    }
  });

  it('satisfies the policy at the minimum length too', () => {
    for (let i = 0; i < 2000; i++) {
      const password = generatePassword(PASSWORD_MIN_LENGTH);
      expect(password).toHaveLength(PASSWORD_MIN_LENGTH);
      expect(passwordPolicyViolations(password)).toEqual([]);
    }
  });

  it('uses only letters, digits and shell-friendly Cognito symbols', () => {
    const all = Array.from({ length: 500 }, () => generatePassword()).join('');
    expect(all).toMatch(/^[A-Za-z0-9\-_.,:+%@=^~]+$/);
    for (const c of new Set(all.replace(/[A-Za-z0-9]/g, ''))) expect(COGNITO_SYMBOLS).toContain(c);
  });

  it('honours the requested length', () => {
    expect(generatePassword(12)).toHaveLength(12);
    expect(generatePassword(64)).toHaveLength(64);
    expect(generatePassword(PASSWORD_MAX_LENGTH)).toHaveLength(PASSWORD_MAX_LENGTH);
  });

  it('rejects lengths outside the policy', () => {
    expect(() => generatePassword(PASSWORD_MIN_LENGTH - 1)).toThrow(RangeError);
    expect(() => generatePassword(PASSWORD_MAX_LENGTH + 1)).toThrow(RangeError);
    expect(() => generatePassword(15.5)).toThrow(RangeError);
  });

  it('does not repeat itself and spreads over the alphabet', () => {
    const passwords = Array.from({ length: 1000 }, () => generatePassword());
    expect(new Set(passwords).size).toBe(passwords.length);
    // 20,000 draws over 73 characters: every character shows up, none dominates.
    const counts = new Map<string, number>();
    for (const c of passwords.join('')) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(26 + 26 + 10 + 11);
    expect(Math.max(...counts.values())).toBeLessThan(3 * Math.min(...counts.values()));
  });

  it('places the required characters anywhere (the result is shuffled)', () => {
    const firstIsUpper = Array.from({ length: 400 }, () => /^[A-Z]/.test(generatePassword()));
    expect(firstIsUpper).toContain(true);
    expect(firstIsUpper).toContain(false);
  });
});

describe('passwordPolicyViolations', () => {
  it('accepts a compliant password', () => {
    expect(passwordPolicyViolations('Correct-Horse-9')).toEqual([]);
    expect(passwordPolicyViolations('Correct horse 9')).toEqual([]); // an inner space counts as a symbol
  });

  it('names every broken rule', () => {
    expect(passwordPolicyViolations('short')).toEqual([
      'at least 12 characters',
      'an upper-case letter',
      'a digit',
      expect.stringMatching(/^a symbol/),
    ]);
    expect(passwordPolicyViolations('ALLUPPERCASE1!')).toEqual(['a lower-case letter']);
    expect(passwordPolicyViolations('NoDigitsHere!!')).toEqual(['a digit']);
    expect(passwordPolicyViolations('NoSymbols12345')).toEqual([expect.stringMatching(/^a symbol/)]);
    expect(passwordPolicyViolations(' Leading-Space1')).toEqual(['no space at the start or the end']);
    expect(passwordPolicyViolations(`Aa1!${'x'.repeat(PASSWORD_MAX_LENGTH)}`)).toEqual(['at most 256 characters']);
  });
});
