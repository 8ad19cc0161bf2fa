import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { Construct } from 'constructs';

/** Account, region and partition the stack is deployed to, for building ARNs. */
export interface AwsEnvironment {
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
}

/** Reads the account, region and partition from the provider's credentials at plan time. */
export function lookUpAwsEnvironment(scope: Construct): AwsEnvironment {
  return {
    accountId: new DataAwsCallerIdentity(scope, 'current-account').accountId,
    region: new DataAwsRegion(scope, 'current-region').region,
    partition: new DataAwsPartition(scope, 'current-partition').partition,
  };
}

/** ARNs of the Glue Data Catalog, one of its databases and one of its tables. */
export function glueArns(env: AwsEnvironment, database: string, table?: string) {
  const base = `arn:${env.partition}:glue:${env.region}:${env.accountId}`;
  return {
    catalog: `${base}:catalog`,
    database: `${base}:database/${database}`,
    table: `${base}:table/${database}/${table ?? '*'}`,
  };
}
