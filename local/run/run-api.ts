/**
 * The metered API of the local run: the local API server (local/api/) with the real random-strings
 * and usage-events handlers, their tenant metrics captured (EMF lines, the local stand-in for
 * CloudWatch Logs), access logs and usage events to the local Firehose stream, ID tokens for the
 * onboarded users signed by the local key — all on the run's clock.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { FirehoseDeliveryStream } from '../../adapters/firehose/firehose-delivery-stream';
import type { MeteringConfig } from '../../core/usage/metering-config';
import { TenantMetrics } from '../../functions/commons/tenant-metrics';
import { createRandomStringsHandler } from '../../functions/random-strings/handler';
import { createUsageEventsHandler } from '../../functions/usage-events/handler';
import { firehoseAccessLogSink } from '../api/access-log-writer';
import { startLocalApi } from '../api/local-api-server';
import { LocalTokenIssuer } from '../api/local-token-issuer';
import type { CapturedEmfLines } from '../cost/emf-log-consumption';
import type { LocalFirehose } from '../firehose/local-firehose';
import type { LocalUserDirectory } from './local-user-directory';
import type { RunClock } from './run-clock';
import type { TrafficTarget } from './traffic';

/** The namespace of the local run's tenant metrics. */
export const LOCAL_METRICS_NAMESPACE = 'SaaSMetering/Tenants';

export interface RunApiOptions {
  readonly clock: RunClock;
  readonly firehose: LocalFirehose;
  readonly streamName: string;
  readonly usageStream: FirehoseDeliveryStream;
  readonly metering: MeteringConfig;
  readonly users: LocalUserDirectory;
  /** Where the handlers' tenant metrics go. */
  readonly metrics: CapturedEmfLines;
  /** 0: any free port. */
  readonly port: number;
}

export interface RunApi {
  /** Base URL including the stage, e.g. `http://127.0.0.1:8080/prod`. */
  readonly url: string;
  readonly target: TrafficTarget;
  /** The tenant metrics the handlers wrote (EMF lines). */
  readonly metrics: CapturedEmfLines;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function startRunApi(options: RunApiOptions): Promise<RunApi> {
  const { clock } = options;
  const { metrics } = options;
  const tenantMetrics = (serviceName: string) => new TenantMetrics({ serviceName, namespace: LOCAL_METRICS_NAMESPACE, write: metrics.write, now: clock.now });
  const issuer = await LocalTokenIssuer.create({ now: clock.now });
  // Other keys' tokens: what a forged or foreign token looks like to the authorizer.
  const stranger = await LocalTokenIssuer.create({ now: clock.now, userPoolId: issuer.userPoolId, clientId: issuer.clientId });
  const api = await startLocalApi({
    port: options.port,
    issuer,
    now: clock.now,
    randomStringsHandler: createRandomStringsHandler({ logger: new Logger({ serviceName: 'random-strings' }), metrics: tenantMetrics('random-strings') }),
    usageEventsHandler: createUsageEventsHandler({ stream: options.usageStream, config: options.metering, logger: new Logger({ serviceName: 'usage-events' }), now: clock.now, metrics: tenantMetrics('usage-events') }),
    accessLogSink: firehoseAccessLogSink({ client: options.firehose.client(), deliveryStreamName: options.streamName }),
  });
  const target: TrafficTarget = {
    baseUrl: api.url,
    async tokenFor(tenantId) {
      const user = options.users.usersOf(tenantId)[0];
      if (user === undefined) throw new Error(`tenant ${tenantId} has no user`);
      // Fresh each time: tokens live an hour of the run's clock, which moves fast.
      return issuer.issueIdToken({ email: user.email, tenantId, sub: user.sub });
    },
    async forgedToken() {
      return stranger.issueIdToken({ email: 'mallory@example.com', tenantId: 'mp-000000000000000000000000' });
    },
  };
  return {
    url: api.url,
    target,
    metrics,
    flush: () => api.flush(),
    close: () => api.close(),
  };
}
