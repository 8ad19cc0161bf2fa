import { App } from 'cdktf';
import { loadAppConfig } from './modules/app-config';
import { MeteringStack } from './modules/stack/metering-stack';

const config = loadAppConfig(process.env);
const app = new App();
new MeteringStack(app, config.stackName, config);
app.synth();
