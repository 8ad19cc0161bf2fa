/**
 * The stack's variable validations, evaluated by the real Terraform CLI. Only the `variable` blocks of
 * the synthesized stack are planned (no provider is needed, so this runs offline): the defaults must
 * pass, and every invalid value must be refused with its own message.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthStack } from '../support/synth';
import { terraform } from '../support/terraform-cli';

const { parsed: stack } = synthStack();
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-variables-'));
  fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ variable: stack.variable }));
  const init = terraform(dir, ['init', '-backend=false', '-input=false']);
  expect(init.output).toContain('Terraform has been successfully initialized');
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function planWith(values: Record<string, unknown>) {
  fs.writeFileSync(path.join(dir, 'test.tfvars.json'), JSON.stringify(values));
  return terraform(dir, ['plan', '-input=false', '-var-file=test.tfvars.json']);
}

describe('variable validation', () => {
  it('accepts the defaults', () => {
    const plan = planWith({});
    expect(plan.output).not.toMatch(/Error/);
    expect(plan.code).toBe(0);
  });

  it('accepts valid non-default values', () => {
    const plan = planWith({
      name_prefix: 'acme-billing',
      stage_name: 'v1',
      log_retention_days: 365,
      lake_kms_key_arn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      transform_buffer_size_mb: 0.5,
      user_pool_deletion_protection: 'INACTIVE',
      tags: { CostCenter: '42' },
      usage_table_deletion_protection: false,
      aggregation_schedule_minute: 0,
      alarm_email: 'ops+metering@example.com',
      tenant_table_deletion_protection: false,
      marketplace_sns_topic_arns: [
        'arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-abc123xyz',
        'arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-abc123xyz',
      ],
      onboarding_url: 'https://control-plane.example.com/onboarding',
      onboarding_api_key: 'secret-key',
      unsent_usage_alarm_hours: 5,
      registration_reserved_concurrency: -1,
    });
    expect(plan.output).not.toMatch(/Error/);
    expect(plan.code).toBe(0);
  });

  it('refuses every invalid value, each with its own message', () => {
    const plan = planWith({
      name_prefix: 'Bad_Prefix',
      stage_name: 'a/b',
      log_retention_days: 2,
      api_throttle_rate_limit: 0,
      api_throttle_burst_limit: 1.5,
      user_pool_deletion_protection: 'maybe',
      lake_kms_key_arn: 'alias/my-key',
      failed_record_retention_days: 0,
      athena_bytes_scanned_cutoff: 1000,
      firehose_buffering_interval_seconds: 901,
      firehose_buffering_size_mb: 0,
      transform_buffer_size_mb: 3,
      transform_buffer_interval_seconds: -1,
      aggregation_schedule_minute: 60,
      alarm_email: 'ops at example',
      marketplace_sns_topic_arns: ['arn:aws:sqs:us-east-1:287250355862:not-a-topic'],
      onboarding_url: 'http://control-plane.example.com/onboarding',
      unsent_usage_alarm_hours: 6,
      registration_reserved_concurrency: 0,
    });
    expect(plan.code).not.toBe(0);
    const messages = [
      'name_prefix must be 3 to 24', 'stage_name may hold only', 'log_retention_days must be one of',
      'api_throttle_rate_limit must be positive', 'api_throttle_burst_limit must be a positive whole number',
      'user_pool_deletion_protection must be ACTIVE or INACTIVE', 'lake_kms_key_arn must be empty or a KMS key ARN',
      'failed_record_retention_days must be at least 1', 'athena_bytes_scanned_cutoff must be at least',
      'firehose_buffering_interval_seconds must be from 0 to 900', 'firehose_buffering_size_mb must be from 1 to 128',
      'transform_buffer_size_mb must be from 0.2 to 2', 'transform_buffer_interval_seconds must be from 0 to 900',
      'aggregation_schedule_minute must be a whole number from 0 to 59', 'alarm_email must be empty or an email address',
      'marketplace_sns_topic_arns must hold SNS topic ARNs only', 'onboarding_url must be empty or an https:// URL',
      'unsent_usage_alarm_hours must be a whole number from 1 to 5', 'registration_reserved_concurrency must be -1 or a whole number from 1 to 1000',
    ];
    const flat = plan.output.replace(/\s+/g, ' ');
    for (const message of messages) expect(flat).toContain(message);
  });

  it('accepts the boundaries of the Marketplace settings', () => {
    const plan = planWith({ unsent_usage_alarm_hours: 1, registration_reserved_concurrency: 1000, marketplace_sns_topic_arns: [] });
    expect(plan.output).not.toMatch(/Error/);
    expect(plan.code).toBe(0);
  });

  it('accepts the last minute of the hour as the aggregation minute', () => {
    const plan = planWith({ aggregation_schedule_minute: 59 });
    expect(plan.output).not.toMatch(/Error/);
    expect(plan.code).toBe(0);
  });

  it.each([
    ['aggregation_schedule_minute', -1, 'aggregation_schedule_minute must be a whole number'],
    ['aggregation_schedule_minute', 7.5, 'aggregation_schedule_minute must be a whole number'],
    ['alarm_email', 'ops@example', 'alarm_email must be empty or an email address'],
    ['alarm_email', 'two words@example.com', 'alarm_email must be empty or an email address'],
    ['marketplace_sns_topic_arns', ['arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-abc', 'aws-mp-entitlement-notification-abc'], 'marketplace_sns_topic_arns must hold SNS topic ARNs only'],
    ['marketplace_sns_topic_arns', ['arn:aws:sns:us-east-1:287250355862:'], 'marketplace_sns_topic_arns must hold SNS topic ARNs only'],
    ['onboarding_url', 'https://', 'onboarding_url must be empty or an https:// URL'],
    ['onboarding_url', 'https://example.com/on boarding', 'onboarding_url must be empty or an https:// URL'],
    ['unsent_usage_alarm_hours', 0, 'unsent_usage_alarm_hours must be a whole number from 1 to 5'],
    ['unsent_usage_alarm_hours', 2.5, 'unsent_usage_alarm_hours must be a whole number from 1 to 5'],
    ['registration_reserved_concurrency', 1001, 'registration_reserved_concurrency must be -1 or a whole number'],
    ['registration_reserved_concurrency', 2.5, 'registration_reserved_concurrency must be -1 or a whole number'],
    ['registration_reserved_concurrency', -2, 'registration_reserved_concurrency must be -1 or a whole number'],
  ])('refuses %s = %p', (name, value, message) => {
    const plan = planWith({ [name]: value });
    expect(plan.code).not.toBe(0);
    expect(plan.output.replace(/\s+/g, ' ')).toContain(message);
  });
});
