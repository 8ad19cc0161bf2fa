/**
 * Parsing of AWS Marketplace notifications: the legacy SNS topics (enveloped and raw delivery) and the
 * EventBridge agreement and licence events. Fixtures follow the documented payload shapes
 * (https://docs.aws.amazon.com/marketplace/latest/userguide/saas-notification.html,
 * https://docs.aws.amazon.com/marketplace/latest/userguide/notifications-eventbridge.html,
 * https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html) with values of our own.
 */
import { MAX_BODY_CHARS, MAX_MESSAGE_CHARS, parseEventBridgeEvent, parseSqsMessage, type ParsedNotification, type UnrecognisedNotification } from '../../../core/marketplace/notification-parsers';
import type { SubscriptionEvent } from '../../../core/marketplace/subscription-event';

const PRODUCT = 'a1b2c3d4e5f6g7h8i9j0k1l2m';
const CUSTOMER = 'QxU3mZk8pWd';
const SUBSCRIPTION_TOPIC = `arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-${PRODUCT}`;
const ENTITLEMENT_TOPIC = `arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-${PRODUCT}`;
const BUYER = '111122223333';
const SELLER = '444455556666';
const AGREEMENT = 'agmt-7c2xq9example0001';
const LICENSE_ARN = 'arn:aws:license-manager::111122223333:license:l-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const TIMESTAMP = '2025-06-01T12:00:00.123Z';

function legacyMessage(action: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { action, 'customer-identifier': CUSTOMER, 'product-code': PRODUCT, ...extra };
}

function snsEnvelope(message: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Type: 'Notification',
    MessageId: '5f0b4c1e-8d2a-5b7c-9e3f-0a1b2c3d4e5f',
    TopicArn: SUBSCRIPTION_TOPIC,
    Message: typeof message === 'string' ? message : JSON.stringify(message),
    Timestamp: TIMESTAMP,
    SignatureVersion: '1',
    Signature: 'c2lnbmF0dXJl',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem',
    UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
    ...overrides,
  };
}

function sqs(body: unknown, extra: Record<string, unknown> = {}) {
  return { body: typeof body === 'string' ? body : JSON.stringify(body), ...extra };
}

function agreementEvent(detailType: string, agreement: Record<string, unknown> = {}, detail: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: '9a8b7c6d-1111-2222-3333-444455556666',
    'detail-type': detailType,
    source: 'aws.agreement-marketplace',
    account: SELLER,
    time: '2025-06-01T12:00:05Z',
    region: 'us-east-1',
    resources: [`arn:aws:aws-marketplace::aws:agreement:${AGREEMENT}`],
    detail: {
      requestId: '0c1d2e3f-aaaa-bbbb-cccc-ddddeeeeffff',
      catalog: 'AWSMarketplace',
      agreement: { id: AGREEMENT, intent: 'NEW', status: 'ACTIVE', acceptanceTime: '2025-06-01T11:59:00Z', startTime: '2025-06-01T12:00:00Z', endTime: '2026-06-01T12:00:00Z', ...agreement },
      resaleAuthorization: null,
      acceptor: { accountId: BUYER },
      proposer: { accountId: SELLER },
      offer: { id: 'offer-3kq7example2y' },
      ...detail,
    },
  };
}

function licenseEvent(detailType: string, detail: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: '1f2e3d4c-5555-6666-7777-888899990000',
    'detail-type': detailType,
    source: 'aws.agreement-marketplace',
    account: SELLER,
    time: '2025-06-01T12:00:07Z',
    region: 'us-east-1',
    resources: [`arn:aws:aws-marketplace::aws:agreement:${AGREEMENT}`],
    detail: {
      requestId: '7a6b5c4d-aaaa-bbbb-cccc-ddddeeeeffff',
      catalog: 'AWSMarketplace',
      agreement: { id: AGREEMENT },
      product: { code: PRODUCT, id: 'prod-4example7q2' },
      license: { arn: LICENSE_ARN },
      acceptor: { accountId: BUYER },
      proposer: { accountId: SELLER },
      offer: { id: 'offer-3kq7example2y' },
      ...detail,
    },
  };
}

function expectEvent(result: ParsedNotification): SubscriptionEvent {
  if (!result.ok) throw new Error(`expected an event, got ${result.code}: ${result.reason}`);
  return result.event;
}

function expectUnrecognised(result: ParsedNotification, code: string, reasonPart?: RegExp): UnrecognisedNotification {
  if (result.ok) throw new Error(`expected ${code}, got a ${result.event.kind} event`);
  expect(result.code).toBe(code);
  expect(result.reason.length).toBeGreaterThan(0);
  if (reasonPart) expect(result.reason).toMatch(reasonPart);
  return result;
}

describe('legacy SNS notifications delivered to SQS in an SNS envelope', () => {
  it.each([
    ['subscribe-success', 'subscribed'],
    ['subscribe-fail', 'subscribe_failed'],
    ['unsubscribe-pending', 'unsubscribe_pending'],
    ['unsubscribe-success', 'unsubscribed'],
  ])('%s → %s', (action, kind) => {
    const event = expectEvent(parseSqsMessage(sqs(snsEnvelope(legacyMessage(action)))));
    expect(event).toEqual({
      kind,
      identity: { kind: 'customer-identifier', customerIdentifier: CUSTOMER, productCode: PRODUCT },
      occurredAt: Date.parse(TIMESTAMP),
      eventId: '5f0b4c1e-8d2a-5b7c-9e3f-0a1b2c3d4e5f',
      source: 'sns',
      details: { origin: action, topicArn: SUBSCRIPTION_TOPIC },
    });
  });

  it('reads the offer and the free-trial flag (a string) of subscribe-success', () => {
    const event = expectEvent(parseSqsMessage(sqs(snsEnvelope(legacyMessage('subscribe-success', { 'offer-identifier': 'offer-abc123', isFreeTrialTermPresent: 'true' })))));
    expect(event.details).toEqual({ origin: 'subscribe-success', topicArn: SUBSCRIPTION_TOPIC, offerId: 'offer-abc123', freeTrial: true });
  });

  it.each([
    ['true', true],
    ['false', false],
    ['TRUE', true],
    ['False', false],
    [true, true],
    [false, false],
    [null, undefined],
  ])('isFreeTrialTermPresent %p → %p', (value, freeTrial) => {
    const event = expectEvent(parseSqsMessage(sqs(snsEnvelope(legacyMessage('subscribe-success', { isFreeTrialTermPresent: value })))));
    expect(event.details.freeTrial).toBe(freeTrial);
  });

  it('rejects a free-trial flag that is neither true nor false', () => {
    expectUnrecognised(parseSqsMessage(sqs(snsEnvelope(legacyMessage('subscribe-success', { isFreeTrialTermPresent: 'yes' })))), 'invalid_payload', /isFreeTrialTermPresent/);
  });

  it('treats an empty offer-identifier as absent', () => {
    const event = expectEvent(parseSqsMessage(sqs(snsEnvelope(legacyMessage('subscribe-fail', { 'offer-identifier': '' })))));
    expect(event.details.offerId).toBeUndefined();
  });

  it('trims the customer identifier (the seller guide example has a leading blank)', () => {
    const event = expectEvent(parseSqsMessage(sqs(snsEnvelope(legacyMessage('subscribe-success', { 'customer-identifier': ` ${CUSTOMER}` })))));
    expect(event.identity).toEqual({ kind: 'customer-identifier', customerIdentifier: CUSTOMER, productCode: PRODUCT });
  });

  it('maps entitlement-updated from the entitlement topic', () => {
    const event = expectEvent(parseSqsMessage(sqs(snsEnvelope(legacyMessage('entitlement-updated'), { TopicArn: ENTITLEMENT_TOPIC, Subject: 'entitlement' }))));
    expect(event.kind).toBe('entitlement_updated');
    expect(event.details.topicArn).toBe(ENTITLEMENT_TOPIC);
  });

  it('rejects an action that does not belong to the topic it came from', () => {
    expectUnrecognised(parseSqsMessage(sqs(snsEnvelope(legacyMessage('entitlement-updated')))), 'invalid_payload', /subscription topic/);
    expectUnrecognised(parseSqsMessage(sqs(snsEnvelope(legacyMessage('subscribe-success'), { TopicArn: ENTITLEMENT_TOPIC }))), 'invalid_payload', /entitlement topic/);
  });

  it('accepts any action from a topic that is not a Marketplace topic (a forwarding topic)', () => {
    const topic = 'arn:aws:sns:eu-west-1:444455556666:marketplace-forward';
    expect(expectEvent(parseSqsMessage(sqs(snsEnvelope(legacyMessage('entitlement-updated'), { TopicArn: topic })))).kind).toBe('entitlement_updated');
    expect(expectEvent(parseSqsMessage(sqs(snsEnvelope(legacyMessage('unsubscribe-success'), { TopicArn: topic })))).kind).toBe('unsubscribed');
  });

  it('does not handle SNS subscription confirmations', () => {
    const result = expectUnrecognised(parseSqsMessage(sqs(snsEnvelope('{}', { Type: 'SubscriptionConfirmation' }))), 'unsupported_type', /SubscriptionConfirmation/);
    expect(result.eventId).toBe('5f0b4c1e-8d2a-5b7c-9e3f-0a1b2c3d4e5f');
  });

  it.each([
    ['a Message that is not JSON', 'not_json', snsEnvelope('subscribe-success: {"a":1}')],
    ['a Message that is a JSON array', 'invalid_payload', snsEnvelope('[1,2]')],
    ['a Message without action', 'invalid_payload', snsEnvelope({ 'customer-identifier': CUSTOMER, 'product-code': PRODUCT })],
    ['an unknown action', 'unsupported_type', snsEnvelope(legacyMessage('subscribe-maybe'))],
    ['a numeric action', 'invalid_payload', snsEnvelope(legacyMessage('x', { action: 3 }))],
    ['a missing customer-identifier', 'invalid_payload', snsEnvelope({ action: 'subscribe-success', 'product-code': PRODUCT })],
    ['a blank customer-identifier', 'invalid_payload', snsEnvelope(legacyMessage('subscribe-success', { 'customer-identifier': '   ' }))],
    ['a numeric product-code', 'invalid_payload', snsEnvelope(legacyMessage('subscribe-success', { 'product-code': 42 }))],
    ['a product code with blanks', 'invalid_payload', snsEnvelope(legacyMessage('subscribe-success', { 'product-code': 'a b' }))],
    ['a missing MessageId', 'invalid_envelope', snsEnvelope(legacyMessage('subscribe-success'), { MessageId: undefined })],
    ['a Message that is an object, not a string', 'invalid_envelope', { ...snsEnvelope(''), Message: legacyMessage('subscribe-success') }],
    ['a Timestamp that is not ISO 8601', 'invalid_envelope', snsEnvelope(legacyMessage('subscribe-success'), { Timestamp: 'yesterday' })],
    ['an implausible Timestamp', 'invalid_envelope', snsEnvelope(legacyMessage('subscribe-success'), { Timestamp: '1999-01-01T00:00:00Z' })],
    ['a Type that is not a string', 'invalid_envelope', snsEnvelope(legacyMessage('subscribe-success'), { Type: 1 })],
  ])('%s → %s', (_name, code, body) => {
    expectUnrecognised(parseSqsMessage(sqs(body)), code);
  });

  it('names the invalid fields, not their values', () => {
    const email = 'jane.doe@example.com';
    const result = expectUnrecognised(parseSqsMessage(sqs(snsEnvelope(legacyMessage('subscribe-success', { 'product-code': email, 'customer-identifier': `${email} ${'x'.repeat(300)}` })))), 'invalid_payload');
    expect(result.reason).toMatch(/customer-identifier: too long/);
    expect(result.reason).toMatch(/product-code: malformed/);
    expect(result.reason).not.toContain(email);
  });
});

describe('legacy notifications with SNS raw message delivery', () => {
  const meta = { messageId: '0e9d8c7b-6a59-4837-a261-5f4e3d2c1b0a', attributes: { SentTimestamp: '1748779200456', ApproximateReceiveCount: '1' } };

  it('uses the SQS message id and SentTimestamp for the missing SNS metadata', () => {
    const event = expectEvent(parseSqsMessage(sqs(legacyMessage('unsubscribe-pending'), meta)));
    expect(event).toEqual({
      kind: 'unsubscribe_pending',
      identity: { kind: 'customer-identifier', customerIdentifier: CUSTOMER, productCode: PRODUCT },
      occurredAt: 1748779200456,
      eventId: meta.messageId,
      source: 'sns',
      details: { origin: 'unsubscribe-pending' },
    });
  });

  it.each([
    ['no SentTimestamp', { messageId: meta.messageId, attributes: {} }],
    ['no attributes', { messageId: meta.messageId }],
    ['no message id', { attributes: meta.attributes }],
    ['a SentTimestamp that is not a number', { ...meta, attributes: { SentTimestamp: 'soon' } }],
  ])('needs the SQS metadata: %s → missing_metadata', (_name, extra) => {
    expectUnrecognised(parseSqsMessage(sqs(legacyMessage('subscribe-success'), extra)), 'missing_metadata');
  });
});

describe('EventBridge agreement and licence events', () => {
  it.each(['Manufacturer', 'Proposer'])('Purchase Agreement Created - %s → agreement_created', (role) => {
    const event = expectEvent(parseEventBridgeEvent(agreementEvent(`Purchase Agreement Created - ${role}`)));
    expect(event).toEqual({
      kind: 'agreement_created',
      identity: { kind: 'agreement', customerAWSAccountId: BUYER, agreementId: AGREEMENT },
      occurredAt: Date.parse('2025-06-01T12:00:05Z'),
      eventId: '9a8b7c6d-1111-2222-3333-444455556666',
      source: 'eventbridge',
      details: {
        origin: `Purchase Agreement Created - ${role}`,
        role: role.toLowerCase(),
        offerId: 'offer-3kq7example2y',
        requestId: '0c1d2e3f-aaaa-bbbb-cccc-ddddeeeeffff',
        agreementIntent: 'NEW',
        agreementStatus: 'ACTIVE',
        agreementStartsAt: Date.parse('2025-06-01T12:00:00Z'),
        agreementEndsAt: Date.parse('2026-06-01T12:00:00Z'),
      },
    });
  });

  it('keeps the agreement a renewal replaces', () => {
    const event = expectEvent(parseEventBridgeEvent(agreementEvent('Purchase Agreement Created - Proposer', { id: 'agmt-renewal0002', intent: 'RENEW', previousAgreementId: AGREEMENT }, { product: { id: 'prod-4example7q2', title: 'Product' } })));
    expect(event.identity).toEqual({ kind: 'agreement', customerAWSAccountId: BUYER, agreementId: 'agmt-renewal0002', previousAgreementId: AGREEMENT });
    expect(event.details).toMatchObject({ agreementIntent: 'RENEW', productId: 'prod-4example7q2' });
  });

  it.each(['Manufacturer', 'Proposer'])('Purchase Agreement Amended - %s → agreement_amended', (role) => {
    const event = expectEvent(parseEventBridgeEvent(agreementEvent(`Purchase Agreement Amended - ${role}`, { intent: 'AMEND', autoRenewalEnabled: true }, { renewalSummary: { lockoutStartTime: null, disabledBy: null } })));
    expect(event.kind).toBe('agreement_amended');
  });

  it.each([
    ['CANCELLED', 'unsubscribe_pending'],
    ['EXPIRED', 'unsubscribe_pending'],
    ['TERMINATED', 'unsubscribe_pending'],
    ['ARCHIVED', 'unsubscribe_pending'],
    [undefined, 'unsubscribe_pending'],
    ['RENEWED', 'agreement_replaced'],
    ['REPLACED', 'agreement_replaced'],
    ['SUPERSEDED', 'agreement_replaced'],
    ['ROLLED_BACK', 'agreement_replaced'],
  ])('Purchase Agreement Ended with status %s → %s', (status, kind) => {
    for (const role of ['Manufacturer', 'Proposer']) {
      const event = agreementEvent(`Purchase Agreement Ended - ${role}`);
      (event.detail as any).agreement = { id: AGREEMENT, ...(status ? { status } : {}) };
      expect(expectEvent(parseEventBridgeEvent(event)).kind).toBe(kind);
    }
  });

  it('License Updated → subscribed, with the licence identity', () => {
    const event = expectEvent(parseEventBridgeEvent(licenseEvent('License Updated - Manufacturer')));
    expect(event).toEqual({
      kind: 'subscribed',
      identity: { kind: 'license', customerAWSAccountId: BUYER, licenseArn: LICENSE_ARN, productCode: PRODUCT, agreementId: AGREEMENT },
      occurredAt: Date.parse('2025-06-01T12:00:07Z'),
      eventId: '1f2e3d4c-5555-6666-7777-888899990000',
      source: 'eventbridge',
      details: { origin: 'License Updated - Manufacturer', role: 'manufacturer', offerId: 'offer-3kq7example2y', requestId: '7a6b5c4d-aaaa-bbbb-cccc-ddddeeeeffff', productId: 'prod-4example7q2' },
    });
  });

  it('License Deprovisioned → unsubscribed', () => {
    expect(expectEvent(parseEventBridgeEvent(licenseEvent('License Deprovisioned - Manufacturer'))).kind).toBe('unsubscribed');
  });

  it('puts arn: in front of a licence ARN printed without it (as the seller guide example does)', () => {
    const event = expectEvent(parseEventBridgeEvent(licenseEvent('License Updated - Manufacturer', { license: { arn: 'aws:license-manager:us-east-1:111122223333:l-e52ca6f38bf84d0fafb8802ca15ac11x' } })));
    expect(event.identity).toMatchObject({ licenseArn: 'arn:aws:license-manager:us-east-1:111122223333:l-e52ca6f38bf84d0fafb8802ca15ac11x' });
  });

  it('reads an event that arrives through SQS (an EventBridge rule targeting a queue) the same way', () => {
    for (const event of [licenseEvent('License Updated - Manufacturer'), agreementEvent('Purchase Agreement Ended - Proposer', { status: 'EXPIRED' })]) {
      expect(parseSqsMessage(sqs(event))).toEqual(parseEventBridgeEvent(event));
    }
  });

  it.each([
    ['Purchase Agreement Ending - Proposer', /"Purchase Agreement Ending - Proposer"/],
    ['Purchase Agreement Advisory Issued - Manufacturer', /"Purchase Agreement Advisory Issued - Manufacturer"/],
    ['Purchase Agreement Created - Acceptor', /"Purchase Agreement Created - Acceptor"/],
    ['Agreement Cancellation Request Approved - Proposer', /"Agreement Cancellation Request Approved - Proposer"/],
    ['Offer Released', /^unsupported detail-type$/],
    ['Jane Doe owes us money', /^unsupported detail-type$/],
  ])('does not handle the detail-type %s (names it only if it is an AWS name)', (detailType, reason) => {
    expectUnrecognised(parseEventBridgeEvent(agreementEvent(detailType)), 'unsupported_type', reason);
  });

  it('does not handle other sources', () => {
    expectUnrecognised(parseEventBridgeEvent({ ...agreementEvent('Purchase Agreement Created - Proposer'), source: 'aws.marketplacecatalog' }), 'unsupported_type', /source/);
  });

  it.each([
    ['no acceptor', (d: any) => delete d.acceptor, /acceptor: missing/],
    ['an account id that is not 12 digits', (d: any) => (d.acceptor = { accountId: '1234' }), /acceptor\.accountId: malformed/],
    ['an agreement without id', (d: any) => (d.agreement = { status: 'ACTIVE' }), /agreement\.id: missing/],
    ['an agreement id with a blank', (d: any) => (d.agreement.id = 'agmt 1'), /agreement\.id: malformed/],
    ['a start time that is not a time', (d: any) => (d.agreement.startTime = 'soon'), /agreement\.startTime/],
    ['a lower-case status', (d: any) => (d.agreement.status = 'cancelled'), /agreement\.status: malformed/],
  ])('rejects an agreement detail with %s', (_name, mutate, reason) => {
    const event = agreementEvent('Purchase Agreement Ended - Manufacturer');
    mutate(event.detail);
    expectUnrecognised(parseEventBridgeEvent(event), 'invalid_payload', reason);
  });

  it.each([
    ['no licence', (d: any) => delete d.license, /license: missing/],
    ['a licence ARN without licence id', (d: any) => (d.license.arn = 'arn:aws:license-manager::111122223333:license:'), /license\.arn: malformed/],
    ['no product code', (d: any) => (d.product = { id: 'prod-1' }), /product\.code: missing/],
    ['a numeric account', (d: any) => (d.acceptor.accountId = 111122223333), /acceptor\.accountId: expected string/],
  ])('rejects a licence detail with %s', (_name, mutate, reason) => {
    const event = licenseEvent('License Updated - Manufacturer');
    mutate(event.detail);
    expectUnrecognised(parseEventBridgeEvent(event), 'invalid_payload', reason);
  });

  it.each([
    ['no id', { id: undefined }],
    ['a time that is not ISO 8601', { time: '1748779200' }],
    ['a detail that is an array', { detail: [] }],
    ['a detail-type that is a number', { 'detail-type': 7 }],
  ])('rejects an event envelope with %s', (_name, overrides) => {
    expectUnrecognised(parseEventBridgeEvent({ ...agreementEvent('Purchase Agreement Created - Proposer'), ...overrides }), 'invalid_envelope');
  });

  it('accepts null where the seller guide shows null (resale authorisation of a direct offer)', () => {
    const event = agreementEvent('Purchase Agreement Created - Manufacturer', {}, { resaleAuthorization: null, offer: null, product: null });
    expect(expectEvent(parseEventBridgeEvent(event)).details.offerId).toBeUndefined();
  });
});

describe('malformed input never throws and says why', () => {
  it.each([
    ['an empty body', 'not_json', sqs('')],
    ['a body that is not JSON', 'not_json', sqs('subscribe-success')],
    ['truncated JSON', 'not_json', sqs('{"Type":"Notification"')],
    ['a JSON string', 'unknown_format', sqs('"hello"')],
    ['JSON null', 'unknown_format', sqs('null')],
    ['a JSON number', 'unknown_format', sqs('42')],
    ['a JSON array', 'unknown_format', sqs('[{"action":"subscribe-success"}]')],
    ['an unrelated object', 'unknown_format', sqs({ hello: 'world' })],
    ['a body that is not a string', 'unknown_format', { body: 42 }],
    ['no body', 'unknown_format', {}],
    ['a body over the SQS size limit', 'too_large', sqs(' '.repeat(MAX_BODY_CHARS + 1))],
    ['an SNS Message over the SNS size limit', 'too_large', sqs(snsEnvelope(JSON.stringify(legacyMessage('subscribe-success', { pad: 'x'.repeat(MAX_MESSAGE_CHARS) }))))],
    ['a 100,000-character customer identifier', 'invalid_payload', sqs(snsEnvelope(legacyMessage('subscribe-success', { 'customer-identifier': 'x'.repeat(100_000) })))],
    ['a 100,000-character MessageId', 'invalid_envelope', sqs(snsEnvelope(legacyMessage('subscribe-success'), { MessageId: 'm'.repeat(100_000) }))],
    ['deeply nested JSON', 'unknown_format', sqs('['.repeat(200_000) + ']'.repeat(200_000))],
    ['deeply nested JSON in the Message', 'invalid_payload', sqs(snsEnvelope('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)))],
  ])('%s → %s', (_name, code, message) => {
    expectUnrecognised(parseSqsMessage(message as any), code);
  });

  it.each([null, undefined, 42, 'text', [], [1, 2]])('an SQS message that is %p → unknown_format', (message) => {
    expectUnrecognised(parseSqsMessage(message as any), 'unknown_format');
  });

  it.each([null, undefined, 42, 'text', [], {}])('an EventBridge event that is %p → unrecognised', (event) => {
    const result = parseEventBridgeEvent(event);
    expect(result.ok).toBe(false);
  });

  it('reads a body whose getters throw as a parser error, not an exception', () => {
    const hostile = {
      get body(): string {
        throw new TypeError('boom');
      },
    };
    expectUnrecognised(parseSqsMessage(hostile), 'parser_error', /TypeError/);
  });
});
