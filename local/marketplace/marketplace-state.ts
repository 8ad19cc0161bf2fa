/**
 * What the simulated AWS Marketplace knows: products and their dimensions, subscriptions (legacy
 * CustomerIdentifier and current CustomerAWSAccountId + LicenseArn), registration tokens, and the
 * ledger of billed records (what AWS would charge: one entry per customer, dimension and hour).
 */
import type { WireUsageAllocation } from './metering-rules';

/** A SaaS product listing and its pricing dimensions. */
export interface ProductListing {
  readonly productCode: string;
  readonly dimensions: readonly string[];
}

/**
 * A subscription (agreement). Give `customerIdentifier` for the legacy identity, and/or
 * `customerAWSAccountId` (with `licenseArn` for the current, licence-level identity).
 */
export interface SubscriptionInput {
  readonly productCode: string;
  readonly customerIdentifier?: string;
  readonly customerAWSAccountId?: string;
  readonly licenseArn?: string;
  /** Epoch ms; usage timestamped before it is refused (TimestampOutOfBoundsException). */
  readonly subscribedAt: number;
}

/** A subscription as the simulator holds it. */
export interface Subscription extends SubscriptionInput {
  /** Epoch ms from which calls get CustomerNotSubscribed for it; absent while active. */
  readonly endsAt?: number;
}

/** Which subscription to end: by licence, or by product and customer identifier or account. */
export interface SubscriptionQuery {
  readonly productCode?: string;
  readonly customerIdentifier?: string;
  readonly customerAWSAccountId?: string;
  readonly licenseArn?: string;
}

/** What a registration token resolves to. */
export interface RegistrationTokenInput {
  readonly productCode: string;
  /** Legacy identity; left out for new integrations, as the service does. */
  readonly customerIdentifier?: string;
  readonly customerAWSAccountId: string;
  readonly licenseArn?: string;
  /** Epoch ms from which ResolveCustomer answers ExpiredTokenException. */
  readonly expiresAt: number;
}

/** One billed record: what AWS would charge. */
export interface LedgerEntry {
  readonly productCode: string;
  /**
   * Who is billed: `license:<arn>` for licence-level records, otherwise `customer:<identifier>` or
   * `account:<id>` of the subscription the record resolved to (product level).
   */
  readonly customerKey: string;
  readonly customerIdentifier?: string;
  readonly customerAWSAccountId?: string;
  readonly licenseArn?: string;
  readonly dimension: string;
  /** Start of the usage hour, epoch ms. */
  readonly hour: number;
  /** The record's own timestamp, epoch ms. */
  readonly timestamp: number;
  readonly quantity: number;
  readonly allocations?: readonly WireUsageAllocation[];
  readonly meteringRecordId: string;
  /** Simulator clock when the record was accepted. */
  readonly acceptedAt: number;
}

interface MutableSubscription extends SubscriptionInput {
  endsAt?: number;
}

/** Products, subscriptions, tokens and the ledger. */
export class MarketplaceState {
  private readonly products = new Map<string, ReadonlySet<string>>();
  private readonly subscriptions: MutableSubscription[] = [];
  private readonly tokens = new Map<string, RegistrationTokenInput>();
  private readonly billed = new Map<string, LedgerEntry>();

  addProduct(listing: ProductListing): void {
    if (listing.productCode.length === 0) throw new Error('productCode must not be empty');
    if (listing.dimensions.length === 0) throw new Error(`product ${listing.productCode} needs at least one dimension`);
    this.products.set(listing.productCode, new Set(listing.dimensions));
  }

  /** The product's dimensions, or undefined for an unknown product code. */
  dimensionsOf(productCode: string): ReadonlySet<string> | undefined {
    return this.products.get(productCode);
  }

  subscribe(input: SubscriptionInput): Subscription {
    if (!this.products.has(input.productCode)) throw new Error(`unknown product ${input.productCode}: addProduct first`);
    if (input.customerIdentifier === undefined && input.customerAWSAccountId === undefined) {
      throw new Error('a subscription needs customerIdentifier and/or customerAWSAccountId');
    }
    if (input.licenseArn !== undefined && input.customerAWSAccountId === undefined) throw new Error('licenseArn requires customerAWSAccountId');
    const subscription: MutableSubscription = { ...input };
    this.subscriptions.push(subscription);
    return { ...subscription };
  }

  /** Ends the latest matching subscription at `endsAt`; throws when none matches. */
  unsubscribe(query: SubscriptionQuery, endsAt: number): Subscription {
    if (Object.values(query).every((v) => v === undefined)) throw new Error('unsubscribe needs a licence, customer identifier or account');
    const found = this.latest((s) =>
      (query.licenseArn === undefined || s.licenseArn === query.licenseArn) &&
      (query.productCode === undefined || s.productCode === query.productCode) &&
      (query.customerIdentifier === undefined || s.customerIdentifier === query.customerIdentifier) &&
      (query.customerAWSAccountId === undefined || s.customerAWSAccountId === query.customerAWSAccountId));
    if (found === undefined) throw new Error(`no subscription matches ${JSON.stringify(query)}`);
    found.endsAt = endsAt;
    return { ...found };
  }

  /** The latest subscription of a legacy customer to a product. */
  byCustomerIdentifier(productCode: string, customerIdentifier: string): Subscription | undefined {
    return this.latest((s) => s.productCode === productCode && s.customerIdentifier === customerIdentifier);
  }

  /** The latest subscription of an AWS account to a product (product-level metering). */
  byAccount(productCode: string, customerAWSAccountId: string): Subscription | undefined {
    return this.latest((s) => s.productCode === productCode && s.customerAWSAccountId === customerAWSAccountId);
  }

  /** The subscription holding a licence. */
  byLicense(licenseArn: string): Subscription | undefined {
    return this.latest((s) => s.licenseArn === licenseArn);
  }

  registerToken(token: string, input: RegistrationTokenInput): void {
    if (!this.products.has(input.productCode)) throw new Error(`unknown product ${input.productCode}: addProduct first`);
    this.tokens.set(token, { ...input });
  }

  token(token: string): RegistrationTokenInput | undefined {
    return this.tokens.get(token);
  }

  /** The record already billed under a de-duplication key. */
  billedRecord(key: string): LedgerEntry | undefined {
    return this.billed.get(key);
  }

  bill(key: string, entry: LedgerEntry): void {
    if (this.billed.has(key)) throw new Error(`already billed: ${key}`);
    this.billed.set(key, entry);
  }

  /** Everything billed, in the order it was accepted. */
  ledger(): LedgerEntry[] {
    return [...this.billed.values()].map((entry) => ({ ...entry }));
  }

  private latest(match: (s: MutableSubscription) => boolean): MutableSubscription | undefined {
    for (let i = this.subscriptions.length - 1; i >= 0; i -= 1) if (match(this.subscriptions[i])) return this.subscriptions[i];
    return undefined;
  }
}

/** Whether a subscription still accepts usage at `now`. */
export function isActive(subscription: Subscription, now: number): boolean {
  return subscription.endsAt === undefined || now < subscription.endsAt;
}
