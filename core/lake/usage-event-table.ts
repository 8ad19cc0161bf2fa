import type { TableColumn } from './access-log-table';

/** Name of the custom usage-event table in the usage database. */
export const USAGE_EVENT_TABLE = 'usage_events';

/**
 * Columns of the usage-event table, in order (`sql/ddl/usage_events.sql` declares the same; a test
 * checks it). One row per event copy Firehose delivered; queries de-duplicate by `event_id`.
 */
export const USAGE_EVENT_COLUMNS: readonly TableColumn[] = [
  /** The tenant billed: from the verified token, or named by an IAM-authorised backend. */
  { name: 'tenant_id', type: 'string' },
  /** The reporter's idempotency id: copies of one event share it. */
  { name: 'event_id', type: 'string' },
  { name: 'meter', type: 'string' },
  /**
   * The exact decimal quantity as text (at most 6 fraction digits; queries cast it to DECIMAL(38,6)).
   * Text, because a JSON number would be read through a double on its way into the table.
   */
  { name: 'quantity', type: 'string' },
  /** When the usage happened (the reporter's timestamp); the table is partitioned by its hour. */
  { name: 'event_time', type: 'timestamp' },
  /** When POST /usage received it: the first received copy of an event id wins. */
  { name: 'received_at', type: 'timestamp' },
  /** UNIQUE_COUNT meters: the value of the meter's property, as text. */
  { name: 'unique_value', type: 'string' },
  /** The event's properties as JSON text (null when none). */
  { name: 'properties', type: 'string' },
  /** `tenant` (a tenant's token) or `backend` (an IAM-authorised caller). */
  { name: 'source', type: 'string' },
];
