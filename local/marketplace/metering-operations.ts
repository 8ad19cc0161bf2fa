/**
 * BatchMeterUsage and ResolveCustomer as the simulated service performs them: the rules of
 * metering-rules.ts applied to the products, subscriptions, tokens and ledger of marketplace-state.ts.
 * Input is the parsed JSON body; output is the JSON body of the answer, or a MeteringServiceError.
 * See the AWS Marketplace Metering Service API reference (BatchMeterUsage).
 */
import { isActive, type LedgerEntry, type MarketplaceState, type Subscription } from './marketplace-state';
import {
  allocationProblem,
  hourStart,
  MeteringServiceError,
  parseBatchMeterUsageRequest,
  parseResolveCustomerRequest,
  sameUsage,
  timestampProblem,
  type ParsedBatchRequest,
  type ParsedUsageRecord,
  type RecordIdentity,
  type TimestampWindow,
  type WireUsageRecord,
} from './metering-rules';

/** Per-record statuses of BatchMeterUsage. */
export type UsageRecordStatus = 'Success' | 'CustomerNotSubscribed' | 'DuplicateRecord';

/** One entry of `Results`. */
export interface WireUsageRecordResult {
  readonly UsageRecord: WireUsageRecord;
  /** Present for Success (the id of the first write for an identical resend). */
  readonly MeteringRecordId?: string;
  readonly Status: UsageRecordStatus;
}

/** The body of a BatchMeterUsage answer. */
export interface BatchMeterUsageOutput {
  readonly Results: WireUsageRecordResult[];
  readonly UnprocessedRecords: WireUsageRecord[];
}

/** The body of a ResolveCustomer answer. */
export interface ResolveCustomerOutput {
  readonly CustomerIdentifier?: string;
  readonly CustomerAWSAccountId: string;
  readonly LicenseArn?: string;
  readonly ProductCode: string;
}

/** How the simulated service behaves where the documentation leaves room. */
export interface MeteringPolicy extends TimestampWindow {
  /**
   * A CustomerIdentifier never subscribed to the product: the record gets CustomerNotSubscribed (the
   * documented per-record status, whose causes include an invalid identifier; default), or the whole
   * call fails with InvalidCustomerIdentifierException (also documented for BatchMeterUsage).
   */
  readonly unknownCustomer: 'CustomerNotSubscribed' | 'InvalidCustomerIdentifierException';
  /**
   * Resolving a token again: `allow` (default; replay protection is the seller's job), or `expire`
   * (ExpiredTokenException — its documentation names a resubmitted token as one cause).
   */
  readonly tokenReuse: 'allow' | 'expire';
}

/** What a BatchMeterUsage call needs besides the request. */
export interface BatchContext {
  readonly now: number;
  readonly policy: MeteringPolicy;
  /** Fault injection: records to answer as UnprocessedRecords (not billed). */
  readonly isUnprocessed: (record: WireUsageRecord) => boolean;
  readonly newRecordId: () => string;
}

/**
 * BatchMeterUsage. Call-level checks first — any failure refuses the whole call and bills nothing:
 * shape (ValidationException …), product (InvalidProductCodeException, one product per call), licences
 * (InvalidLicenseException), dimensions (InvalidUsageDimensionException), timestamps
 * (TimestampOutOfBoundsException), allocations (InvalidUsageAllocationsException). Then each record:
 * CustomerNotSubscribed, DuplicateRecord (same customer, dimension and hour, different usage: the first
 * write wins), Success (new, billed; or an identical resend: same MeteringRecordId, not billed again).
 */
export function batchMeterUsage(state: MarketplaceState, body: unknown, context: BatchContext): BatchMeterUsageOutput {
  const request = parseBatchMeterUsageRequest(body);
  if (request.records.length === 0) return { Results: [], UnprocessedRecords: [] };
  const productCode = resolveProduct(state, request);
  const subscriptions = request.records.map((record) => subscriptionOf(state, productCode, record.identity));
  checkCustomers(request.records, subscriptions, context.policy);
  checkDimensions(state, productCode, request.records);
  checkTimestamps(request.records, subscriptions, context);
  for (const record of request.records) {
    const problem = allocationProblem(record);
    if (problem !== undefined) throw new MeteringServiceError('InvalidUsageAllocationsException', `Invalid usage allocations for ${record.dimension}: ${problem}`);
  }

  const results: WireUsageRecordResult[] = [];
  const unprocessed: WireUsageRecord[] = [];
  request.records.forEach((record, i) => {
    if (context.isUnprocessed(record.wire)) {
      unprocessed.push(record.wire);
      return;
    }
    const subscription = subscriptions[i];
    if (subscription === undefined || !isActive(subscription, context.now)) {
      results.push({ UsageRecord: record.wire, Status: 'CustomerNotSubscribed' });
      return;
    }
    results.push(meter(state, productCode, record, subscription, context));
  });
  return { Results: results, UnprocessedRecords: unprocessed };
}

/**
 * The product of the call. Records identified by CustomerIdentifier or by account alone need the
 * request's ProductCode; a LicenseArn names its own product (new integrations leave ProductCode out).
 * Every record must belong to one product, else InvalidProductCodeException (decision: the service's
 * error for a mixed call is not documented).
 */
function resolveProduct(state: MarketplaceState, request: ParsedBatchRequest): string {
  let productCode = request.productCode;
  if (productCode !== undefined && state.dimensionsOf(productCode) === undefined) {
    throw new MeteringServiceError('InvalidProductCodeException', `Product code ${productCode} does not match a published product`);
  }
  for (const record of request.records) {
    const identity = record.identity;
    if (identity.kind !== 'license') {
      if (request.productCode === undefined) {
        throw new MeteringServiceError('InvalidProductCodeException', 'ProductCode is required for records identified by CustomerIdentifier or by CustomerAWSAccountId without LicenseArn');
      }
      continue;
    }
    const licence = state.byLicense(identity.licenseArn);
    if (licence === undefined) throw new MeteringServiceError('InvalidLicenseException', `License ${identity.licenseArn} does not exist`);
    if (licence.customerAWSAccountId !== identity.customerAWSAccountId) {
      throw new MeteringServiceError('InvalidLicenseException', `License ${identity.licenseArn} is not granted to account ${identity.customerAWSAccountId}`);
    }
    if (productCode === undefined) productCode = licence.productCode;
    else if (licence.productCode !== productCode) {
      throw new MeteringServiceError('InvalidProductCodeException', `One product per call: license ${identity.licenseArn} is for ${licence.productCode}, the call is for ${productCode}`);
    }
  }
  if (productCode === undefined) throw new MeteringServiceError('InvalidProductCodeException', 'The call names no product');
  return productCode;
}

function subscriptionOf(state: MarketplaceState, productCode: string, identity: RecordIdentity): Subscription | undefined {
  switch (identity.kind) {
    case 'customerIdentifier':
      return state.byCustomerIdentifier(productCode, identity.customerIdentifier);
    case 'awsAccount':
      return state.byAccount(productCode, identity.customerAWSAccountId);
    case 'license':
      return state.byLicense(identity.licenseArn);
  }
}

function checkCustomers(records: readonly ParsedUsageRecord[], subscriptions: readonly (Subscription | undefined)[], policy: MeteringPolicy): void {
  if (policy.unknownCustomer !== 'InvalidCustomerIdentifierException') return;
  records.forEach((record, i) => {
    if (subscriptions[i] === undefined && record.identity.kind === 'customerIdentifier') {
      throw new MeteringServiceError('InvalidCustomerIdentifierException', `Customer identifier ${record.identity.customerIdentifier} does not exist`);
    }
  });
}

/** One dimension the listing does not have refuses the whole call (the API reference). */
function checkDimensions(state: MarketplaceState, productCode: string, records: readonly ParsedUsageRecord[]): void {
  const dimensions = state.dimensionsOf(productCode) ?? new Set<string>();
  for (const record of records) {
    if (!dimensions.has(record.dimension)) {
      throw new MeteringServiceError('InvalidUsageDimensionException', `Dimension ${record.dimension} is not a dimension of product ${productCode}`);
    }
  }
}

/** One out-of-range timestamp refuses the whole call (API reference of TimestampOutOfBoundsException). */
function checkTimestamps(records: readonly ParsedUsageRecord[], subscriptions: readonly (Subscription | undefined)[], context: BatchContext): void {
  records.forEach((record, i) => {
    const problem = timestampProblem(record.timestampMs, context.now, context.policy, subscriptions[i]?.subscribedAt);
    if (problem !== undefined) throw new MeteringServiceError('TimestampOutOfBoundsException', `Timestamp out of bounds: ${problem}`);
  });
}

/**
 * Who is billed. A licence-level record (LicenseArn) is keyed by its licence; a product-level record
 * (ProductCode with CustomerIdentifier or account) by the subscription it resolved to. The keys differ
 * on purpose: AWS warns that metering one customer and hour both ways bills it twice.
 */
function customerKey(subscription: Subscription, identity: RecordIdentity): string {
  if (identity.kind === 'license') return `license:${identity.licenseArn}`;
  return subscription.customerIdentifier !== undefined ? `customer:${subscription.customerIdentifier}` : `account:${subscription.customerAWSAccountId}`;
}

function meter(state: MarketplaceState, productCode: string, record: ParsedUsageRecord, subscription: Subscription, context: BatchContext): WireUsageRecordResult {
  const customer = customerKey(subscription, record.identity);
  const hour = hourStart(record.timestampMs);
  const key = [productCode, customer, record.dimension, hour].join('\u0000');
  const existing = state.billedRecord(key);
  if (existing !== undefined) {
    if (sameUsage(existing, record)) return { UsageRecord: record.wire, MeteringRecordId: existing.meteringRecordId, Status: 'Success' };
    return { UsageRecord: record.wire, Status: 'DuplicateRecord' };
  }
  const entry: LedgerEntry = {
    productCode,
    customerKey: customer,
    ...(subscription.customerIdentifier !== undefined ? { customerIdentifier: subscription.customerIdentifier } : {}),
    ...(subscription.customerAWSAccountId !== undefined ? { customerAWSAccountId: subscription.customerAWSAccountId } : {}),
    ...(record.identity.kind === 'license' ? { licenseArn: record.identity.licenseArn } : {}),
    dimension: record.dimension,
    hour,
    timestamp: record.timestampMs,
    quantity: record.quantity,
    ...(record.allocations !== undefined ? { allocations: record.allocations } : {}),
    meteringRecordId: context.newRecordId(),
    acceptedAt: context.now,
  };
  state.bill(key, entry);
  return { UsageRecord: record.wire, MeteringRecordId: entry.meteringRecordId, Status: 'Success' };
}

/**
 * ResolveCustomer: a registered, unexpired token → the customer's identities and product; unknown →
 * InvalidTokenException; expired → ExpiredTokenException. CustomerIdentifier is returned only when the
 * token has one (new integrations get none).
 */
export function resolveCustomer(state: MarketplaceState, body: unknown, now: number, policy: MeteringPolicy, resolvedBefore: Set<string>): ResolveCustomerOutput {
  const token = parseResolveCustomerRequest(body);
  const found = state.token(token);
  if (found === undefined) throw new MeteringServiceError('InvalidTokenException', 'Registration token is invalid');
  if (now >= found.expiresAt) throw new MeteringServiceError('ExpiredTokenException', 'Registration token has expired');
  if (policy.tokenReuse === 'expire' && resolvedBefore.has(token)) throw new MeteringServiceError('ExpiredTokenException', 'Registration token was already resolved');
  resolvedBefore.add(token);
  return {
    ...(found.customerIdentifier !== undefined ? { CustomerIdentifier: found.customerIdentifier } : {}),
    CustomerAWSAccountId: found.customerAWSAccountId,
    ...(found.licenseArn !== undefined ? { LicenseArn: found.licenseArn } : {}),
    ProductCode: found.productCode,
  };
}
