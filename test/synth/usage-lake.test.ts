import { ACCESS_LOG_COLUMNS } from '../../core/lake/access-log-table';
import { resourceNamed, resourcesOfType, synthStack, type SynthesizedStack } from '../support/synth';

const { parsed: stack } = synthStack();

type Statement = { effect: string; actions: string[]; resources: string[] };

/** Statements of the inline policies attached to a role. */
function roleStatements(synth: SynthesizedStack, roleName: string): Statement[] {
  return Object.values(resourcesOfType(synth, 'aws_iam_role_policy'))
    .filter((p) => p.role === `\${aws_iam_role.${roleName}.id}`)
    .flatMap((p) => {
      const doc = (p.policy as string).replace(/^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$/, '$1');
      return (synth.data.aws_iam_policy_document[doc] as { statement: Statement[] }).statement;
    });
}

function roleNameOf(reference: string): string {
  return reference.replace(/^\$\{aws_iam_role\.([^.]+)\.arn\}$/, '$1');
}

describe('lake bucket', () => {
  it('is encrypted at rest: SSE-S3 by default, the configured KMS key otherwise', () => {
    const [, sse] = resourceNamed(stack, 'aws_s3_bucket_server_side_encryption_configuration', 'usage-lake_bucket_encryption');
    const rule = (sse.rule as { apply_server_side_encryption_by_default: { sse_algorithm: string; kms_master_key_id: string } }[])[0];
    expect(rule.apply_server_side_encryption_by_default.sse_algorithm).toMatch(/^\$\{\(length\(var\.lake_kms_key_arn\) >= 1\) \? "aws:kms" : "AES256"\}$/);
    expect(rule.apply_server_side_encryption_by_default.kms_master_key_id).toMatch(/var\.lake_kms_key_arn/);
  });

  it('blocks every kind of public access and enforces bucket ownership', () => {
    const [, block] = resourceNamed(stack, 'aws_s3_bucket_public_access_block', 'usage-lake_bucket_public-access-block');
    expect(block).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    const [, ownership] = resourceNamed(stack, 'aws_s3_bucket_ownership_controls', 'usage-lake_bucket_ownership');
    expect(ownership.rule).toEqual({ object_ownership: 'BucketOwnerEnforced' });
  });

  it('refuses every request that does not use TLS', () => {
    const [, policy] = resourceNamed(stack, 'aws_s3_bucket_policy', 'usage-lake_bucket_policy');
    const doc = (policy.policy as string).replace(/^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$/, '$1');
    const statements = (stack.data.aws_iam_policy_document[doc] as { statement: Record<string, unknown>[] }).statement;
    expect(statements).toEqual([expect.objectContaining({
      effect: 'Deny',
      actions: ['s3:*'],
      condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
      principals: [{ type: '*', identifiers: ['*'] }],
    })]);
  });

  it('is versioned and expires failed records after the configured days', () => {
    const [, versioning] = resourceNamed(stack, 'aws_s3_bucket_versioning', 'usage-lake_bucket_versioning');
    expect(versioning.versioning_configuration).toEqual({ status: 'Enabled' });
    const [, lifecycle] = resourceNamed(stack, 'aws_s3_bucket_lifecycle_configuration', 'usage-lake_bucket_lifecycle');
    expect(lifecycle.rule).toContainEqual(expect.objectContaining({
      id: 'expire-failed-records',
      filter: [{ prefix: 'errors/' }],
      expiration: [{ days: '${var.failed_record_retention_days}' }],
    }));
  });
});

describe('Athena workgroup', () => {
  it('pins engine v3, enforces its settings, encrypts results and caps the bytes one query scans', () => {
    const [, workgroup] = resourceNamed(stack, 'aws_athena_workgroup', 'workgroup');
    expect(workgroup.configuration).toMatchObject({
      enforce_workgroup_configuration: true,
      bytes_scanned_cutoff_per_query: '${var.athena_bytes_scanned_cutoff}',
      engine_version: { selected_engine_version: 'Athena engine version 3' },
      result_configuration: { encryption_configuration: { encryption_option: expect.stringMatching(/SSE_KMS.*SSE_S3/) } },
    });
  });
});

describe('access-log table DDL at deploy', () => {
  const [, invocation] = resourceNamed(stack, 'aws_lambda_invocation', 'access-log-table');
  const input = invocation.input as string;

  it('runs the ddl-runner function on create, update and destroy', () => {
    expect(invocation).toMatchObject({ lifecycle_scope: 'CRUD', terraform_key: 'tf' });
    const [fnName] = resourceNamed(stack, 'aws_lambda_function', 'ddl-runner');
    expect(invocation.function_name).toBe(`\${aws_lambda_function.${fnName}.function_name}`);
  });

  it('creates an Iceberg table partitioned by the hour of the request, with the columns of the field list', () => {
    expect(input).toMatch(/CREATE TABLE IF NOT EXISTS/);
    expect(input).toMatch(/PARTITIONED BY \(hour\(`request_time`\)\)/);
    expect(input).toMatch(/'table_type' = 'ICEBERG'/);
    expect(input).not.toMatch(/\{\{/);
    for (const column of ACCESS_LOG_COLUMNS) expect(input).toContain(`\`${column.name}\` ${column.type}`);
  });

  it('keeps data on destroy unless the operator asks', () => {
    expect(input).toContain('dropOnDestroy');
    expect(input).toContain('var.drop_tables_on_destroy');
    expect(stack.variable.drop_tables_on_destroy.default).toBe(false);
  });

  it('compacts each table with the Glue table optimizers, once that table exists', () => {
    const optimizers = Object.entries(resourcesOfType(stack, 'aws_glue_catalog_table_optimizer'));
    for (const [table, invocation] of [['access_logs', 'access-log-table'], ['usage_events', 'usage-event-table']]) {
      const own = optimizers.filter(([, o]) => o.table_name === table);
      expect(own.map(([, o]) => o.type).sort()).toEqual(['compaction', 'orphan_file_deletion', 'retention']);
      const [invocationName] = resourceNamed(stack, 'aws_lambda_invocation', invocation);
      for (const [, optimizer] of own) {
        expect(optimizer.depends_on).toEqual([`aws_lambda_invocation.${invocationName}`]);
        expect(optimizer.count).toMatch(/var\.table_optimizers_enabled/);
      }
    }
    expect(optimizers).toHaveLength(6);
  });
});

describe('access-log delivery stream', () => {
  const [, stream] = resourceNamed(stack, 'aws_kinesis_firehose_delivery_stream', 'stream');
  const iceberg = stream.iceberg_configuration as Record<string, unknown>;

  it('writes to the access-log and usage-event tables through the Iceberg destination, each with its error prefix', () => {
    expect(stream.destination).toBe('iceberg');
    expect(iceberg.catalog_arn).toMatch(/^arn:\$\{data\.aws_partition\.[^}]+\}:glue:.*:catalog$/);
    expect(iceberg.destination_table_configuration).toEqual([
      expect.objectContaining({ table_name: 'access_logs', s3_error_output_prefix: 'errors/access_logs/' }),
      expect.objectContaining({ table_name: 'usage_events', s3_error_output_prefix: 'errors/usage_events/' }),
    ]);
    expect(iceberg).toMatchObject({
      buffering_interval: '${var.firehose_buffering_interval_seconds}',
      buffering_size: '${var.firehose_buffering_size_mb}',
      s3_backup_mode: 'FailedDataOnly',
    });
  });

  it('runs every record through the validating transform', () => {
    const [fnName] = resourceNamed(stack, 'aws_lambda_function', 'transform');
    const processing = iceberg.processing_configuration as { enabled: boolean; processors: { type: string; parameters: { parameter_name: string; parameter_value: string }[] }[] };
    expect(processing.enabled).toBe(true);
    const params = Object.fromEntries(processing.processors[0].parameters.map((p) => [p.parameter_name, p.parameter_value]));
    expect(processing.processors[0].type).toBe('Lambda');
    expect(params.LambdaArn).toBe(`\${aws_lambda_function.${fnName}.arn}:$LATEST`);
    expect(params.BufferSizeInMBs).toBe('${var.transform_buffer_size_mb}');
  });

  it('logs to a log group that exists, and its role may write exactly there', () => {
    const [groupName, group] = resourceNamed(stack, 'aws_cloudwatch_log_group', 'usage-ingestion_logs');
    expect(group.name).toMatch(/^\/aws\/kinesisfirehose\/amazon-apigateway-/);
    const logging = iceberg.cloudwatch_logging_options as { enabled: boolean; log_group_name: string };
    expect(logging.log_group_name).toBe(`\${aws_cloudwatch_log_group.${groupName}.name}`);
    const statements = roleStatements(stack, roleNameOf(iceberg.role_arn as string));
    expect(statements.find((s) => s.actions.includes('logs:PutLogEvents'))?.resources).toEqual([`\${aws_cloudwatch_log_group.${groupName}.arn}:*`]);
  });

  it('has a role scoped to the lake tables, the error prefix and the transform', () => {
    const statements = roleStatements(stack, roleNameOf(iceberg.role_arn as string));
    for (const statement of statements) {
      expect(statement.effect).toBe('Allow');
      for (const action of statement.actions) expect(action).not.toMatch(/\*/);
      for (const resource of statement.resources) expect(resource).not.toBe('*');
    }
    const glue = statements.find((s) => s.actions.includes('glue:UpdateTable'))!;
    expect(glue.resources.filter((r) => r.includes(':table/')).map((r) => r.split('/').pop())).toEqual(['access_logs', 'usage_events']);
    const invoke = statements.find((s) => s.actions.includes('lambda:InvokeFunction'))!;
    expect(invoke.resources.every((r) => r.includes('aws_lambda_function.') && r.includes('transform'))).toBe(true);
    const objects = statements.find((s) => s.actions.includes('s3:PutObject') && s.resources.some((r) => r.includes('tables/')))!;
    expect(objects.resources).toEqual([expect.stringMatching(/\/tables\/access_logs\/\*$/), expect.stringMatching(/\/tables\/usage_events\/\*$/)]);
  });

  it('grants Lake Formation permissions only when the catalog is governed by it', () => {
    const grants = Object.entries(resourcesOfType(stack, 'aws_lakeformation_permissions'));
    expect(grants.length).toBeGreaterThan(0);
    for (const [, grant] of grants) expect(grant.count).toMatch(/var\.lake_formation_enabled/);
    expect(grants.some(([name, grant]) => name.includes('firehose') && (grant.permissions as string[]).includes('INSERT'))).toBe(true);
  });
});

describe('KMS option', () => {
  it('grants key use only when a key is configured, with a condition Terraform can evaluate', () => {
    const kmsPolicies = Object.entries(resourcesOfType(stack, 'aws_iam_role_policy')).filter(([, p]) => p.name === 'kms');
    expect(kmsPolicies.length).toBeGreaterThanOrEqual(3);
    // A policy of a switchable feature also needs its switch on.
    for (const [, policy] of kmsPolicies) expect(policy.count).toMatch(/^\$\{(?:\(var\.[a-z_]+_enabled && \(length\(var\.lake_kms_key_arn\) >= 1\)\)|\(length\(var\.lake_kms_key_arn\) >= 1\)) \? 1 : 0\}$/);
    expect(JSON.stringify(stack)).not.toContain('undefined');
  });
});
