import type { CapacityOperation } from '../../core/cost/capacity-units';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { HourRecordPlan } from '../../core/usage/carry-forward';
import { hourKey, parseHourKey } from '../../core/usage/hours';
import type { Measurement } from '../../core/usage/request-dimensions';
import { PlanOutdatedError, type RecordOutcome, type SeriesKey, type StoredUsageHour, type UsageStore } from '../../core/usage/usage-store';
import { isConditionFailure } from './condition-failure';

/** Name of the sparse index of unsent usage hours (hash key `pendingHour`, range key `pk`). */
export const PENDING_INDEX = 'pending-by-hour';

/**
 * Item layout of the usage table (hash key `pk`, range key `sk`):
 * - usage hour: `SERIES#<tenant, URI-encoded>#<dimension>` / `HOUR#<yyyy-mm-ddThh>`, with `measured`,
 *   `asOf` (start of the run that measured it), `computedAt`, `pendingHour` while unsent, and once
 *   sent `sentAt`, `sentQuantity`, `sentMeasured`, `carriedIn` (`[{ fromHour, amount }]`: late changes
 *   of earlier hours this record carried; what an hour has carried out is derived from these);
 *   between planning and confirmation the record waits as `pendingQuantity`, `pendingMeasured`,
 *   `pendingCarriedIn`, `pendingAt`;
 * - carry marker: `SERIES#…` / `CARRY`, with `changes` (a counter), written before any change to an
 *   already-sent hour (and before closing an unsendable one), removed once no carry is outstanding;
 * - hour completely aggregated: `HOUR#<yyyy-mm-ddThh>` / `AGGREGATED`, with `asOf`, `series`;
 * - aggregation cursor: `AGGREGATION` / `CURSOR`, with `lastCompleteHour`.
 */
export function seriesPk(series: SeriesKey): string {
  return `SERIES#${encodeURIComponent(series.tenantId)}#${series.dimension}`;
}

const hourSk = (hour: number) => `HOUR#${hourKey(hour)}`;

interface UsageHourItem {
  pk: string;
  sk: string;
  tenantId: string;
  dimension: string;
  hour: string;
  measured: number;
  asOf: number;
  sentAt?: number;
  sentQuantity?: number;
  sentMeasured?: number;
  carriedIn?: { fromHour: string; amount: number }[];
  pendingQuantity?: number;
  pendingMeasured?: number;
  pendingCarriedIn?: { fromHour: string; amount: number }[];
}

const toCarried = (list: { fromHour: string; amount: number }[] | undefined) => (list ?? []).map((c) => ({ fromHour: parseHourKey(c.fromHour), amount: c.amount }));
const fromCarried = (list: HourRecordPlan['carriedIn']) => list.map((c) => ({ fromHour: hourKey(c.fromHour), amount: c.amount }));

function toStoredHour(item: UsageHourItem): StoredUsageHour {
  return {
    tenantId: item.tenantId,
    dimension: item.dimension,
    hour: parseHourKey(item.hour),
    measured: item.measured,
    sent: item.sentAt === undefined ? undefined : { quantity: item.sentQuantity ?? 0, measured: item.sentMeasured ?? 0, carriedIn: toCarried(item.carriedIn) },
    pending: item.sentAt !== undefined || item.pendingQuantity === undefined ? undefined : { quantity: item.pendingQuantity, measured: item.pendingMeasured ?? 0, carriedIn: toCarried(item.pendingCarriedIn) },
  };
}

/**
 * Told of every read and write the store does for one tenant's items, as tenant cost
 * allocation counts them (`core/cost/capacity-units.ts`: a write is 1 unit, a strongly consistent
 * read 1, an eventually consistent read 0.5); the functions publish the sums as tenant metrics.
 */
export type CapacityObserver = (tenantId: string, operation: CapacityOperation, items: number) => void;

/** The usage store on DynamoDB (or any DynamoDB-compatible endpoint). */
export class DynamoDbUsageStore implements UsageStore {
  private readonly documents: DynamoDBDocumentClient;
  private readonly onCapacity: CapacityObserver;

  constructor(client: DynamoDBClient, private readonly tableName: string, options: { readonly onCapacity?: CapacityObserver } = {}) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.onCapacity = options.onCapacity ?? (() => undefined);
  }

  /** Counts a request on a tenant's items (a failed conditional write consumes capacity too, so it is counted before). */
  private count(tenantId: string, operation: CapacityOperation, items = 1): void {
    if (items > 0) this.onCapacity(tenantId, operation, items);
  }

  async recordMeasurement(m: Measurement, asOf: number, computedAt: number): Promise<RecordOutcome> {
    const key = { pk: seriesPk(m), sk: hourSk(m.hour) };
    const values = { ':q': m.quantity, ':asOf': asOf, ':now': computedAt, ':t': m.tenantId, ':d': m.dimension, ':h': hourKey(m.hour) };
    this.count(m.tenantId, 'write');
    try {
      // Not sent yet: record it and keep it in the pending index.
      const result = await this.documents.send(new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET measured = :q, asOf = :asOf, computedAt = :now, tenantId = :t, dimension = :d, #hour = :h, pendingHour = :h',
        ConditionExpression: 'attribute_not_exists(sentAt) AND (attribute_not_exists(measured) OR (measured <> :q AND asOf < :asOf))',
        ExpressionAttributeNames: { '#hour': 'hour' },
        ExpressionAttributeValues: values,
        ReturnValues: 'UPDATED_OLD',
      }));
      return result.Attributes?.measured === undefined ? 'created' : 'updated';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    this.count(m.tenantId, 'strongly-consistent-read');
    const current = (await this.documents.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))).Item as UsageHourItem | undefined;
    if (current === undefined) throw new Error(`usage hour ${key.pk} ${key.sk} vanished during a conditional write`);
    if (current.measured === m.quantity) return 'unchanged';
    if (current.asOf >= asOf) return 'stale';
    if (current.sentAt === undefined) throw new Error(`usage hour ${key.pk} ${key.sk} changed during a conditional write; retry`);
    // Already sent: keep the latest truth; the difference is carried into the next record sent. The
    // marker goes first, so that a crash in between can only leave a marker with nothing to carry.
    await this.markCarry(m);
    this.count(m.tenantId, 'write');
    try {
      await this.documents.send(new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET measured = :q, asOf = :asOf, computedAt = :now',
        ConditionExpression: 'attribute_exists(sentAt) AND measured <> :q AND asOf < :asOf',
        ExpressionAttributeValues: { ':q': m.quantity, ':asOf': asOf, ':now': computedAt },
      }));
      return 'updated';
    } catch (error) {
      if (isConditionFailure(error)) return 'stale';
      throw error;
    }
  }

  async markHourAggregated(hour: number, asOf: number, series: number): Promise<void> {
    try {
      await this.documents.send(new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: hourSk(hour), sk: 'AGGREGATED' },
        UpdateExpression: 'SET asOf = :asOf, series = :n',
        ConditionExpression: 'attribute_not_exists(asOf) OR asOf <= :asOf',
        ExpressionAttributeValues: { ':asOf': asOf, ':n': series },
      }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // a later-started run already marked it
    }
  }

  async hourAggregatedAsOf(hour: number): Promise<number | undefined> {
    const result = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk: hourSk(hour), sk: 'AGGREGATED' }, ConsistentRead: true }));
    return result.Item?.asOf as number | undefined;
  }

  async lastCompleteHour(): Promise<number | undefined> {
    const result = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk: 'AGGREGATION', sk: 'CURSOR' }, ConsistentRead: true }));
    const key = result.Item?.lastCompleteHour as string | undefined;
    return key === undefined ? undefined : parseHourKey(key);
  }

  async initializeLastCompleteHour(hour: number): Promise<void> {
    try {
      await this.documents.send(new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: 'AGGREGATION', sk: 'CURSOR' },
        UpdateExpression: 'SET lastCompleteHour = :h',
        ConditionExpression: 'attribute_not_exists(lastCompleteHour)',
        ExpressionAttributeValues: { ':h': hourKey(hour) },
      }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // already started
    }
  }

  async advanceLastCompleteHour(hour: number): Promise<void> {
    try {
      await this.documents.send(new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: 'AGGREGATION', sk: 'CURSOR' },
        UpdateExpression: 'SET lastCompleteHour = :h',
        ConditionExpression: 'attribute_not_exists(lastCompleteHour) OR lastCompleteHour < :h',
        ExpressionAttributeValues: { ':h': hourKey(hour) },
      }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // never moves back
    }
  }

  async readSeries(series: SeriesKey): Promise<StoredUsageHour[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :hour)',
      ExpressionAttributeValues: { ':pk': seriesPk(series), ':hour': 'HOUR#' },
      ConsistentRead: true,
    });
    this.count(series.tenantId, 'strongly-consistent-read', items.length);
    return items.map(toStoredHour);
  }

  async unsentHours(hour: number): Promise<StoredUsageHour[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: PENDING_INDEX,
      KeyConditionExpression: 'pendingHour = :h',
      ExpressionAttributeValues: { ':h': hourKey(hour) },
    });
    // An index query reads eventually consistently; each item is one tenant's.
    for (const item of items) this.count(item.tenantId, 'eventually-consistent-read');
    return items.map(toStoredHour);
  }

  async recordPendingSend(series: SeriesKey, plan: HourRecordPlan, at: number): Promise<HourRecordPlan> {
    const key = { pk: seriesPk(series), sk: hourSk(plan.hour) };
    this.count(series.tenantId, 'write');
    try {
      await this.documents.send(new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET pendingQuantity = :q, pendingMeasured = :m, pendingCarriedIn = :carried, pendingAt = :at',
        ConditionExpression: 'attribute_not_exists(sentAt) AND attribute_not_exists(pendingQuantity) AND measured = :m',
        ExpressionAttributeValues: { ':q': plan.quantity, ':m': plan.measured, ':carried': fromCarried(plan.carriedIn), ':at': at },
      }));
      return plan;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    this.count(series.tenantId, 'strongly-consistent-read');
    const item = (await this.documents.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))).Item as UsageHourItem | undefined;
    const stored = item && toStoredHour(item);
    if (stored?.pending) return { hour: plan.hour, measured: stored.pending.measured, carriedIn: stored.pending.carriedIn, quantity: stored.pending.quantity };
    if (stored?.sent) throw new PlanOutdatedError(`usage hour ${key.pk} ${key.sk} was already sent`);
    throw new PlanOutdatedError(`usage hour ${key.pk} ${key.sk} was re-measured after the record was planned; plan it again`);
  }

  async markSent(series: SeriesKey, plan: HourRecordPlan, sentAt: number): Promise<void> {
    // One conditional write: exactly the pending record becomes the sent one.
    this.count(series.tenantId, 'write');
    await this.documents.send(new UpdateCommand({
      TableName: this.tableName,
      Key: { pk: seriesPk(series), sk: hourSk(plan.hour) },
      UpdateExpression: 'SET sentAt = :at, sentQuantity = :q, sentMeasured = :m, carriedIn = :carried REMOVE pendingHour, pendingQuantity, pendingMeasured, pendingCarriedIn, pendingAt',
      ConditionExpression: 'attribute_not_exists(sentAt) AND pendingQuantity = :q AND pendingMeasured = :m',
      ExpressionAttributeValues: { ':at': sentAt, ':q': plan.quantity, ':m': plan.measured, ':carried': fromCarried(plan.carriedIn) },
    }));
  }

  async clearPending(series: SeriesKey, plan: HourRecordPlan): Promise<void> {
    this.count(series.tenantId, 'write');
    try {
      await this.documents.send(new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: seriesPk(series), sk: hourSk(plan.hour) },
        UpdateExpression: 'REMOVE pendingQuantity, pendingMeasured, pendingCarriedIn, pendingAt',
        ConditionExpression: 'attribute_not_exists(sentAt) AND pendingQuantity = :q',
        ExpressionAttributeValues: { ':q': plan.quantity },
      }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // already sent or cleared by another run
    }
  }

  async closeUnsendable(series: SeriesKey, hour: number, at: number): Promise<void> {
    const key = { pk: seriesPk(series), sk: hourSk(hour) };
    this.count(series.tenantId, 'strongly-consistent-read');
    const item = (await this.documents.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))).Item as UsageHourItem | undefined;
    if (item === undefined || item.sentAt !== undefined) return;
    await this.markCarry(series);
    const pending = item.pendingQuantity !== undefined;
    this.count(series.tenantId, 'write');
    await this.documents.send(new UpdateCommand({
      TableName: this.tableName,
      Key: key,
      UpdateExpression: 'SET sentAt = :at, sentQuantity = :q, sentMeasured = :m, carriedIn = :carried, closedUnsent = :true REMOVE pendingHour, pendingQuantity, pendingMeasured, pendingCarriedIn, pendingAt',
      ConditionExpression: pending ? 'attribute_not_exists(sentAt) AND pendingQuantity = :q' : 'attribute_not_exists(sentAt) AND attribute_not_exists(pendingQuantity)',
      ExpressionAttributeValues: {
        ':at': at,
        ':q': pending ? item.pendingQuantity : 0,
        ':m': pending ? item.pendingMeasured : 0,
        ':carried': pending ? item.pendingCarriedIn : [],
        ':true': true,
      },
    }));
  }

  async readUsageHour(series: SeriesKey, hour: number): Promise<StoredUsageHour | undefined> {
    this.count(series.tenantId, 'strongly-consistent-read');
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk: seriesPk(series), sk: hourSk(hour) }, ConsistentRead: true }));
    return Item === undefined ? undefined : toStoredHour(Item as UsageHourItem);
  }

  async carryMarker(series: SeriesKey): Promise<number | undefined> {
    this.count(series.tenantId, 'strongly-consistent-read');
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk: seriesPk(series), sk: 'CARRY' }, ConsistentRead: true }));
    return Item?.changes as number | undefined;
  }

  async clearCarryMarker(series: SeriesKey, counter: number): Promise<void> {
    this.count(series.tenantId, 'write');
    try {
      await this.documents.send(new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: seriesPk(series), sk: 'CARRY' },
        ConditionExpression: 'changes = :n',
        ExpressionAttributeValues: { ':n': counter },
      }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // a new change arrived: the marker stays
    }
  }

  private async markCarry(series: SeriesKey): Promise<void> {
    this.count(series.tenantId, 'write');
    await this.documents.send(new UpdateCommand({
      TableName: this.tableName,
      Key: { pk: seriesPk(series), sk: 'CARRY' },
      UpdateExpression: 'ADD changes :one',
      ExpressionAttributeValues: { ':one': 1 },
    }));
  }

  private async queryAll(input: QueryCommandInput): Promise<UsageHourItem[]> {
    const items: UsageHourItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      items.push(...((page.Items ?? []) as UsageHourItem[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }
}
