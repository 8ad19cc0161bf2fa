import { ConfigError, loadAppConfig } from '../../../modules/app-config';

describe('loadAppConfig', () => {
  it('defaults to the saas-metering stack with a local backend', () => {
    expect(loadAppConfig({})).toEqual({ stackName: 'saas-metering', backend: { kind: 'local' } });
  });

  it('selects Terraform Cloud when organization and workspace are set', () => {
    expect(loadAppConfig({ STACK_NAME: 'billing', TFC_ORGANIZATION: 'acme', TFC_WORKSPACE: 'billing-prod' })).toEqual({
      stackName: 'billing',
      backend: { kind: 'cloud', organization: 'acme', workspace: 'billing-prod', hostname: 'app.terraform.io' },
    });
    expect(loadAppConfig({ TFC_ORGANIZATION: 'acme', TFC_WORKSPACE: 'w', TFC_HOSTNAME: 'tfe.example.com' }).backend).toMatchObject({ hostname: 'tfe.example.com' });
  });

  it('rejects only one of organization and workspace', () => {
    expect(() => loadAppConfig({ TFC_ORGANIZATION: 'acme' })).toThrow(ConfigError);
    expect(() => loadAppConfig({ TFC_WORKSPACE: 'w' })).toThrow(/both TFC_ORGANIZATION and TFC_WORKSPACE/);
  });

  it.each(['1stack', 'has space', 'a'.repeat(64), 'under_score'])('rejects the stack name %j', (name) => {
    expect(() => loadAppConfig({ STACK_NAME: name })).toThrow(/STACK_NAME/);
  });

  it('rejects workspace names with characters Terraform Cloud does not allow', () => {
    expect(() => loadAppConfig({ TFC_ORGANIZATION: 'acme', TFC_WORKSPACE: 'a/b' })).toThrow(/TFC_WORKSPACE/);
  });
});
