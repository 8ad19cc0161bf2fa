/**
 * Property-based tests (fast-check) of the notification parsers: they never throw, always explain a
 * rejection, never repeat input values in the explanation, and read every valid legacy message. Run
 * counts are given per property (numRuns) and in the test names.
 */
import fc from 'fast-check';
import { parseEventBridgeEvent, parseSqsMessage, type ParsedNotification } from '../../../core/marketplace/notification-parsers';

const CODES = ['not_json', 'too_large', 'unknown_format', 'invalid_envelope', 'invalid_payload', 'unsupported_type', 'missing_metadata'];
const MARKER = 'jane.doe@example.com-MARKER';
const TIMESTAMP = '2025-06-01T12:00:00.123Z';

/** A rejection is well-formed: a known code (never a parser bug) and a short, non-empty reason. */
function expectWellFormed(result: ParsedNotification): void {
  expect(typeof result.ok).toBe('boolean');
  if (result.ok) return;
  expect(CODES).toContain(result.code);
  expect(result.reason.length).toBeGreaterThan(0);
  expect(result.reason.length).toBeLessThan(400);
}

/** Any UTF-16 string, unpaired surrogates included. */
const anyString = (maxLength: number) => fc.string({ unit: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code))), maxLength });

describe('the parsers never throw', () => {
  it('on any string as SQS body (numRuns 2000)', () => {
    fc.assert(
      fc.property(anyString(300), (body) => {
        expectWellFormed(parseSqsMessage({ body }));
      }),
      { numRuns: 2000 },
    );
  });

  it('on any JSON value as SQS body (numRuns 2000)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expectWellFormed(parseSqsMessage({ body: JSON.stringify(value) ?? '' }));
      }),
      { numRuns: 2000 },
    );
  });

  it('on any value as SQS message, SQS metadata, or EventBridge event (numRuns 1000)', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (a, b, c) => {
        expectWellFormed(parseSqsMessage(a as any));
        expectWellFormed(parseSqsMessage({ body: JSON.stringify({ action: 'subscribe-success', 'customer-identifier': 'c1', 'product-code': 'p1' }), messageId: b, attributes: c }));
        expectWellFormed(parseEventBridgeEvent(a));
      }),
      { numRuns: 1000 },
    );
  });

  it('on JSON objects with the keys that select a format but arbitrary values (numRuns 2000)', () => {
    const keys = ['Type', 'TopicArn', 'MessageId', 'Message', 'Timestamp', 'detail-type', 'source', 'detail', 'id', 'time', 'action', 'customer-identifier', 'product-code'];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.oneof(fc.jsonValue(), fc.constant('Notification'), fc.constant('aws.agreement-marketplace'), fc.constant(TIMESTAMP))), (object) => {
        expectWellFormed(parseSqsMessage({ body: JSON.stringify(object), messageId: 'm-1', attributes: { SentTimestamp: '1748779200000' } }));
        expectWellFormed(parseEventBridgeEvent(object));
      }),
      { numRuns: 2000 },
    );
  });
});

/** Valid notifications, each with the paths of its fields (for mutation). */
const FIXTURES: Record<string, { build: (mutate: (root: any) => void) => ParsedNotification; paths: string[][] }> = {
  'SNS envelope': {
    build: (mutate) => {
      const message: any = { action: 'subscribe-success', 'customer-identifier': 'QxU3mZk8pWd', 'product-code': 'a1b2c3d4e5f6g7h8i9j0k1l2m', 'offer-identifier': 'offer-abc', isFreeTrialTermPresent: 'false' };
      const envelope: any = { Type: 'Notification', MessageId: '5f0b4c1e-8d2a-5b7c-9e3f-0a1b2c3d4e5f', TopicArn: 'arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-a1b2c3d4e5f6g7h8i9j0k1l2m', Timestamp: TIMESTAMP, message };
      mutate(envelope);
      const { message: inner, ...rest } = envelope;
      return parseSqsMessage({ body: JSON.stringify({ ...rest, Message: typeof inner === 'object' && inner !== null ? JSON.stringify(inner) : inner }) });
    },
    paths: [['Type'], ['MessageId'], ['TopicArn'], ['Timestamp'], ['message'], ['message', 'action'], ['message', 'customer-identifier'], ['message', 'product-code'], ['message', 'offer-identifier'], ['message', 'isFreeTrialTermPresent']],
  },
  'raw delivery': {
    build: (mutate) => {
      const root: any = { body: { action: 'unsubscribe-pending', 'customer-identifier': 'QxU3mZk8pWd', 'product-code': 'a1b2c3d4e5f6g7h8i9j0k1l2m' }, messageId: '0e9d8c7b-6a59-4837-a261-5f4e3d2c1b0a', attributes: { SentTimestamp: '1748779200456' } };
      mutate(root);
      return parseSqsMessage({ ...root, body: JSON.stringify(root.body) ?? '' });
    },
    paths: [['body'], ['body', 'action'], ['body', 'customer-identifier'], ['body', 'product-code'], ['messageId'], ['attributes'], ['attributes', 'SentTimestamp']],
  },
  'License Updated': {
    build: (mutate) => {
      const event: any = {
        id: '1f2e3d4c-5555-6666-7777-888899990000',
        'detail-type': 'License Updated - Manufacturer',
        source: 'aws.agreement-marketplace',
        time: '2025-06-01T12:00:07Z',
        detail: { agreement: { id: 'agmt-7c2xq9example0001' }, product: { code: 'a1b2c3d4e5f6g7h8i9j0k1l2m', id: 'prod-4example7q2' }, license: { arn: 'arn:aws:license-manager::111122223333:license:l-0a1b2c3d4e5f6' }, acceptor: { accountId: '111122223333' }, offer: { id: 'offer-1' } },
      };
      mutate(event);
      return parseEventBridgeEvent(event);
    },
    paths: [['id'], ['detail-type'], ['source'], ['time'], ['detail'], ['detail', 'agreement'], ['detail', 'agreement', 'id'], ['detail', 'product', 'code'], ['detail', 'license', 'arn'], ['detail', 'acceptor', 'accountId'], ['detail', 'offer']],
  },
  'Purchase Agreement Ended': {
    build: (mutate) => {
      const event: any = {
        id: '9a8b7c6d-1111-2222-3333-444455556666',
        'detail-type': 'Purchase Agreement Ended - Proposer',
        source: 'aws.agreement-marketplace',
        time: '2025-06-01T12:00:05Z',
        detail: { requestId: 'r-1', agreement: { id: 'agmt-7c2xq9example0001', status: 'CANCELLED' }, acceptor: { accountId: '111122223333' }, offer: { id: 'offer-1' } },
      };
      mutate(event);
      return parseSqsMessage({ body: JSON.stringify(event) });
    },
    paths: [['id'], ['detail-type'], ['time'], ['detail', 'requestId'], ['detail', 'agreement', 'id'], ['detail', 'agreement', 'status'], ['detail', 'agreement', 'endTime'], ['detail', 'acceptor'], ['detail', 'acceptor', 'accountId']],
  },
};

function setPath(root: any, path: string[], value: unknown): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key];
  }
  const last = path[path.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
}

const marker = fc.constantFrom(MARKER, `${MARKER}${'x'.repeat(300)}`, ` ${MARKER} `, `agmt-${MARKER}`, `l-${MARKER}`);
const replacement = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant(undefined),
  marker,
  fc.array(marker, { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('id', 'arn', 'code', 'accountId', 'x'), marker),
  fc.string({ maxLength: 5000 }),
);

describe('mutated valid notifications', () => {
  it.each(Object.keys(FIXTURES))('%s is valid before mutation', (name) => {
    expect(FIXTURES[name].build(() => undefined).ok).toBe(true);
  });

  it('never throw, and a rejection never repeats a value of the input (numRuns 3000)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(FIXTURES)), fc.nat(), fc.array(replacement, { minLength: 1, maxLength: 3 }), (name, pathIndex, values) => {
        const fixture = FIXTURES[name];
        const result = fixture.build((root) => values.forEach((value, i) => setPath(root, fixture.paths[(pathIndex + i) % fixture.paths.length], value)));
        expectWellFormed(result);
        if (!result.ok) expect(result.reason).not.toContain('MARKER');
      }),
      { numRuns: 3000 },
    );
  });
});

describe('valid legacy messages', () => {
  const ACTIONS = {
    'subscribe-success': 'subscribed',
    'subscribe-fail': 'subscribe_failed',
    'unsubscribe-pending': 'unsubscribe_pending',
    'unsubscribe-success': 'unsubscribed',
    'entitlement-updated': 'entitlement_updated',
  } as const;

  it('are all read, enveloped or raw (numRuns 1000)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...(Object.keys(ACTIONS) as (keyof typeof ACTIONS)[])),
        fc.stringMatching(/^[A-Za-z0-9]{1,40}$/),
        fc.constantFrom('', ' ', '  '),
        fc.stringMatching(/^[a-z0-9]{1,40}$/),
        fc.option(fc.stringMatching(/^offer-[a-z0-9]{1,20}$/), { nil: undefined }),
        fc.option(fc.constantFrom('true', 'false', 'True', 'FALSE', true, false), { nil: undefined }),
        fc.integer({ min: Date.UTC(2012, 0, 1), max: Date.UTC(2099, 0, 1) }),
        fc.uuid(),
        fc.boolean(),
        (action, customer, blank, product, offer, trial, time, id, raw) => {
          const message = { action, 'customer-identifier': `${blank}${customer}${blank}`, 'product-code': product, ...(offer ? { 'offer-identifier': offer } : {}), ...(trial === undefined ? {} : { isFreeTrialTermPresent: trial }) };
          const result = raw
            ? parseSqsMessage({ body: JSON.stringify(message), messageId: id, attributes: { SentTimestamp: String(time) } })
            : parseSqsMessage({ body: JSON.stringify({ Type: 'Notification', MessageId: id, TopicArn: 'arn:aws:sns:us-east-1:287250355862:forward', Message: JSON.stringify(message), Timestamp: new Date(time).toISOString() }) });
          expect(result.ok).toBe(true);
          if (!result.ok) return;
          expect(result.event).toMatchObject({ kind: ACTIONS[action], identity: { kind: 'customer-identifier', customerIdentifier: customer, productCode: product }, occurredAt: time, eventId: id, source: 'sns' });
          expect(result.event.details.offerId).toBe(offer);
          expect(result.event.details.freeTrial).toBe(trial === undefined ? undefined : String(trial).toLowerCase() === 'true');
        },
      ),
      { numRuns: 1000 },
    );
  });
});
