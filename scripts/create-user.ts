/**
 * `npm run -s user -- --user-pool-id <id> --client-id <id> --email <email> --tenant <tenant id> …`
 *
 * Creates (or reuses) a tenant's Cognito user, sets its password and prints an ID token alone
 * on stdout; progress, the generated password and errors go to stderr.
 * Exit codes: 0 success, 1 AWS or sign-in error, 2 invalid options.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { createTenantUser, type CreateTenantUserEvent } from './cognito/create-tenant-user';
import { parseUserOptions, USAGE, wantsHelp } from './cognito/user-options';

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

async function main(argv: readonly string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.error(USAGE);
    return 0;
  }
  const parsed = parseUserOptions(argv);
  if (!parsed.ok) {
    console.error(`Invalid options:\n${indent(parsed.error)}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { region, ...input } = parsed.options;
  const client = new CognitoIdentityProviderClient({ region });
  try {
    const result = await createTenantUser(client, input, {
      onEvent: (event) => report(event, input.email, input.tenantId),
    });
    process.stdout.write(`${result.idToken}\n`);
    return 0;
  } catch (error) {
    console.error(`Failed: ${describeError(error)}`);
    return EXIT_FAILURE;
  } finally {
    client.destroy();
  }
}

function report(event: CreateTenantUserEvent, email: string, tenantId: string): void {
  switch (event.type) {
    case 'user-created':
      console.error(`Created user ${email} in tenant ${tenantId}`);
      break;
    case 'user-exists':
      console.error(`User ${email} already exists in tenant ${tenantId}; reusing it`);
      break;
    case 'password-set':
      if (event.generatedPassword === undefined) console.error('Password set');
      else console.error(`Password set to (shown once, keep it): ${event.generatedPassword}`);
      break;
    case 'signed-in':
      console.error('Signed in; ID token on stdout');
      break;
  }
}

/** `Name: message` (plus the AWS request id when there is one), never a stack trace. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const requestId = (error as { $metadata?: { requestId?: string } }).$metadata?.requestId;
  return `${error.name}: ${error.message}${requestId ? ` (request id ${requestId})` : ''}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`Failed: ${describeError(error)}`);
    process.exitCode = EXIT_FAILURE;
  },
);
