import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readMeteringConfigFile } from '../../../config/metering-config-file';
import { MeteringConfigError, parseMeteringConfig } from '../../../core/usage/metering-config';
import { PROJECT_ROOT } from '../../../modules/project-paths';

const valid = () => ({
  dimensions: [{ name: 'api_requests', measure: 'requests', match: { resourcePaths: ['/random/strings'], methods: ['GET'], statuses: [{ from: 200, to: 299 }] } }],
  aggregation: { graceSeconds: 300, lookBackHours: 6, maxHoursPerRun: 48 },
});

describe('parseMeteringConfig', () => {
  it('accepts the shipped config/metering.json', () => {
    const config = parseMeteringConfig(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'config/metering.json'), 'utf8')));
    expect(config.dimensions.map((d) => d.name)).toEqual(['api_requests', 'response_bytes']);
  });

  it('fills in methods (any) and statuses (2xx) when left out', () => {
    const config = parseMeteringConfig({ ...valid(), dimensions: [{ name: 'calls', measure: 'requests', match: { resourcePaths: ['*'] } }] });
    expect(config.dimensions[0].match).toEqual({ resourcePaths: ['*'], methods: ['*'], statuses: [{ from: 200, to: 299 }] });
  });

  it.each([
    ['no dimensions', (c: any) => { c.dimensions = []; }, /dimensions: .*at least 1|dimensions: Too small/i],
    ['a bad dimension name', (c: any) => { c.dimensions[0].name = 'API Requests'; }, /dimensions\.0\.name: must be 1-64 lowercase/],
    ['an unknown measure', (c: any) => { c.dimensions[0].measure = 'latency'; }, /dimensions\.0\.measure/],
    ['a path without /', (c: any) => { c.dimensions[0].match.resourcePaths = ['random']; }, /resourcePaths\.0: must be "\*" or a path/],
    ['an unknown method', (c: any) => { c.dimensions[0].match.methods = ['FETCH']; }, /methods\.0/],
    ['an inverted status range', (c: any) => { c.dimensions[0].match.statuses = [{ from: 299, to: 200 }]; }, /from must not be greater than to/],
    ['a status out of range', (c: any) => { c.dimensions[0].match.statuses = [{ from: 200, to: 700 }]; }, /statuses\.0\.to/],
    ['a duplicate dimension', (c: any) => { c.dimensions.push({ ...c.dimensions[0] }); }, /duplicate dimension name "api_requests"/],
    ['an unknown key', (c: any) => { c.dimensions[0].unit = 'calls'; }, /dimensions\.0: Unrecognized key/i],
    ['a look-back of 0 hours', (c: any) => { c.aggregation.lookBackHours = 0; }, /aggregation\.lookBackHours/],
    ['a fractional grace', (c: any) => { c.aggregation.graceSeconds = 1.5; }, /aggregation\.graceSeconds/],
    ['no aggregation section', (c: any) => { delete c.aggregation; }, /aggregation/],
  ])('rejects %s with a message naming the place', (_name, mutate, message) => {
    const config = valid();
    mutate(config);
    expect(() => parseMeteringConfig(config)).toThrow(MeteringConfigError);
    expect(() => parseMeteringConfig(config)).toThrow(message);
  });

  it('lists every problem at once', () => {
    const config: any = valid();
    config.dimensions[0].name = 'X';
    config.aggregation.lookBackHours = 0;
    expect(() => parseMeteringConfig(config, 'test.json')).toThrow(/test\.json[\s\S]*dimensions\.0\.name[\s\S]*aggregation\.lookBackHours/);
  });

  it('rejects something that is not an object', () => {
    expect(() => parseMeteringConfig('dimensions')).toThrow(/\(root\)/);
  });
});

describe('readMeteringConfigFile', () => {
  const write = (text: string) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'metering-')), 'metering.json');
    fs.writeFileSync(file, text);
    return file;
  };

  it('names the file and the problem for invalid JSON, a missing file and an invalid configuration', () => {
    expect(() => readMeteringConfigFile(write('{ "dimensions": ['))).toThrow(/metering\.json[\s\S]*is not valid JSON/);
    expect(() => readMeteringConfigFile('/nonexistent/metering.json')).toThrow(/\/nonexistent\/metering\.json[\s\S]*cannot be read: ENOENT/);
    expect(() => readMeteringConfigFile(write('{"dimensions":[],"aggregation":{"graceSeconds":0,"lookBackHours":1,"maxHoursPerRun":1}}'))).toThrow(MeteringConfigError);
  });

  it('reads the shipped file by default', () => {
    expect(readMeteringConfigFile().aggregation.lookBackHours).toBeGreaterThan(0);
  });
});
