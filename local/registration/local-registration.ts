/**
 * The registration page wired locally: the Marketplace simulator (real AWS SDK client), a dynalite
 * tenant table (tenants, sessions, token records), an in-memory event publisher, and the local HTTP
 * server — the same flow and handler as the Lambda, with local ports. Used by the integration and
 * browser tests and by `serve.ts`.
 */
import { DynamoDbRegistrationSessions } from '../../adapters/dynamodb/dynamodb-registration-sessions';
import { DynamoDbTenantRegistry, tenantTableDefinition } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { AwsCustomerResolver } from '../../adapters/marketplace/resolve-customer';
import { createRegistrationFlow, type RegistrationFlowOptions } from '../../core/marketplace/registration-flow';
import { createRegistrationHandler, type RegistrationProxyHandler } from '../../functions/marketplace-registration/registration-handler';
import { startLocalDynamoDb, type LocalDynamoDb } from '../dynamodb/local-dynamodb';
import { startMarketplaceSimulator, type MarketplaceSimulator, type MarketplaceSimulatorOptions } from '../marketplace/marketplace-simulator';
import { InMemoryEventPublisher } from './in-memory-event-publisher';
import { MemoryLog } from './memory-log';
import { startRegistrationServer, type RegistrationServer, type RegistrationServerOptions } from './registration-server';

/** Options of {@link startLocalRegistration}. */
export interface LocalRegistrationOptions extends Omit<RegistrationFlowOptions, 'now'>, RegistrationServerOptions {
  /** The clock of the flow and the simulator. @default Date.now */
  readonly now?: () => number;
  /** @default 'tenants' */
  readonly tableName?: string;
  /** Print log entries as JSON lines. @default false */
  readonly echoLog?: boolean;
  /** Options of the Marketplace simulator (its clock is `now`). */
  readonly simulator?: Omit<MarketplaceSimulatorOptions, 'now'>;
}

/** A running local registration page and what it talks to. */
export interface LocalRegistration {
  readonly sim: MarketplaceSimulator;
  readonly db: LocalDynamoDb;
  readonly tableName: string;
  readonly registry: DynamoDbTenantRegistry;
  readonly sessions: DynamoDbRegistrationSessions;
  readonly publisher: InMemoryEventPublisher;
  readonly log: MemoryLog;
  /** The API Gateway proxy handler (the same one the server calls). */
  readonly handler: RegistrationProxyHandler;
  readonly server: RegistrationServer;
  close(): Promise<void>;
}

/** Starts simulator, dynalite (with the tenant table), and the server, all on 127.0.0.1. */
export async function startLocalRegistration(options: LocalRegistrationOptions = {}): Promise<LocalRegistration> {
  const { now = Date.now, tableName = 'tenants', echoLog = false, port, marketplaceRedirect, simulator, ...flowOptions } = options;
  const sim = await startMarketplaceSimulator({ ...simulator, now });
  const db = await startLocalDynamoDb();
  try {
    await db.createTable(tenantTableDefinition(tableName));
    const registry = new DynamoDbTenantRegistry(db.client, tableName);
    const sessions = new DynamoDbRegistrationSessions(db.client, tableName);
    const publisher = new InMemoryEventPublisher();
    const log = new MemoryLog(echoLog);
    const flow = createRegistrationFlow({ resolver: new AwsCustomerResolver(sim.client()), sessions, registry, publisher, log }, { ...flowOptions, now });
    const handler = createRegistrationHandler(flow);
    const server = await startRegistrationServer(handler, { ...(port === undefined ? {} : { port }), ...(marketplaceRedirect === undefined ? {} : { marketplaceRedirect }) });
    return {
      sim, db, tableName, registry, sessions, publisher, log, handler, server,
      async close() {
        await server.close();
        await sim.close();
        await db.close();
      },
    };
  } catch (error) {
    await sim.close();
    await db.close();
    throw error;
  }
}
