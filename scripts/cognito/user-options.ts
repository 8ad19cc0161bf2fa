import { parseArgs } from 'node:util';
import { passwordPolicyViolations } from './password';

/** Validated options of `npm run user`. */
export interface UserOptions {
  userPoolId: string;
  clientId: string;
  email: string;
  tenantId: string;
  /** Region of the user pool: `--region`, or the part of the user pool id before `_`. */
  region: string;
  /** Absent: a password is generated. */
  password?: string;
  /** Display name (the `name` attribute). */
  name?: string;
}

/** Outcome of {@link parseUserOptions}: the options, or a message fit for the user. */
export type UserOptionsResult = { ok: true; options: UserOptions } | { ok: false; error: string };

/** Usage text of `npm run user`. */
export const USAGE = `Usage: npm run -s user -- --user-pool-id <id> --client-id <id> --email <email> --tenant <tenant id>
                         [--password <password>] [--region <region>] [--name <display name>]

Creates (or reuses) a Cognito user of the tenant, sets its password permanently, signs in and
prints the ID token alone on stdout; everything else goes to stderr:
  TOKEN=$(npm run -s user -- --user-pool-id "$POOL" --client-id "$CLIENT" --email a@example.com --tenant acme)

  --user-pool-id  stack output UserPoolId, e.g. eu-west-1_AbC123xyz
  --client-id     stack output UserPoolClientId
  --email         sign-in email (the username)
  --tenant        tenant id, 1-64 characters among A-Z a-z 0-9 _ -
  --password      at least 12 characters with upper, lower, digit and symbol;
                  generated and printed once when absent
  --region        defaults to the region part of the user pool id
  --name          display name
  -h, --help      show this help`;

const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
/** `<region>_<id>`, as Cognito names user pools (at most 55 characters). */
const USER_POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d{1,2})_([0-9A-Za-z]+)$/;
const CLIENT_ID = /^[\w+]{1,128}$/;
/** Deliberately loose: one `@`, no spaces, a dot in the domain. */
const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;
const EMAIL_MAX_LENGTH = 254;
const NAME_MAX_LENGTH = 2048;

const OPTIONS = {
  'user-pool-id': { type: 'string' },
  'client-id': { type: 'string' },
  email: { type: 'string' },
  tenant: { type: 'string' },
  password: { type: 'string' },
  region: { type: 'string' },
  name: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** True when the command line asks for help (`-h` or `--help`) before any `--` terminator. */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/**
 * Parses and validates the command line of `npm run user` (arguments after the script name).
 * Pure: reads nothing but `argv`, so every error comes back as `{ ok: false, error }`.
 */
export function parseUserOptions(argv: readonly string[]): UserOptionsResult {
  let values: Partial<Record<keyof typeof OPTIONS, string | boolean>>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  const text = (key: keyof typeof OPTIONS): string | undefined => {
    const value = values[key];
    return typeof value === 'string' ? value : undefined;
  };
  return validateUserOptions({
    userPoolId: text('user-pool-id'),
    clientId: text('client-id'),
    email: text('email'),
    tenantId: text('tenant'),
    password: text('password'),
    region: text('region'),
    name: text('name'),
  });
}

/** Raw option values, as typed on the command line. */
export type RawUserOptions = { [K in keyof UserOptions]?: string };

/**
 * Validates raw option values: all problems are reported together, one per line.
 * Surrounding spaces are trimmed, except in the password.
 */
export function validateUserOptions(raw: RawUserOptions): UserOptionsResult {
  const errors: string[] = [];
  const required = (value: string | undefined, flag: string): string => {
    const trimmed = value?.trim() ?? '';
    if (trimmed === '') errors.push(`${flag} is required`);
    return trimmed;
  };
  const nonEmpty = (value: string, flag: string): string => {
    const trimmed = value.trim();
    if (trimmed === '') errors.push(`${flag} must not be empty`);
    return trimmed;
  };

  const userPoolId = required(raw.userPoolId, '--user-pool-id');
  const poolMatch = USER_POOL_ID.exec(userPoolId);
  if (userPoolId !== '' && !poolMatch) {
    errors.push(`--user-pool-id must look like <region>_<id>, e.g. eu-west-1_AbC123xyz (got "${userPoolId}")`);
  }

  const clientId = required(raw.clientId, '--client-id');
  if (clientId !== '' && !CLIENT_ID.test(clientId)) {
    errors.push(`--client-id must be 1-128 letters, digits, _ or + (got "${clientId}")`);
  }

  const email = required(raw.email, '--email');
  if (email !== '' && (email.length > EMAIL_MAX_LENGTH || !EMAIL.test(email))) {
    errors.push(`--email must be an email address like name@example.com (got "${email}")`);
  }

  const tenantId = required(raw.tenantId, '--tenant');
  if (tenantId !== '' && !TENANT_ID.test(tenantId)) {
    errors.push(`--tenant must be 1-64 characters among A-Z a-z 0-9 _ - (got "${tenantId}")`);
  }

  const poolRegion = poolMatch?.[1];
  let region = poolRegion ?? '';
  if (raw.region !== undefined) {
    region = nonEmpty(raw.region, '--region');
    if (region !== '' && !REGION.test(region)) {
      errors.push(`--region must be an AWS region like eu-west-1 (got "${region}")`);
    } else if (region !== '' && poolRegion !== undefined && region !== poolRegion) {
      errors.push(`--region ${region} does not match the region of user pool ${userPoolId} (${poolRegion})`);
    }
  }

  let password: string | undefined;
  if (raw.password !== undefined) {
    password = raw.password;
    const violations = passwordPolicyViolations(password);
    if (violations.length > 0) errors.push(`--password must have ${violations.join(', ')}`);
  }

  let name: string | undefined;
  if (raw.name !== undefined) {
    name = nonEmpty(raw.name, '--name');
    if (name.length > NAME_MAX_LENGTH) errors.push(`--name must be at most ${NAME_MAX_LENGTH} characters`);
  }

  if (errors.length > 0) return { ok: false, error: errors.join('\n') };
  const options: UserOptions = { userPoolId, clientId, email, tenantId, region };
  if (password !== undefined) options.password = password;
  if (name !== undefined) options.name = name;
  return { ok: true, options };
}
