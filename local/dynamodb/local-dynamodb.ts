import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';

/** A DynamoDB-compatible server on loopback (dynalite), with a client pointed at it. */
export interface LocalDynamoDb {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Creates a table and waits until it is active. */
  createTable(definition: CreateTableCommandInput): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts dynalite on 127.0.0.1 (port 0 = any free port; `path` keeps the data on disk, otherwise it
 * lives in memory). It enforces DynamoDB's API, conditions and transactions, so the real AWS SDK
 * calls of the usage store run against it unchanged.
 */
export async function startLocalDynamoDb(options: { port?: number; path?: string } = {}): Promise<LocalDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.path ? { path: options.path } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
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
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`local table ${definition.TableName} did not become active`);
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
