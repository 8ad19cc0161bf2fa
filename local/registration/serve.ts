/**
 * Runs the registration page locally with a demo listing and token:
 * `npx tsx local/registration/serve.ts [port]`, then open the printed URL (it posts the token the way
 * AWS Marketplace does). Ctrl-C stops it. Everything listens on 127.0.0.1 only.
 */
import { startLocalRegistration } from './local-registration';

const DEMO_PRODUCT = 'prod-demo';
const DEMO_TOKEN = 'demo-registration-token';

async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? 8787);
  const local = await startLocalRegistration({ port, marketplaceRedirect: true, echoLog: true, serviceName: 'Usage Metering (local)' });
  local.sim.addProduct({ productCode: DEMO_PRODUCT, dimensions: ['api_requests'] });
  local.sim.registerToken(DEMO_TOKEN, {
    productCode: DEMO_PRODUCT,
    customerAWSAccountId: '111122223333',
    licenseArn: 'arn:aws:license-manager::294406891311:license:l-0123456789abcdef0123456789abcdef',
    expiresAt: Date.now() + 24 * 60 * 60 * 1000,
  });
  console.log(`registration page: ${local.server.registrationUrl}`);
  console.log(`start as a buyer:  ${local.server.marketplaceRedirectUrl(DEMO_TOKEN)}`);
  const stop = () => {
    void local.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
