import { Testing, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleFunction, BundlingError, clearBundleCache } from '../../modules/bundled-function/bundle';
import { BundledFunction } from '../../modules/bundled-function/bundled-function';
import { BUILD_DIR } from '../../modules/project-paths';

function tempFunctions(files: Record<string, string>): string {
  // Inside the repository, so that imports resolve from its node_modules.
  fs.mkdirSync(path.join(BUILD_DIR, 'test'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(BUILD_DIR, 'test', 'functions-'));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

afterEach(() => clearBundleCache());
afterAll(() => fs.rmSync(path.join(BUILD_DIR, 'test'), { recursive: true, force: true }));

describe('bundleFunction', () => {
  it('fails with esbuild\'s own message, naming the file and line', () => {
    const dir = tempFunctions({ 'broken/index.ts': 'export const handler = async () => {\n  return 1 +;\n};\n' });
    let error: unknown;
    try {
      bundleFunction('broken', dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BundlingError);
    expect((error as Error).message).toMatch(/^Bundling functions\/broken failed:/);
    expect((error as Error).message).toMatch(/index\.ts:2:\d+: ERROR: Unexpected ";"/);
  });

  it('fails clearly on an unresolvable import', () => {
    const dir = tempFunctions({ 'lost/index.ts': "import { x } from 'no-such-package-anywhere';\nexport const handler = async () => x;\n" });
    expect(() => bundleFunction('lost', dir)).toThrow(/Could not resolve "no-such-package-anywhere"/);
  });

  it('fails clearly when the entry point is missing', () => {
    expect(() => bundleFunction('does-not-exist')).toThrow(/functions\/does-not-exist\/index\.ts does not exist/);
  });

  it('bundles the AWS SDK into the function instead of relying on the runtime copy', () => {
    const dir = tempFunctions({ 'sdk/index.ts': "import { AthenaClient } from '@aws-sdk/client-athena';\nexport const handler = async () => new AthenaClient({}).config.serviceId;\n" });
    const result = bundleFunction('sdk', dir);
    const code = fs.readFileSync(path.join(result.outDir, 'index.js'), 'utf8');
    // The client's own package.json is inlined: the function runs exactly the version the lockfile pins.
    const { version } = JSON.parse(fs.readFileSync(require.resolve('@aws-sdk/client-athena/package.json'), 'utf8')) as { version: string };
    expect(code.includes(`name:"@aws-sdk/client-athena",version:"${version}"`)).toBe(true);
    expect(/require\("@aws-sdk\/client-athena"\)/.test(code)).toBe(false);
    expect(fs.existsSync(path.join(result.outDir, 'index.js.map'))).toBe(true);
  });
});

describe('BundledFunction asset', () => {
  function assetHash(functionsDir: string): string {
    clearBundleCache();
    const app = Testing.app();
    const stack = new TerraformStack(app, 'asset-test');
    new AwsProvider(stack, 'aws', { region: 'us-east-1' });
    new BundledFunction(stack, 'hello', { entry: 'hello', functionName: 'hello', logRetentionDays: 7, functionsDir });
    const synthesized = JSON.parse(Testing.synth(stack));
    return Object.values(synthesized.resource.aws_lambda_function as Record<string, { source_code_hash: string }>)[0].source_code_hash;
  }

  it('keeps the hash while the code is unchanged and changes it when the code changes', () => {
    const dir = tempFunctions({ 'hello/index.ts': "export const handler = async () => 'hello';\n" });
    const first = assetHash(dir);
    expect(assetHash(dir)).toBe(first);
    fs.writeFileSync(path.join(dir, 'hello/index.ts'), "export const handler = async () => 'hello, world';\n");
    expect(assetHash(dir)).not.toBe(first);
  });
});
