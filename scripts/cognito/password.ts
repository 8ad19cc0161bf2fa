import { randomInt } from 'node:crypto';

/** Minimum length required by the user pool's password policy. */
export const PASSWORD_MIN_LENGTH = 12;

/** Cognito's upper bound on password length. */
export const PASSWORD_MAX_LENGTH = 256;

/** Length of generated passwords (about 120 bits of entropy). */
export const GENERATED_PASSWORD_LENGTH = 20;

/** Every character Cognito counts as a symbol (a non-leading, non-trailing space counts too). */
export const COGNITO_SYMBOLS = '^$*.[]{}()?"!@#%&/\\,><\':;|_~`=+-';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
/**
 * Symbols used in generated passwords: a subset of {@link COGNITO_SYMBOLS} without quotes,
 * backslash, backtick, `$`, `!`, brackets, `&`, `|`, `;`, `<`, `>` and glob characters,
 * so the printed password can be pasted into a shell without surprises.
 */
const SAFE_SYMBOLS = '-_.,:+%@=^~';

const CLASSES = [UPPER, LOWER, DIGITS, SAFE_SYMBOLS] as const;
const ALPHABET = CLASSES.join('');

/** A uniformly random character of `chars`. */
function pick(chars: string): string {
  return chars[randomInt(chars.length)];
}

/**
 * Generates a password that satisfies the pool policy (length ≥ 12, an upper-case letter,
 * a lower-case letter, a digit and a symbol).
 *
 * One character is drawn from each class, the rest uniformly from all classes together, and
 * the result is shuffled (Fisher–Yates); every draw uses `crypto.randomInt`.
 *
 * @param length number of characters, between {@link PASSWORD_MIN_LENGTH} and {@link PASSWORD_MAX_LENGTH}
 * @throws RangeError when `length` is outside those bounds or not an integer
 */
export function generatePassword(length: number = GENERATED_PASSWORD_LENGTH): string {
  if (!Number.isInteger(length) || length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new RangeError(
      `Password length must be an integer between ${PASSWORD_MIN_LENGTH} and ${PASSWORD_MAX_LENGTH}, got ${length}`,
    );
  }
  const chars = CLASSES.map(pick);
  while (chars.length < length) chars.push(pick(ALPHABET));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

/**
 * Lists the pool-policy rules that `password` breaks, in the words Cognito uses; an empty list
 * means the password is acceptable.
 */
export function passwordPolicyViolations(password: string): string[] {
  const violations: string[] = [];
  if (password.length < PASSWORD_MIN_LENGTH) violations.push(`at least ${PASSWORD_MIN_LENGTH} characters`);
  if (password.length > PASSWORD_MAX_LENGTH) violations.push(`at most ${PASSWORD_MAX_LENGTH} characters`);
  if (!/[A-Z]/.test(password)) violations.push('an upper-case letter');
  if (!/[a-z]/.test(password)) violations.push('a lower-case letter');
  if (!/[0-9]/.test(password)) violations.push('a digit');
  if (!hasSymbol(password)) violations.push(`a symbol (one of ${COGNITO_SYMBOLS})`);
  if (/^\s|\s$/.test(password)) violations.push('no space at the start or the end');
  return violations;
}

function hasSymbol(password: string): boolean {
  if ([...password].some((c) => COGNITO_SYMBOLS.includes(c))) return true;
  return password.trim().includes(' ');
}
