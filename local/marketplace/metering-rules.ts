/**
 * The pure rules of the AWS Marketplace Metering Service as the simulator enforces them: request
 * shape and constraints, identities, the timestamp window, usage allocations, hourly de-duplication
 * and the call-rate window. No I/O, no clock of its own: every function takes `now`.
 *
 * Sources (the AWS Marketplace Metering Service API reference and the seller guide):
 * the Smithy model the AWS SDK is generated from (aws/aws-sdk-js-v3,
 * codegen/sdk-codegen/aws-models/marketplace-metering.json) and the API reference
 * https://docs.aws.amazon.com/marketplacemetering/latest/APIReference/API_BatchMeterUsage.html
 */
import { AwsJsonError } from '../aws-json/aws-json-error';

/** BatchMeterUsage takes at most 25 usage records per call (model: UsageRecordList length 0..25). */
export const MAX_RECORDS_PER_CALL = 25;
/** Largest Quantity / AllocatedUsageQuantity (model: integer range 0..2,147,483,647). */
export const MAX_QUANTITY = 2_147_483_647;
/**
 * A request must be "less than 1 MB". Read conservatively as 1,000,000 bytes, so a request the
 * simulator accepts is accepted under either reading of "MB".
 */
export const MAX_REQUEST_BYTES = 1_000_000;
/** Model: UsageAllocations length 1..2500. */
export const MAX_ALLOCATIONS_PER_RECORD = 2500;
/** Model: TagList length 1..5 (InvalidTagException: "the number of tags is greater than 5"). */
export const MAX_TAGS_PER_ALLOCATION = 5;

export const HOUR_MS = 3_600_000;
/**
 * Records older than this are refused. the seller guide and the older API reference say 6 hours; the model
 * shipped with SDK 3.1138 says 24 hours plus a month-end cut-off (06:00 UTC on the 1st). The default
 * is the stricter 6 hours, so whatever passes here passes the service; pass 24 h to model the newer text.
 */
export const DEFAULT_MAX_RECORD_AGE_MS = 6 * HOUR_MS;
/**
 * How far in the future a timestamp may be. Not documented; the simulator allows 5 minutes of clock
 * skew between the seller's hosts and AWS, and refuses anything later (decision).
 */
export const DEFAULT_FUTURE_SKEW_MS = 5 * 60_000;
/** Month-end grace: records for the previous month are refused from 06:00 UTC on the 1st. */
export const MONTH_END_GRACE_MS = 6 * HOUR_MS;

/** Error codes the simulator answers with (the modelled exceptions plus the generic AWS ones). */
export type MeteringErrorCode =
  | 'ValidationException'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'MissingAuthenticationTokenException'
  | 'InvalidSignatureException'
  | 'ThrottlingException'
  | 'InternalServiceErrorException'
  | 'DisabledApiException'
  | 'InvalidProductCodeException'
  | 'InvalidUsageDimensionException'
  | 'InvalidCustomerIdentifierException'
  | 'InvalidLicenseException'
  | 'InvalidTagException'
  | 'InvalidUsageAllocationsException'
  | 'TimestampOutOfBoundsException'
  | 'InvalidTokenException'
  | 'ExpiredTokenException';

/** An error the service answers with: the whole call fails and nothing in it is billed. */
export class MeteringServiceError extends AwsJsonError {
  declare readonly code: MeteringErrorCode;

  /** `httpStatus`: 400 for client faults, 500 for InternalServiceErrorException. */
  constructor(code: MeteringErrorCode, message: string, httpStatus: number = code === 'InternalServiceErrorException' ? 500 : 400) {
    super(code, message, httpStatus);
    this.name = code;
  }
}

/** A tag as it travels on the wire. */
export interface WireTag {
  readonly Key: string;
  readonly Value: string;
}

/** A usage allocation as it travels on the wire. */
export interface WireUsageAllocation {
  readonly AllocatedUsageQuantity: number;
  readonly Tags?: readonly WireTag[];
}

/** A usage record as it travels on the wire (awsJson1_1: Timestamp in epoch seconds, may be fractional). */
export interface WireUsageRecord {
  readonly Timestamp: number;
  readonly Dimension: string;
  readonly Quantity?: number;
  readonly CustomerIdentifier?: string;
  readonly CustomerAWSAccountId?: string;
  readonly LicenseArn?: string;
  readonly UsageAllocations?: readonly WireUsageAllocation[];
}

/**
 * Who a record bills. `customerIdentifier` is the legacy identity; `license` (account + LicenseArn) is
 * the current one; `awsAccount` (account + the call's ProductCode) is the 2023 form still documented.
 */
export type RecordIdentity =
  | { readonly kind: 'customerIdentifier'; readonly customerIdentifier: string }
  | { readonly kind: 'awsAccount'; readonly customerAWSAccountId: string }
  | { readonly kind: 'license'; readonly customerAWSAccountId: string; readonly licenseArn: string };

/** A usage record after shape validation. */
export interface ParsedUsageRecord {
  /** The record as sent (known members only), echoed back in Results / UnprocessedRecords. */
  readonly wire: WireUsageRecord;
  readonly timestampMs: number;
  readonly dimension: string;
  /** Quantity, 0 when absent (model: "Defaults to 0"). */
  readonly quantity: number;
  readonly identity: RecordIdentity;
  readonly allocations?: readonly WireUsageAllocation[];
}

/** A BatchMeterUsage request after shape validation. */
export interface ParsedBatchRequest {
  /** Absent when not sent or sent as "" (the model's default). */
  readonly productCode?: string;
  readonly records: readonly ParsedUsageRecord[];
}

// Model patterns (marketplace-metering.json).
const PRODUCT_CODE = /^[-a-zA-Z0-9/=:_.@]*$/;
const ACCOUNT_ID = /^[0-9]+$/;
const LICENSE_ARN = /^arn:aws[a-zA-Z-]*:[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,1023}$/;
// ' -=' is the range space…'=' exactly as the model writes it.
const TAG_TEXT = /^[a-zA-Z0-9+ -=._:/@]+$/;

/** The generic AWS validation message: "1 validation error detected: Value '…' at '…' failed to satisfy constraint: …". */
function constraint(path: string, value: unknown, text: string): MeteringServiceError {
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  return new MeteringServiceError('ValidationException', `1 validation error detected: Value '${shown}' at '${path}' failed to satisfy constraint: ${text}`);
}

function missing(path: string): MeteringServiceError {
  return new MeteringServiceError('ValidationException', `1 validation error detected: Value null at '${path}' failed to satisfy constraint: Member must not be null`);
}

function wrongType(path: string, expected: string): MeteringServiceError {
  return new MeteringServiceError('SerializationException', `Expected ${expected} at '${path}'`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string member; "" counts as absent (the model gives CustomerIdentifier and ProductCode a "" default). */
function optionalString(source: Record<string, unknown>, name: string, path: string): string | undefined {
  const value = source[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw wrongType(`${path}.${lowerFirst(name)}`, 'a string');
  return value;
}

function optionalInteger(source: Record<string, unknown>, name: string, path: string): number | undefined {
  const value = source[name];
  if (value === undefined || value === null) return undefined;
  const at = `${path}.${lowerFirst(name)}`;
  // A JSON number that is not an integer cannot be read into the model's int: a serialization error.
  if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(at, 'an integer');
  if (value < 0) throw constraint(at, value, 'Member must have value greater than or equal to 0');
  if (value > MAX_QUANTITY) throw constraint(at, value, `Member must have value less than or equal to ${MAX_QUANTITY}`);
  return value;
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** Tags of one allocation: 1..5, each Key 1..100 and Value 1..256 of the model's characters, keys unique. */
function parseTags(value: unknown, path: string): WireTag[] {
  if (!Array.isArray(value)) throw wrongType(path, 'a list');
  if (value.length === 0 || value.length > MAX_TAGS_PER_ALLOCATION) {
    throw new MeteringServiceError('InvalidTagException', `An allocation must have 1 to ${MAX_TAGS_PER_ALLOCATION} tags; got ${value.length} at '${path}'`);
  }
  const keys = new Set<string>();
  return value.map((tag, i) => {
    const at = `${path}.${i + 1}.member`;
    if (!isObject(tag)) throw wrongType(at, 'a structure');
    const key = tag.Key;
    const text = tag.Value;
    if (typeof key !== 'string' || key.length < 1 || key.length > 100 || !TAG_TEXT.test(key)) {
      throw new MeteringServiceError('InvalidTagException', `Invalid tag key ${JSON.stringify(key)} at '${at}'`);
    }
    if (typeof text !== 'string' || text.length < 1 || text.length > 256 || !TAG_TEXT.test(text)) {
      throw new MeteringServiceError('InvalidTagException', `Invalid tag value ${JSON.stringify(text)} at '${at}'`);
    }
    if (keys.has(key)) throw new MeteringServiceError('InvalidTagException', `Tag key '${key}' repeated at '${path}'`);
    keys.add(key);
    return { Key: key, Value: text };
  });
}

/** Allocations of one record: 1..2500 of them, each with a quantity and a tag set no other allocation has. */
function parseAllocations(value: unknown, path: string): WireUsageAllocation[] {
  if (!Array.isArray(value)) throw wrongType(path, 'a list');
  if (value.length === 0 || value.length > MAX_ALLOCATIONS_PER_RECORD) {
    throw new MeteringServiceError('InvalidUsageAllocationsException', `A record must have 1 to ${MAX_ALLOCATIONS_PER_RECORD} usage allocations; got ${value.length} at '${path}'`);
  }
  const tagSets = new Set<string>();
  return value.map((allocation, i) => {
    const at = `${path}.${i + 1}.member`;
    if (!isObject(allocation)) throw wrongType(at, 'a structure');
    const quantity = optionalInteger(allocation, 'AllocatedUsageQuantity', at);
    if (quantity === undefined) throw missing(`${at}.allocatedUsageQuantity`);
    const tags = allocation.Tags === undefined || allocation.Tags === null ? undefined : parseTags(allocation.Tags, `${at}.tags`);
    const set = canonicalTagSet(tags);
    // MeterUsage's documentation: each allocation must have a unique set of tags (or none).
    if (tagSets.has(set)) throw new MeteringServiceError('InvalidUsageAllocationsException', `Two allocations share the tag set ${set || '(no tags)'} at '${path}'`);
    tagSets.add(set);
    return tags === undefined ? { AllocatedUsageQuantity: quantity } : { AllocatedUsageQuantity: quantity, Tags: tags };
  });
}

/**
 * The identity of a record. CustomerIdentifier and CustomerAWSAccountId are mutually exclusive (API
 * reference); LicenseArn goes with CustomerAWSAccountId. The service's error for a record with both is
 * not documented: the simulator answers ValidationException for every identity-shape violation (decision).
 */
function parseIdentity(customerIdentifier: string | undefined, account: string | undefined, licenseArn: string | undefined, path: string): RecordIdentity {
  if (customerIdentifier !== undefined && (account !== undefined || licenseArn !== undefined)) {
    throw new MeteringServiceError('ValidationException', `CustomerIdentifier and CustomerAWSAccountId/LicenseArn are mutually exclusive at '${path}'`);
  }
  if (customerIdentifier !== undefined) {
    if (customerIdentifier.length > 255) throw constraint(`${path}.customerIdentifier`, customerIdentifier, 'Member must have length less than or equal to 255');
    return { kind: 'customerIdentifier', customerIdentifier };
  }
  if (account === undefined) {
    if (licenseArn !== undefined) throw new MeteringServiceError('ValidationException', `LicenseArn requires CustomerAWSAccountId at '${path}'`);
    throw new MeteringServiceError('ValidationException', `A record needs CustomerIdentifier, or CustomerAWSAccountId (with LicenseArn) at '${path}'`);
  }
  if (account.length > 255 || !ACCOUNT_ID.test(account)) throw constraint(`${path}.customerAWSAccountId`, account, 'Member must satisfy regular expression pattern: ^[0-9]+$');
  if (licenseArn === undefined) return { kind: 'awsAccount', customerAWSAccountId: account };
  if (!LICENSE_ARN.test(licenseArn)) throw constraint(`${path}.licenseArn`, licenseArn, 'Member must satisfy the LicenseArn pattern');
  return { kind: 'license', customerAWSAccountId: account, licenseArn };
}

function parseRecord(value: unknown, index: number): ParsedUsageRecord {
  const path = `usageRecords.${index + 1}.member`;
  if (!isObject(value)) throw wrongType(path, 'a structure');
  const timestamp = value.Timestamp;
  if (timestamp === undefined || timestamp === null) throw missing(`${path}.timestamp`);
  // awsJson1_1 sends timestamps as epoch seconds (the SDK writes e.g. 1700000000.123).
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) throw wrongType(`${path}.timestamp`, 'epoch seconds');
  const dimension = value.Dimension;
  if (dimension === undefined || dimension === null) throw missing(`${path}.dimension`);
  if (typeof dimension !== 'string') throw wrongType(`${path}.dimension`, 'a string');
  if (dimension.length < 1 || dimension.length > 255) throw constraint(`${path}.dimension`, dimension, 'Member must have length between 1 and 255');
  const quantity = optionalInteger(value, 'Quantity', path);
  const customerIdentifier = optionalString(value, 'CustomerIdentifier', path);
  const account = optionalString(value, 'CustomerAWSAccountId', path);
  const licenseArn = optionalString(value, 'LicenseArn', path);
  const identity = parseIdentity(customerIdentifier, account, licenseArn, path);
  const allocations = value.UsageAllocations === undefined || value.UsageAllocations === null ? undefined : parseAllocations(value.UsageAllocations, `${path}.usageAllocations`);
  const wire: WireUsageRecord = {
    Timestamp: timestamp,
    Dimension: dimension,
    ...(quantity !== undefined ? { Quantity: quantity } : {}),
    ...(customerIdentifier !== undefined ? { CustomerIdentifier: customerIdentifier } : {}),
    ...(account !== undefined ? { CustomerAWSAccountId: account } : {}),
    ...(licenseArn !== undefined ? { LicenseArn: licenseArn } : {}),
    ...(allocations !== undefined ? { UsageAllocations: allocations } : {}),
  };
  return { wire, timestampMs: Math.round(timestamp * 1000), dimension, quantity: quantity ?? 0, identity, ...(allocations ? { allocations } : {}) };
}

/**
 * Validates the shape of a BatchMeterUsage request. More than 25 records is refused with the generic
 * ValidationException (the model's length constraint; the operation has no modelled error for it).
 */
export function parseBatchMeterUsageRequest(body: unknown): ParsedBatchRequest {
  if (!isObject(body)) throw wrongType('', 'a JSON object');
  const records = body.UsageRecords;
  if (records === undefined || records === null) throw missing('usageRecords');
  if (!Array.isArray(records)) throw wrongType('usageRecords', 'a list');
  if (records.length > MAX_RECORDS_PER_CALL) {
    throw constraint('usageRecords', `[${records.length} records]`, `Member must have length less than or equal to ${MAX_RECORDS_PER_CALL}`);
  }
  const productCode = optionalString(body, 'ProductCode', '');
  if (productCode !== undefined && (productCode.length > 255 || !PRODUCT_CODE.test(productCode))) {
    throw constraint('productCode', productCode, 'Member must satisfy regular expression pattern: ^[-a-zA-Z0-9/=:_.@]*$');
  }
  return { ...(productCode !== undefined ? { productCode } : {}), records: records.map(parseRecord) };
}

/** Validates a ResolveCustomer request and returns its registration token. */
export function parseResolveCustomerRequest(body: unknown): string {
  if (!isObject(body)) throw wrongType('', 'a JSON object');
  const token = body.RegistrationToken;
  if (token === undefined || token === null) throw missing('registrationToken');
  if (typeof token !== 'string') throw wrongType('registrationToken', 'a string');
  if (token.length === 0) throw constraint('registrationToken', token, 'Member must satisfy regular expression pattern: ^[\\s\\S]+$');
  return token;
}

/** Start of the UTC hour holding `ms`: the service de-duplicates on customer, dimension and this hour. */
export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** Start of the UTC month holding `ms`. */
export function monthStart(ms: number): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/** The timestamp window. */
export interface TimestampWindow {
  readonly maxRecordAgeMs: number;
  readonly futureSkewMs: number;
}

/**
 * Why a record's timestamp is out of bounds, or undefined when it is in range: not `maxRecordAgeMs`
 * or more in the past, not beyond `futureSkewMs` in the future, not in a month already closed (from
 * 06:00 UTC on the 1st), not before the customer's subscription started. One such record makes the
 * service refuse the whole call (TimestampOutOfBoundsException).
 */
export function timestampProblem(timestampMs: number, now: number, window: TimestampWindow, subscribedAt?: number): string | undefined {
  const iso = new Date(timestampMs).toISOString();
  if (now - timestampMs >= window.maxRecordAgeMs) return `${iso} is ${window.maxRecordAgeMs / HOUR_MS} hours or more in the past`;
  if (timestampMs - now > window.futureSkewMs) return `${iso} is in the future`;
  const thisMonth = monthStart(now);
  if (timestampMs < thisMonth && now >= thisMonth + MONTH_END_GRACE_MS) return `${iso} belongs to a billing month already closed`;
  if (subscribedAt !== undefined && timestampMs < subscribedAt) return `${iso} is before the customer's subscription started (${new Date(subscribedAt).toISOString()})`;
  return undefined;
}

/** Why a record's allocations are invalid (their quantities must add up exactly to its Quantity), or undefined. */
export function allocationProblem(record: Pick<ParsedUsageRecord, 'quantity' | 'allocations'>): string | undefined {
  if (record.allocations === undefined) return undefined;
  const sum = record.allocations.reduce((total, a) => total + a.AllocatedUsageQuantity, 0);
  return sum === record.quantity ? undefined : `allocated quantities add up to ${sum}, not the record's quantity ${record.quantity}`;
}

function canonicalTagSet(tags: readonly WireTag[] | undefined): string {
  return (tags ?? []).map((t) => `${t.Key}=${t.Value}`).sort().join('&');
}

/** A stable text of allocations, independent of the order of allocations and tags. */
export function canonicalAllocations(allocations: readonly WireUsageAllocation[] | undefined): string {
  if (allocations === undefined) return '';
  return allocations.map((a) => `${canonicalTagSet(a.Tags)}:${a.AllocatedUsageQuantity}`).sort().join('|');
}

/**
 * Whether a resent record is "identical" to the one already metered for its customer, dimension and
 * hour: same quantity and same allocations (timestamps within the hour may differ, as MeterUsage's
 * documentation says of the hour-rounded timestamp). Identical → Success with the first record's id and
 * nothing billed again; different → DuplicateRecord, and the first write stands.
 */
export function sameUsage(a: Pick<ParsedUsageRecord, 'quantity' | 'allocations'>, b: Pick<ParsedUsageRecord, 'quantity' | 'allocations'>): boolean {
  return a.quantity === b.quantity && canonicalAllocations(a.allocations) === canonicalAllocations(b.allocations);
}

/**
 * Calls allowed in any window of `windowMs` (BatchMeterUsage: about 10 per second per account and
 * Region, per the seller guide). Only admitted calls count; a refused call does not extend the wait.
 */
export class SlidingWindowLimiter {
  private readonly admitted: number[] = [];

  constructor(
    readonly maxCalls: number,
    readonly windowMs = 1000,
  ) {}

  /** Admits a call at `now` if fewer than `maxCalls` were admitted in (now − windowMs, now]. */
  tryAcquire(now: number): boolean {
    while (this.admitted.length > 0 && this.admitted[0] <= now - this.windowMs) this.admitted.shift();
    if (this.admitted.length >= this.maxCalls) return false;
    this.admitted.push(now);
    return true;
  }
}
