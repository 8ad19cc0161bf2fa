import { parseUserOptions, validateUserOptions, wantsHelp } from '../../../scripts/cognito/user-options';

const REQUIRED = [
  '--user-pool-id',
  'eu-west-1_AbC123xyz',
  '--client-id',
  '4h1b2c3d4e5f6g7h8i9j0k1l2m',
  '--email',
  'ada@example.com',
  '--tenant',
  'acme_corp-1',
];

function errorOf(argv: string[]): string {
  const result = parseUserOptions(argv);
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.options)}`);
  return result.error;
}

describe('parseUserOptions', () => {
  it('accepts the required options and takes the region from the user pool id', () => {
    expect(parseUserOptions(REQUIRED)).toEqual({
      ok: true,
      options: {
        userPoolId: 'eu-west-1_AbC123xyz',
        clientId: '4h1b2c3d4e5f6g7h8i9j0k1l2m',
        email: 'ada@example.com',
        tenantId: 'acme_corp-1',
        region: 'eu-west-1',
      },
    });
  });

  it('accepts an explicit region equal to the user pool region', () => {
    expect(parseUserOptions([...REQUIRED, '--region', 'eu-west-1'])).toMatchObject({
      ok: true,
      options: { region: 'eu-west-1' },
    });
  });

  it('keeps the password verbatim and trims the other values', () => {
    const result = parseUserOptions([
      '--user-pool-id',
      ' us-gov-west-1_Xyz9 ',
      '--client-id',
      'abc',
      '--email',
      ' ada@example.com ',
      '--tenant',
      ' acme ',
      '--password',
      'Secret pass 42',
      '--name',
      '  Ada Lovelace ',
    ]);
    expect(result).toEqual({
      ok: true,
      options: {
        userPoolId: 'us-gov-west-1_Xyz9',
        clientId: 'abc',
        email: 'ada@example.com',
        tenantId: 'acme',
        region: 'us-gov-west-1',
        password: 'Secret pass 42',
        name: 'Ada Lovelace',
      },
    });
  });

  it('accepts --opt=value syntax', () => {
    const result = parseUserOptions([
      '--user-pool-id=ap-southeast-2_Q1w2E3',
      '--client-id=abc',
      '--email=a.b+c@sub.example.co.uk',
      '--tenant=T',
    ]);
    expect(result).toMatchObject({ ok: true, options: { region: 'ap-southeast-2', tenantId: 'T', email: 'a.b+c@sub.example.co.uk' } });
  });

  it('lists every missing required option', () => {
    expect(errorOf([]).split('\n')).toEqual([
      '--user-pool-id is required',
      '--client-id is required',
      '--email is required',
      '--tenant is required',
    ]);
  });

  it('treats blank values as missing', () => {
    expect(errorOf([...REQUIRED, '--tenant', '   '])).toBe('--tenant is required');
  });

  it('rejects unknown options, positionals and missing values', () => {
    expect(errorOf([...REQUIRED, '--tenant-id', 'x'])).toMatch(/Unknown option '--tenant-id'/);
    expect(errorOf([...REQUIRED, 'extra'])).toMatch(/extra/);
    expect(errorOf([...REQUIRED, '--email'])).toMatch(/--email/);
  });

  it.each([
    ['empty', '', false],
    ['one character', 'a', true],
    ['every allowed kind', 'A-z_0-9', true],
    ['64 characters', 'x'.repeat(64), true],
    ['65 characters', 'x'.repeat(65), false],
    ['a space', 'acme corp', false],
    ['a dot', 'acme.corp', false],
    ['a path', 'acme/../other', false],
    ['a colon', 'tenant:1', false],
    ['a non-ASCII letter', 'é', false],
  ])('tenant id with %s: valid %s', (_label, tenant, valid) => {
    const result = validateUserOptions({
      userPoolId: 'eu-west-1_Abc',
      clientId: 'abc',
      email: 'ada@example.com',
      tenantId: tenant,
    });
    expect(result.ok).toBe(valid);
    if (!result.ok) {
      expect(result.error).toMatch(tenant === '' ? /^--tenant is required$/ : /^--tenant must be 1-64 characters among A-Z a-z 0-9 _ -/);
    }
  });

  it.each(['ada', 'ada@', '@example.com', 'ada@example', 'ada@@example.com', 'ada lovelace@example.com', 'ada@example..com'])(
    'rejects email %j',
    (email) => {
      expect(errorOf([...REQUIRED, '--email', email])).toMatch(/^--email must be an email address/);
    },
  );

  it('rejects an over-long email', () => {
    expect(errorOf([...REQUIRED, '--email', `${'a'.repeat(250)}@example.com`])).toMatch(/^--email must be/);
  });

  it.each(['AbC123xyz', 'eu-west-1', 'eu-west-1_', '_AbC', 'EU-WEST-1_Abc', 'eu-west-1_Ab-c', 'euwest1_Abc'])(
    'rejects user pool id %j',
    (id) => {
      expect(errorOf([...REQUIRED, '--user-pool-id', id])).toMatch(/^--user-pool-id must look like <region>_<id>/);
    },
  );

  it('rejects a malformed client id', () => {
    expect(errorOf([...REQUIRED, '--client-id', 'abc-def'])).toMatch(/^--client-id must be/);
  });

  it('validates --region and its agreement with the user pool id', () => {
    expect(errorOf([...REQUIRED, '--region', 'Ireland'])).toMatch(/^--region must be an AWS region/);
    expect(errorOf([...REQUIRED, '--region', 'us-east-1'])).toBe(
      '--region us-east-1 does not match the region of user pool eu-west-1_AbC123xyz (eu-west-1)',
    );
    expect(errorOf([...REQUIRED, '--region', ''])).toBe('--region must not be empty');
  });

  it('checks an explicit password against the pool policy', () => {
    expect(errorOf([...REQUIRED, '--password', 'password'])).toMatch(
      /^--password must have at least 12 characters, an upper-case letter, a digit, a symbol/,
    );
    expect(errorOf([...REQUIRED, '--password', 'Password1234'])).toMatch(/^--password must have a symbol/);
  });

  it('rejects an empty --name', () => {
    expect(errorOf([...REQUIRED, '--name', ' '])).toBe('--name must not be empty');
  });

  it('reports all problems at once, one per line', () => {
    const error = errorOf(['--user-pool-id', 'nope', '--client-id', 'abc', '--email', 'nope', '--tenant', 'a b']);
    expect(error.split('\n')).toHaveLength(3);
    expect(error).toMatch(/--user-pool-id/);
    expect(error).toMatch(/--email/);
    expect(error).toMatch(/--tenant/);
  });
});

describe('wantsHelp', () => {
  it('spots -h and --help', () => {
    expect(wantsHelp(['--help'])).toBe(true);
    expect(wantsHelp([...REQUIRED, '-h'])).toBe(true);
    expect(wantsHelp(REQUIRED)).toBe(false);
    expect(wantsHelp(['--', '--help'])).toBe(false);
  });
});
