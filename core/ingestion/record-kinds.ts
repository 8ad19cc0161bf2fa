/**
 * The kinds of record the ingestion transform knows, and where each one goes.
 *
 * A record kind says how to recognise a parsed record, how to validate and normalise it, and which
 * environment variables name its destination Iceberg table. Custom usage events (POST /usage) are
 * recognised by their marker field and come first; API Gateway access logs carry no marker, so their
 * kind comes last and takes whatever no earlier kind claimed.
 */
import { USAGE_EVENT_MARKER, usageEventRow } from '../usage-events/usage-event-record';
import { ACCESS_LOG_TABLE } from '../lake/access-log-table';
import { USAGE_EVENT_TABLE } from '../lake/usage-event-table';
import { ACCESS_LOG_SCHEMA, type ValidationContext } from './access-log-schema';

export type { ValidationContext } from './access-log-schema';

/** The outcome of normalising one record of a kind: its JSON text, or why it is invalid. */
export type KindOutcome =
  | { readonly ok: true; readonly json: string }
  | { readonly ok: false; readonly reason: string; readonly requestId?: string };

/** One kind of record and its rules. */
export interface RecordKind {
  /** Short name, used in logs and as the key of its {@link Destination} in the routing. */
  readonly name: string;
  /** The environment variables that name its destination database and table. */
  readonly destinationEnvironment: { readonly database: string; readonly table: string };
  /** The table the usage lake creates for this kind (in AWS the environment names it; locally this). */
  readonly table: string;
  /** Whether a parsed JSON object is of this kind. Kinds are asked in registry order. */
  recognises(record: Readonly<Record<string, unknown>>): boolean;
  /** Validates and normalises a parsed JSON object of this kind into its output JSON text. */
  normalise(record: Readonly<Record<string, unknown>>, context: ValidationContext): KindOutcome;
  /**
   * Optional fast path on the raw UTF-8 bytes, tried before parsing. For a valid record of this kind in
   * its usual layout, writes the output JSON text's bytes to `output` from `outputStart` and returns
   * their end; otherwise returns -1 and the general path decides. It must never accept what
   * `normalise(JSON.parse(text))` rejects, nor produce different output, nor accept a record that an
   * earlier kind recognises.
   */
  readonly fastPath?: {
    normalise(input: Uint8Array, start: number, end: number, output: Uint8Array, outputStart: number, context: ValidationContext): number;
    /** How many bytes longer than its input the output can be. */
    readonly maxGrowthBytes: number;
  };
}

/** API Gateway access logs (see `core/access-log/fields.ts`). */
export const ACCESS_LOG_KIND: RecordKind = {
  name: 'access-log',
  destinationEnvironment: { database: 'ACCESS_LOG_DATABASE', table: 'ACCESS_LOG_TABLE' },
  table: ACCESS_LOG_TABLE,
  // Access-log lines carry no kind marker: this kind takes every record no earlier kind recognised.
  recognises: () => true,
  normalise(record, context) {
    const result = ACCESS_LOG_SCHEMA.validate(record, context);
    return result.ok ? { ok: true, json: ACCESS_LOG_SCHEMA.serialise(result.row) } : result;
  },
  fastPath: {
    normalise: ACCESS_LOG_SCHEMA.normaliseCanonical,
    maxGrowthBytes: ACCESS_LOG_SCHEMA.maxCanonicalGrowth,
  },
};

/** Custom usage events posted to POST /usage (see `core/usage-events/usage-event-record.ts`). */
export const USAGE_EVENT_KIND: RecordKind = {
  name: 'usage-event',
  destinationEnvironment: { database: 'USAGE_EVENT_DATABASE', table: 'USAGE_EVENT_TABLE' },
  table: USAGE_EVENT_TABLE,
  recognises: (record) => record[USAGE_EVENT_MARKER.field] === USAGE_EVENT_MARKER.value,
  normalise: (record, context) => usageEventRow(record, context.maxEpochMillis),
};

/** Every registered kind, in recognition order; a catch-all kind must come last. */
export const RECORD_KINDS: readonly RecordKind[] = [USAGE_EVENT_KIND, ACCESS_LOG_KIND];

/** The first kind that recognises a parsed record, if any. */
export function kindOf(record: Readonly<Record<string, unknown>>, kinds: readonly RecordKind[] = RECORD_KINDS): RecordKind | undefined {
  return kinds.find((kind) => kind.recognises(record));
}

/** Where a kind's records are written: a Glue database and an Iceberg table in it. */
export interface Destination {
  readonly databaseName: string;
  readonly tableName: string;
}

/** The destination of every registered kind, by kind name. */
export type Routing = ReadonlyMap<string, Destination>;

/** The deployment is misconfigured; raised at cold start so that nothing is written anywhere wrong. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** Glue database and table names: letters, digits, `_` and `-`, 1–255 characters. */
const DESTINATION_NAME = /^[A-Za-z0-9_-]{1,255}$/;

/**
 * Reads the destination of every kind from the environment. Throws a {@link ConfigurationError} naming
 * every missing or malformed variable.
 */
export function routingFromEnvironment(
  environment: Readonly<Record<string, string | undefined>>,
  kinds: readonly RecordKind[] = RECORD_KINDS,
): Routing {
  const problems: string[] = [];
  const read = (variable: string): string => {
    const value = environment[variable];
    if (value === undefined || value === '') problems.push(`${variable} is not set`);
    else if (!DESTINATION_NAME.test(value)) problems.push(`${variable} is not a valid Glue name (letters, digits, _ and -, at most 255)`);
    return value ?? '';
  };
  const routing = new Map<string, Destination>();
  for (const kind of kinds) {
    routing.set(kind.name, {
      databaseName: read(kind.destinationEnvironment.database),
      tableName: read(kind.destinationEnvironment.table),
    });
  }
  if (problems.length > 0) {
    throw new ConfigurationError(`ingestion transform misconfigured: ${problems.join('; ')}`);
  }
  return routing;
}

/** Every kind routed to its own table of the lake in one database (local runs, benchmarks). */
export function routingInDatabase(databaseName: string, kinds: readonly RecordKind[] = RECORD_KINDS): Routing {
  return new Map(kinds.map((kind) => [kind.name, { databaseName, tableName: kind.table }]));
}
