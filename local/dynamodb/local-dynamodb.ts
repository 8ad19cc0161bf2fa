import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';

/** A DynamoDB-compatible server on loopback (dynalite), with a client pointed at it. */
export interface LocalDynamoDb {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Creates a table and waits until it is active. */
  createTable(definition: CreateTableCommandInput): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link startLocalDynamoDb}. */
export interface LocalDynamoDbOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** Keep the data in this folder. @default in memory */
  readonly path?: string;
  /**
   * Run the server on a worker thread, so that its share of the work runs on another core while this
   * thread drives the SDK clients (heavy tests). @default false
   */
  readonly thread?: boolean;
}

const DYNALITE_OPTIONS = { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 };

/** Starts the server; resolves with its port and how to stop it. */
async function startServer(options: LocalDynamoDbOptions): Promise<{ port: number; stop(): Promise<void> }> {
  const settings = { ...DYNALITE_OPTIONS, ...(options.path ? { path: options.path } : {}) };
  if (options.thread) {
    const worker = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads');
      const server = require(workerData.module)(workerData.settings);
      server.once('error', (error) => { throw error; });
      server.listen(workerData.port, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    `, { eval: true, workerData: { module: require.resolve('dynalite'), settings, port: options.port ?? 0 } });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    return { port, stop: async () => { await worker.terminate(); } };
  }
  const server = dynalite(settings);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  return { port: (server.address() as AddressInfo).port, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Starts dynalite on 127.0.0.1 (port 0 = any free port; `path` keeps the data on disk, otherwise it
 * lives in memory; `thread` runs it on a worker thread). It enforces DynamoDB's API, conditions and
 * transactions, so the real AWS SDK calls of the usage store run against it unchanged.
 */
export async function startLocalDynamoDb(options: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  const server = await startServer(options);
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
  return {
    endpoint,
    client,
    async createTable(definition) {
      await client.send(new CreateTableCommand(definition));
      // dynalite activates a new table on a timer, even with createTableMs 0: under load, a table
      // used at once can still be CREATING (answered as ResourceNotFound). Wait until it is ACTIVE.
      for (let attempt = 0; attempt < 500; attempt += 1) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: definition.TableName }));
        if (Table?.TableStatus === 'ACTIVE') return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error(`local table ${definition.TableName} did not become active`);
    },
    async close() {
      client.destroy();
      await server.stop();
    },
  };
}
