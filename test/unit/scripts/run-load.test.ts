import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildTargetUrl, classifyFailure, runLoad, type RequestResult } from '../../../scripts/load/run-load';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZW5hbnQifQ.c2lnbmF0dXJl';

interface TestServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  server: Server;
}

const servers: Server[] = [];

/** Starts a server on the loopback interface only, on a free port. */
async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, server };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

afterAll(async () => {
  await Promise.all(servers.filter((server) => server.listening).map(closeServer));
});

const statuses = (results: RequestResult[]) =>
  results.map((result) => (result.kind === 'response' ? result.status : result.failure));

function countBy(values: (string | number)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

describe('runLoad against a local HTTP server', () => {
  const seen: { authorization: string | undefined; url: string | undefined; method: string | undefined }[] =
    [];
  let mixed: TestServer;

  beforeAll(async () => {
    let n = 0;
    mixed = await startServer((req, res) => {
      seen.push({ authorization: req.headers.authorization, url: req.url, method: req.method });
      const status = [200, 400, 500][n++ % 3];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ value: 'abcdefg' }));
    });
  });

  it('sends count GET requests with the raw token and the query, and records each status', async () => {
    const progress: [number, number][] = [];
    const run = await runLoad({
      url: `${mixed.origin}/prod`,
      token: TOKEN,
      count: 30,
      concurrency: 5,
      path: '/random/strings',
      query: 'len=7',
      timeoutMs: 5000,
      onProgress: (done, total) => progress.push([done, total]),
    });

    expect(run.targetUrl).toBe(`${mixed.origin}/prod/random/strings?len=7`);
    expect(run.interrupted).toBe(false);
    expect(run.results).toHaveLength(30);
    expect(countBy(statuses(run.results))).toEqual({ 200: 10, 400: 10, 500: 10 });
    expect(seen).toHaveLength(30);
    for (const request of seen) {
      expect(request).toEqual({ authorization: TOKEN, url: '/prod/random/strings?len=7', method: 'GET' });
    }
    for (const result of run.results) {
      expect(result.latencyMs).toBeGreaterThan(0);
      expect(result.latencyMs).toBeLessThan(5000);
    }
    expect(run.wallMs).toBeGreaterThanOrEqual(Math.max(...run.results.map((r) => r.latencyMs)));
    expect(progress).toEqual(Array.from({ length: 30 }, (_, i) => [i + 1, 30]));
  });
});

describe('runLoad concurrency', () => {
  let inFlight = 0;
  let maxInFlight = 0;
  let received = 0;
  let slow: TestServer;

  beforeAll(async () => {
    slow = await startServer((_req, res) => {
      received += 1;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        res.end('ok');
      }, 40);
    });
  });

  beforeEach(() => {
    inFlight = 0;
    maxInFlight = 0;
    received = 0;
  });

  it('keeps exactly `concurrency` requests in flight at most', async () => {
    const run = await runLoad({ url: slow.origin, token: TOKEN, count: 24, concurrency: 4, timeoutMs: 5000 });
    expect(received).toBe(24);
    expect(maxInFlight).toBe(4);
    expect(countBy(statuses(run.results))).toEqual({ 200: 24 });
    // 24 requests of ≥ 40 ms, 4 at a time: at least 6 rounds.
    expect(run.wallMs).toBeGreaterThanOrEqual(6 * 40 - 5);
  });

  it('never has more requests in flight than count, even with a larger concurrency', async () => {
    const run = await runLoad({ url: slow.origin, token: TOKEN, count: 3, concurrency: 50, timeoutMs: 5000 });
    expect(received).toBe(3);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(run.results).toHaveLength(3);
  });

  it('sends one request at a time with concurrency 1', async () => {
    await runLoad({ url: slow.origin, token: TOKEN, count: 5, concurrency: 1, timeoutMs: 5000 });
    expect(received).toBe(5);
    expect(maxInFlight).toBe(1);
  });
});

describe('runLoad failures', () => {
  it('reports a server that never answers as timeouts, after about timeoutMs', async () => {
    let received = 0;
    const silent = await startServer(() => {
      received += 1; // never responds
    });
    const timeoutMs = 150;
    const run = await runLoad({ url: silent.origin, token: TOKEN, count: 4, concurrency: 2, timeoutMs });

    expect(received).toBe(4);
    expect(statuses(run.results)).toEqual(['timeout', 'timeout', 'timeout', 'timeout']);
    for (const result of run.results) {
      expect(result.latencyMs).toBeGreaterThanOrEqual(timeoutMs - 5);
      expect(result.latencyMs).toBeLessThan(timeoutMs + 2000);
    }
    // Two rounds of two requests.
    expect(run.wallMs).toBeGreaterThanOrEqual(2 * timeoutMs - 10);
  });

  it('applies the timeout to the body too', async () => {
    const trickle = await startServer((_req, res) => {
      res.writeHead(200);
      res.write('partial'); // headers and some body, never the end
    });
    const run = await runLoad({
      url: trickle.origin,
      token: TOKEN,
      count: 2,
      concurrency: 2,
      timeoutMs: 150,
    });
    expect(statuses(run.results)).toEqual(['timeout', 'timeout']);
  });

  it('counts a refused connection (closed port) as a failure without throwing', async () => {
    const { origin, server } = await startServer(() => undefined);
    await closeServer(server); // nothing listens on that port any more
    const run = await runLoad({
      url: `${origin}/prod`,
      token: TOKEN,
      count: 5,
      concurrency: 2,
      timeoutMs: 2000,
    });

    expect(run.interrupted).toBe(false);
    expect(statuses(run.results)).toEqual(Array(5).fill('ECONNREFUSED'));
  });

  it('counts a connection closed by the server as a failure', async () => {
    const rude = await startServer((req) => req.socket.destroy());
    const run = await runLoad({ url: rude.origin, token: TOKEN, count: 3, concurrency: 3, timeoutMs: 2000 });
    expect(run.results).toHaveLength(3);
    for (const result of run.results) {
      expect(result.kind).toBe('failure');
      expect(result).not.toMatchObject({ failure: 'timeout' });
    }
  });

  it('mixes failures and responses in one run', async () => {
    let n = 0;
    const flaky = await startServer((req, res) => {
      if (n++ % 2 === 0) req.socket.destroy();
      else res.end('ok');
    });
    const run = await runLoad({
      url: flaky.origin,
      token: TOKEN,
      count: 10,
      concurrency: 1,
      timeoutMs: 2000,
    });
    expect(run.results).toHaveLength(10);
    expect(run.results.filter((r) => r.kind === 'response')).toHaveLength(5);
    expect(run.results.filter((r) => r.kind === 'failure')).toHaveLength(5);
  });
});

describe('runLoad interruption', () => {
  it('stops early when the signal aborts, keeping only the completed requests', async () => {
    const slow = await startServer((_req, res) => {
      setTimeout(() => res.end('ok'), 30);
    });
    const interrupt = new AbortController();
    const run = await runLoad({
      url: slow.origin,
      token: TOKEN,
      count: 1000,
      concurrency: 2,
      timeoutMs: 5000,
      signal: interrupt.signal,
      onProgress: (done) => {
        if (done === 4) interrupt.abort();
      },
    });
    expect(run.interrupted).toBe(true);
    expect(run.results.length).toBeGreaterThanOrEqual(4);
    expect(run.results.length).toBeLessThan(10);
    expect(run.results.every((r) => r.kind === 'response' && r.status === 200)).toBe(true);
  });
});

describe('runLoad with injected dependencies', () => {
  it('uses the injected clock and survives a fetch that throws a non-Error', async () => {
    let clock = 0;
    const run = await runLoad(
      { url: 'http://127.0.0.1:9/prod', token: TOKEN, count: 3, concurrency: 1, timeoutMs: 1000 },
      {
        fetch: async () => {
          clock += 7;
          throw 'boom';
        },
        now: () => clock,
      },
    );
    expect(run.results).toEqual(Array(3).fill({ kind: 'failure', failure: 'network error', latencyMs: 7 }));
    expect(run.wallMs).toBe(21);
  });

  it('passes the URL, method, Authorization header and an abort signal to fetch', async () => {
    const calls: [string, RequestInit | undefined][] = [];
    await runLoad(
      {
        url: 'https://api.example.com/prod/',
        token: TOKEN,
        count: 2,
        concurrency: 2,
        path: '/x',
        timeoutMs: 1000,
      },
      {
        fetch: async (input, init) => {
          calls.push([String(input), init]);
          return new Response('ok', { status: 202 });
        },
      },
    );
    expect(calls).toHaveLength(2);
    for (const [url, init] of calls) {
      expect(url).toBe('https://api.example.com/prod/x');
      expect(init?.method).toBe('GET');
      expect(init?.headers).toEqual({ Authorization: TOKEN });
      expect(init?.signal).toBeInstanceOf(AbortSignal);
    }
  });

  it.each([
    ['count', { count: 0 }],
    ['concurrency', { concurrency: 1.5 }],
    ['timeoutMs', { timeoutMs: Number.NaN }],
  ])('rejects an invalid %s', async (name, override) => {
    const options = {
      url: 'http://127.0.0.1/',
      token: TOKEN,
      count: 1,
      concurrency: 1,
      timeoutMs: 1,
      ...override,
    };
    await expect(runLoad(options, { fetch: async () => new Response('') })).rejects.toThrow(name);
  });
});

describe('buildTargetUrl', () => {
  it.each([
    [
      'https://abc.execute-api.us-east-1.amazonaws.com/prod',
      '/random/strings',
      'len=7',
      'https://abc.execute-api.us-east-1.amazonaws.com/prod/random/strings?len=7',
    ],
    ['https://h/prod/', '/random/strings', '?len=7', 'https://h/prod/random/strings?len=7'],
    ['https://h', '/random/strings', '', 'https://h/random/strings'],
    ['http://127.0.0.1:8080/a/b//', '/c', 'x=1&y=2', 'http://127.0.0.1:8080/a/b/c?x=1&y=2'],
  ])('joins %s + %s + %s', (base, path, query, expected) => {
    expect(buildTargetUrl(base, path, query)).toBe(expected);
  });
});

describe('classifyFailure', () => {
  it('finds the error code in the cause chain', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(classifyFailure(new TypeError('fetch failed', { cause: refused }))).toBe('ECONNREFUSED');
    const socket = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect(classifyFailure(new TypeError('fetch failed', { cause: socket }))).toBe('UND_ERR_SOCKET');
  });

  it('looks into AggregateError members', () => {
    const first = Object.assign(new Error('connect ECONNREFUSED ::1:80'), { code: 'ECONNREFUSED' });
    const aggregate = new AggregateError([first, new Error('other')]);
    expect(classifyFailure(new TypeError('fetch failed', { cause: aggregate }))).toBe('ECONNREFUSED');
  });

  it.each([
    ['a plain error', new Error('bad port')],
    ['a numeric code', Object.assign(new Error('x'), { code: 20 })],
    ['a string', 'boom'],
    ['undefined', undefined],
  ])('falls back to "network error" for %s', (_name, error) => {
    expect(classifyFailure(error)).toBe('network error');
  });
});
