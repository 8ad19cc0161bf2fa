import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../modules/project-paths';
import { resourcesOfType, synthStack } from '../support/synth';

const { parsed: stack, json } = synthStack();

describe('stack variables', () => {
  const declared = Object.keys(stack.variable).sort();

  it('gives every variable a description and a default', () => {
    for (const name of declared) {
      expect(stack.variable[name]).toEqual(expect.objectContaining({ description: expect.any(String), default: expect.anything() }));
    }
  });

  it('lists exactly the declared variables in terraform.tfvars.example, each with a comment', () => {
    const example = fs.readFileSync(path.join(PROJECT_ROOT, 'terraform.tfvars.example'), 'utf8').split('\n');
    const listed: string[] = [];
    example.forEach((line, index) => {
      const match = /^([a-z_0-9]+)\s*=/.exec(line);
      if (!match) return;
      listed.push(match[1]);
      const previous = example.slice(0, index).reverse().find((l) => !/^[a-z_0-9]+\s*=/.test(l));
      expect(previous).toMatch(/^#/);
    });
    expect(listed.sort()).toEqual(declared);
  });

  it('shows each default in the example as the stack declares it', () => {
    const example = fs.readFileSync(path.join(PROJECT_ROOT, 'terraform.tfvars.example'), 'utf8');
    for (const name of declared) {
      const match = new RegExp(`^${name}\\s*=\\s*(.+)$`, 'm').exec(example);
      expect(match).not.toBeNull();
      expect(JSON.parse(match![1].replace(/^\{\}$/, '{}'))).toEqual(stack.variable[name].default);
    }
  });
});

describe('provider and backend', () => {
  it('tags every resource by default, merging the operator tags', () => {
    const [aws] = stack.provider.aws as { default_tags: { tags: string }[]; region: string }[];
    expect(aws.region).toBe('${var.region}');
    expect(aws.default_tags[0].tags).toMatch(/merge\(.*Project.*saas-usage-metering.*var\.tags/s);
  });

  it('keeps state in a local backend by default', () => {
    expect(stack.terraform.backend).toEqual({ local: { path: 'terraform.test-stack.tfstate' } });
  });

  it('uses Terraform Cloud when an organization and workspace are configured', () => {
    const cloud = synthStack({ stackName: 'prod', backend: { kind: 'cloud', organization: 'acme', workspace: 'metering-prod', hostname: 'app.terraform.io' } }).parsed;
    expect(cloud.terraform.cloud).toEqual({ hostname: 'app.terraform.io', organization: 'acme', workspaces: { name: 'metering-prod' } });
    expect(cloud.terraform.backend).toBeUndefined();
  });

  it('pins the AWS provider of @cdktf/provider-aws', () => {
    expect(stack.terraform.required_providers).toEqual({ aws: { source: 'aws', version: expect.stringMatching(/^6\./) } });
  });
});

describe('every function', () => {
  const functions = Object.entries(resourcesOfType(stack, 'aws_lambda_function'));

  it.each(functions.map(([name]) => name))('%s runs Node.js 22 on arm64 with source maps, its own role and its own log group', (name) => {
    const fn = resourcesOfType(stack, 'aws_lambda_function')[name];
    expect(fn).toMatchObject({ runtime: 'nodejs22.x', architectures: ['arm64'], handler: 'index.handler' });
    expect((fn.environment as { variables: Record<string, string> }).variables.NODE_OPTIONS).toBe('--enable-source-maps');
    expect(fn.logging_config).toMatchObject({ log_format: 'JSON', log_group: expect.stringMatching(/^\$\{aws_cloudwatch_log_group\./) });
    const roleUsers = functions.filter(([, other]) => other.role === fn.role);
    expect(roleUsers).toHaveLength(1);
    expect(fn.source_code_hash).toMatch(/^[A-F0-9]{32,64}$/);
    expect(fn.filename).toMatch(/^assets\/.+\/archive\.zip$/);
  });

  it('has a retention on every log group', () => {
    for (const group of Object.values(resourcesOfType(stack, 'aws_cloudwatch_log_group'))) {
      expect(group.retention_in_days).toBe('${var.log_retention_days}');
    }
  });
});

describe('synthesized stack snapshot', () => {
  it('matches the snapshot (asset paths and hashes blanked)', () => {
    const blanked = json
      .replace(/"source_code_hash": "[A-F0-9]{32,64}"/g, '"source_code_hash": "<hash>"')
      .replace(/assets\/[^"]+\/archive\.zip/g, 'assets/<asset>/archive.zip');
    expect(JSON.parse(blanked)).toMatchSnapshot();
  });
});
