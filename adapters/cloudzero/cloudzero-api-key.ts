/**
 * The CloudZero API key, read from AWS Secrets Manager through Powertools' secrets provider
 * (`getSecret`), which keeps it in memory for `maxAgeSeconds` so that warm invocations do not call
 * Secrets Manager again.
 *
 * The secret holds either the key itself (`SecretString` = the key) or JSON `{"apiKey": "…"}`, the
 * shape the console's key/value editor writes. Anything else — no value, an empty key, JSON without
 * `apiKey`, a key an `Authorization` header cannot carry — is a CloudZeroApiKeyError that names the
 * secret and the problem, never the key.
 */
import { getSecret, type SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { checkApiKeyShape, CloudZeroApiKeyFormatError } from './cloudzero-telemetry-client';

/** The API key could not be read or used. */
export class CloudZeroApiKeyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CloudZeroApiKeyError';
  }
}

/** Options of {@link readCloudZeroApiKey}. */
export interface CloudZeroApiKeyOptions {
  /** How long the key is cached in memory, seconds. @default 300 */
  readonly maxAgeSeconds?: number;
  /** A provider of its own (another client or region); by default Powertools' shared one. */
  readonly provider?: Pick<SecretsProvider, 'get'>;
}

/** Reads the API key from the secret `secretId` (name or ARN). */
export async function readCloudZeroApiKey(secretId: string, options: CloudZeroApiKeyOptions = {}): Promise<string> {
  if (secretId.trim() === '') throw new CloudZeroApiKeyError('no secret is configured for the CloudZero API key');
  const maxAge = options.maxAgeSeconds ?? 300;
  let value: unknown;
  try {
    value = options.provider !== undefined ? await options.provider.get(secretId, { maxAge }) : await getSecret(secretId, { maxAge });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CloudZeroApiKeyError(`the CloudZero API key secret ${secretId} could not be read: ${reason}`, { cause: error });
  }
  return apiKeyFromSecret(value, secretId);
}

/** The API key in a secret's value: the string itself, or the `apiKey` of a JSON object. */
export function apiKeyFromSecret(value: unknown, secretId: string): string {
  const where = `the CloudZero API key secret ${secretId}`;
  if (value === undefined || value === null) throw new CloudZeroApiKeyError(`${where} has no value`);
  const text = (value instanceof Uint8Array ? new TextDecoder().decode(value) : typeof value === 'string' ? value : '').trim();
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new CloudZeroApiKeyError(`${where} is not text`);
  if (text === '') throw new CloudZeroApiKeyError(`${where} is empty`);
  let key = text;
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CloudZeroApiKeyError(`${where} starts with "{" but is not valid JSON; store the key itself or {"apiKey": "…"}`);
    }
    const apiKey = (parsed as { apiKey?: unknown }).apiKey;
    if (typeof apiKey !== 'string') throw new CloudZeroApiKeyError(`${where} is JSON without a string "apiKey"; store the key itself or {"apiKey": "…"}`);
    key = apiKey.trim();
  }
  try {
    return checkApiKeyShape(key, where);
  } catch (error) {
    if (error instanceof CloudZeroApiKeyFormatError) throw new CloudZeroApiKeyError(error.message);
    throw error;
  }
}
