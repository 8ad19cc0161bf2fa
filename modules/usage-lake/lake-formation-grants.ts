import { LakeformationPermissions } from '@cdktf/provider-aws/lib/lakeformation-permissions';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';

export interface LakeFormationGrantsProps {
  /** Whether the Glue catalog is governed by Lake Formation (may be a Terraform variable). */
  readonly enabled: boolean;
  /** The role to grant to. */
  readonly principalArn: string;
  readonly databaseName: string;
  /** Permissions on the database, e.g. `DESCRIBE`, `CREATE_TABLE`. */
  readonly databasePermissions: readonly string[];
  /** Permissions on every table of the database, e.g. `SELECT`, `INSERT`. Empty for none. */
  readonly tablePermissions: readonly string[];
}

/**
 * Lake Formation grants for one role, created only where the catalog is governed by Lake Formation
 * (with IAM-only access control the role's IAM policy is enough and these are not created).
 */
export class LakeFormationGrants extends Construct {
  constructor(scope: Construct, id: string, props: LakeFormationGrantsProps) {
    super(scope, id);
    const count = Token.asNumber(Fn.conditional(props.enabled, 1, 0));
    new LakeformationPermissions(this, 'database', {
      count,
      principal: props.principalArn,
      permissions: [...props.databasePermissions],
      database: { name: props.databaseName },
    });
    if (props.tablePermissions.length > 0) {
      new LakeformationPermissions(this, 'tables', {
        count,
        principal: props.principalArn,
        permissions: [...props.tablePermissions],
        table: { databaseName: props.databaseName, wildcard: true },
      });
    }
  }
}
