/**
 * The CloudZero API key from Secrets Manager through Powertools' getSecret: plain or JSON secrets,
 * caching, and a clear error for every way the secret can be unusable (without echoing the key).
 */
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { apiKeyFromSecret, CloudZeroApiKeyError, readCloudZeroApiKey } from '../../../adapters/cloudzero/cloudzero-api-key';

process.env.AWS_REGION ??= 'us-east-1';
const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:cloudzero-api-key-AbCdEf';
const KEY = 'AbCd1234EfGh5678AbCd1234EfGh5678AbCd12';

describe('readCloudZeroApiKey', () => {
  const secrets = mockClient(SecretsManagerClient);
  beforeEach(() => {
    secrets.reset();
    clearCaches();
  });

  it('reads a plain secret: the key itself, surrounding whitespace removed', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: `${KEY}\n` });
    await expect(readCloudZeroApiKey(ARN)).resolves.toBe(KEY);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: ARN });
  });

  it('reads a JSON secret {"apiKey": "…"}, and a binary one', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'json' }).resolves({ SecretString: JSON.stringify({ apiKey: KEY, note: 'CloudZero telemetry' }) });
    secrets.on(GetSecretValueCommand, { SecretId: 'binary' }).resolves({ SecretBinary: new TextEncoder().encode(KEY) });
    await expect(readCloudZeroApiKey('json')).resolves.toBe(KEY);
    await expect(readCloudZeroApiKey('binary')).resolves.toBe(KEY);
  });

  it('caches the key for maxAgeSeconds: warm invocations do not call Secrets Manager again', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
    await readCloudZeroApiKey(ARN, { maxAgeSeconds: 300 });
    await readCloudZeroApiKey(ARN, { maxAgeSeconds: 300 });
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    clearCaches();
    await readCloudZeroApiKey(ARN, { maxAgeSeconds: 0 });
    await readCloudZeroApiKey(ARN, { maxAgeSeconds: 0 });
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 3);
  });

  it('uses a provider of its own when given one', async () => {
    const client = new SecretsManagerClient({ region: 'eu-west-1' });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: KEY });
    await expect(readCloudZeroApiKey(ARN, { provider: new SecretsProvider({ awsSdkV3Client: client }) })).resolves.toBe(KEY);
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('names the secret when it cannot be read', async () => {
    secrets.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }));
    const error = await readCloudZeroApiKey(ARN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudZeroApiKeyError);
    expect((error as Error).message).toBe(`the CloudZero API key secret ${ARN} could not be read: Secrets Manager can't find the specified secret.`);
    expect((error as Error).cause).toBeDefined();
    await expect(readCloudZeroApiKey('  ')).rejects.toThrow(/no secret is configured/);
  });

  it.each([
    ['an empty string', { SecretString: '   ' }, /is empty/],
    ['no value at all', {}, /has no value/],
    ['JSON without apiKey', { SecretString: '{"key": "x"}' }, /JSON without a string "apiKey"/],
    ['JSON with an empty apiKey', { SecretString: '{"apiKey": " "}' }, /is empty/],
    ['malformed JSON', { SecretString: '{"apiKey": ' }, /not valid JSON/],
    ['a bearer token', { SecretString: `Bearer ${KEY}` }, /not a bearer token/],
    ['a key with a space inside', { SecretString: 'abc def' }, /cannot carry/],
  ])('refuses %s with a clear error', async (_label, output, message) => {
    secrets.on(GetSecretValueCommand).resolves(output);
    const error = await readCloudZeroApiKey(ARN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudZeroApiKeyError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(ARN);
    expect((error as Error).message).not.toContain(KEY);
  });
});

describe('apiKeyFromSecret', () => {
  it('takes the key itself or the apiKey of a JSON object', () => {
    expect(apiKeyFromSecret(KEY, 's')).toBe(KEY);
    expect(apiKeyFromSecret(` {"apiKey":"${KEY}"} `, 's')).toBe(KEY);
    expect(() => apiKeyFromSecret(42, 's')).toThrow(/is not text/);
    expect(() => apiKeyFromSecret('{"apiKey": 42}', 's')).toThrow(CloudZeroApiKeyError);
    expect(() => apiKeyFromSecret('clé', 's')).toThrow(/non-ASCII/);
  });
});
