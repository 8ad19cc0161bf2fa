/**
 * Onboards the local run's sample tenants the way real buyers arrive, through the real code:
 *
 * 1. The buyer subscribes on AWS Marketplace (the simulator: a subscription and a registration token).
 * 2. Marketplace's EventBridge events reach the subscription intake (`processAgreementEvent`, the code
 *    of the `marketplace-agreement-events` function): "Purchase Agreement Created", then "License
 *    Updated", which creates the tenant with its licence identity.
 * 3. The buyer is redirected to the registration page with the token (the local registration server,
 *    the same handler and flow as the Lambda; ResolveCustomer against the simulator) and submits the
 *    form: the tenant becomes active and "New AWS Marketplace Subscriber" is published.
 * 4. The onboarding rule delivers that event to the `tenant-onboarding` logic (`parseOnboardingEvent`,
 *    `onboardFirstUser`), which creates the tenant's first user in the user directory.
 *
 * Every step's outcome is checked; a tenant that does not end active with a user is an error.
 */
import { CONTROL_PLANE_EVENT_SOURCE } from '../../adapters/eventbridge/eventbridge-event-publisher';
import type { DynamoDbTenantRegistry } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { deriveTenantId, type MarketplaceIdentity } from '../../core/marketplace/identity';
import { processAgreementEvent } from '../../core/marketplace/intake-eventbridge';
import type { IntakeLog } from '../../core/marketplace/intake-apply';
import { parseOnboardingEvent } from '../../core/marketplace/onboarding-event';
import { onboardFirstUser } from '../../core/marketplace/onboarding-user';
import { DETAIL_TYPES } from '../../core/marketplace/subscription-effects';
import type { MarketplaceSimulator } from '../marketplace/marketplace-simulator';
import type { InMemoryEventPublisher } from '../registration/in-memory-event-publisher';
import type { RegistrationServer } from '../registration/registration-server';
import type { LocalUser, LocalUserDirectory } from './local-user-directory';

/** A sample tenant as the run invents it. */
export interface SampleBuyer {
  readonly companyName: string;
  readonly contactPerson: string;
  readonly contactEmail: string;
  readonly contactPhone: string;
  readonly customerAWSAccountId: string;
  readonly licenseArn: string;
}

/** A tenant onboarded, with the user the run's traffic signs in as. */
export interface OnboardedTenant {
  readonly tenantId: string;
  readonly companyName: string;
  readonly identity: MarketplaceIdentity;
  readonly subscribedAt: number;
  readonly user: LocalUser;
}

const COMPANIES = ['Acme Corporation', 'Globex', 'Initech', 'Umbrella Analytics', 'Hooli', 'Stark Logistics', 'Wayne Data', 'Tyrell Systems', 'Cyberdyne Cloud', 'Soylent Labs', 'Vandelay Imports', 'Wonka Industries'];
const PEOPLE = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth', 'Margaret Hamilton', 'Ken Thompson', 'Frances Allen', 'John Backus', 'Radia Perlman', 'Tim Berners-Lee'];

/** The i-th sample buyer (deterministic; names repeat with a number beyond the lists). */
export function sampleBuyer(i: number): SampleBuyer {
  const round = Math.floor(i / COMPANIES.length);
  const suffix = round === 0 ? '' : ` ${round + 1}`;
  const person = PEOPLE[i % PEOPLE.length];
  const account = String(210000000000 + i);
  return {
    companyName: `${COMPANIES[i % COMPANIES.length]}${suffix}`,
    contactPerson: person,
    contactEmail: `${person.toLowerCase().replace(/[^a-z]+/g, '.')}${round === 0 ? '' : round + 1}@example.com`,
    contactPhone: `+44 20 7946 ${String(1000 + i).slice(-4)}`,
    customerAWSAccountId: account,
    licenseArn: `arn:aws:license-manager::294406891311:license:l-${account.padStart(32, '0')}`,
  };
}

export interface OnboardingDependencies {
  readonly simulator: MarketplaceSimulator;
  readonly registry: DynamoDbTenantRegistry;
  readonly publisher: InMemoryEventPublisher;
  readonly registration: RegistrationServer;
  readonly users: LocalUserDirectory;
  readonly log: IntakeLog;
  readonly productCode: string;
  readonly now: () => number;
  /** Advances the shared clock (the simulator throttles per second). */
  readonly advance: (ms: number) => void;
}

class OnboardingError extends Error {
  constructor(companyName: string, step: string, detail: string) {
    super(`onboarding ${companyName} failed at ${step}: ${detail}`);
    this.name = 'OnboardingError';
  }
}

function marketplaceEvent(id: string, detailType: string, at: number, buyer: SampleBuyer, productCode: string, agreementId: string): Record<string, unknown> {
  const detail: Record<string, unknown> = {
    requestId: `req-${id}`,
    catalog: 'AWSMarketplace',
    agreement: { id: agreementId, intent: 'NEW', status: 'ACTIVE' },
    product: { code: productCode, id: `prod-${productCode}` },
    acceptor: { accountId: buyer.customerAWSAccountId },
    proposer: { accountId: '444455556666' },
    offer: { id: 'offer-local-public' },
  };
  // Licence events carry the licence ARN (the seller guide prints it without its leading "arn:").
  if (detailType.startsWith('License')) detail.license = { arn: buyer.licenseArn.replace(/^arn:/, '') };
  return { version: '0', id, 'detail-type': detailType, source: 'aws.agreement-marketplace', account: '444455556666', time: new Date(at).toISOString(), region: 'us-east-1', resources: [], detail };
}

async function postForm(url: string, fields: Record<string, string>): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  return { status: response.status, body: await response.text() };
}

/** Onboards one buyer (steps in the module comment). */
export async function onboardTenant(deps: OnboardingDependencies, buyer: SampleBuyer, index: number): Promise<OnboardedTenant> {
  const { simulator, productCode } = deps;
  const subscribedAt = deps.now();
  const identity: MarketplaceIdentity = { kind: 'license', customerAWSAccountId: buyer.customerAWSAccountId, licenseArn: buyer.licenseArn, productCode };
  const token = `local-token-${index}-${buyer.customerAWSAccountId}`;
  simulator.subscribe({ productCode, customerAWSAccountId: buyer.customerAWSAccountId, licenseArn: buyer.licenseArn, subscribedAt });
  simulator.registerToken(token, { productCode, customerAWSAccountId: buyer.customerAWSAccountId, licenseArn: buyer.licenseArn, expiresAt: subscribedAt + 24 * 3_600_000 });

  const intake = { registry: deps.registry, publisher: deps.publisher, log: deps.log, now: deps.now };
  const agreementId = `agmt-local-${buyer.customerAWSAccountId}`;
  await processAgreementEvent(marketplaceEvent(`evt-created-${index}`, 'Purchase Agreement Created - Manufacturer', deps.now(), buyer, productCode, agreementId), intake);
  deps.advance(1000);
  const licensed = await processAgreementEvent(marketplaceEvent(`evt-license-${index}`, 'License Updated - Manufacturer', deps.now(), buyer, productCode, agreementId), intake);
  const tenantId = deriveTenantId(identity);
  if (licensed.tenantId !== tenantId) throw new OnboardingError(buyer.companyName, 'subscription intake', `expected tenant ${tenantId}, the licence event gave ${String(licensed.tenantId)}`);

  deps.advance(1000);
  const form = await postForm(deps.registration.registrationUrl, { 'x-amzn-marketplace-token': token });
  const session = /name="session" value="([^"]+)"/.exec(form.body)?.[1];
  if (form.status !== 200 || session === undefined) throw new OnboardingError(buyer.companyName, 'registration page', `HTTP ${form.status} without a form`);
  deps.advance(1000);
  const done = await postForm(deps.registration.registrationUrl, { session, companyName: buyer.companyName, contactPerson: buyer.contactPerson, contactEmail: buyer.contactEmail, contactPhone: buyer.contactPhone });
  if (done.status !== 200 || !done.body.includes(tenantId)) throw new OnboardingError(buyer.companyName, 'registration form', `HTTP ${done.status}`);

  const state = (await deps.registry.get(tenantId))?.tenant.state;
  if (state !== 'active') throw new OnboardingError(buyer.companyName, 'activation', `tenant ${tenantId} is ${String(state)}`);
  const published = deps.publisher.events().filter((e) => e.detailType === DETAIL_TYPES.newSubscriber && e.detail.tenantId === tenantId);
  if (published.length !== 1) throw new OnboardingError(buyer.companyName, 'publishing', `${published.length} "${DETAIL_TYPES.newSubscriber}" events for ${tenantId}`);
  // What EventBridge delivers to the onboarding rule's target.
  const delivered = { version: '0', id: `local-onboarding-${index}`, source: CONTROL_PLANE_EVENT_SOURCE, 'detail-type': published[0].detailType, detail: published[0].detail };
  const parsed = parseOnboardingEvent(delivered, CONTROL_PLANE_EVENT_SOURCE);
  if (!parsed.ok) throw new OnboardingError(buyer.companyName, 'onboarding event', parsed.reason);
  await onboardFirstUser(deps.users, parsed.user);
  const user = deps.users.usersOf(tenantId)[0];
  if (user === undefined) throw new OnboardingError(buyer.companyName, 'first user', 'no user was created');
  return { tenantId, companyName: buyer.companyName, identity, subscribedAt, user };
}
