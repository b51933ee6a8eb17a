import type { LookupAddress } from 'node:dns';
import { join } from 'node:path';
import { API_PATHS, ErrorEnvelope } from '@transport-lab/shared';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { SQLITE_FILE_NAME } from '../src/store/sqlite.ts';
import { createWebhooks } from '../src/webhooks/dispatcher.ts';
import { sendOnce } from '../src/webhooks/send.ts';
import { forbiddenRange, UrlGuard } from '../src/webhooks/ssrf.ts';
import { startTestServer, type TestServer } from './harness.ts';
import { createTask } from './httpClients.ts';
import { deliveriesUntil, engineAlone, startTestReceiver, type TestReceiver } from './webhooksHarness.ts';

describe('forbiddenRange', () => {
  it.each([
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['100.100.100.200', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['::1', 'loopback'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['64:ff9b::a00:1', 'rfc6052'],
    ['2002:7f00:1::', '6to4'],
  ])('refuses %s (%s)', (address, range) => {
    expect(forbiddenRange(address)).toBe(range);
  });

  it.each(['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34'])(
    'lets public unicast %s through',
    (address) => {
      expect(forbiddenRange(address)).toBeUndefined();
    },
  );
});

describe('UrlGuard.classify, after WHATWG URL normalisation', () => {
  const guard = new UrlGuard({
    allowedHosts: ['127.0.0.1:9000', 'hooks.example.com', '[::1]:9001'],
    builtInReceiverUrl: () => 'http://127.0.0.1:3001/webhooks',
  });

  it.each([
    ['http://127.0.0.1:9000/hook', 'address'],
    ['http://0x7f000001:9000/hook', 'address'], // the allow-listed address, however it is written
    ['http://[0:0:0:0:0:0:0:1]:9001/', 'address'],
    ['https://hooks.example.com/any/path', 'name'],
    ['http://HOOKS.example.com:8080/', 'name'],
    ['http://127.0.0.1:3001/webhooks', 'builtin'],
  ])('allows %s (%s)', (url, kind) => {
    expect(guard.classify(url).kind).toBe(kind);
  });

  it.each([
    ['http://127.0.0.1/hook', 'address-loopback'],
    ['http://127.0.0.1:9002/hook', 'address-loopback'],
    ['http://169.254.169.254/latest/meta-data/', 'address-linkLocal'],
    ['http://[::1]/', 'address-loopback'],
    ['http://0x7f000001/', 'address-loopback'],
    ['http://2130706433/', 'address-loopback'],
    ['http://127.1/', 'address-loopback'],
    ['http://[::ffff:127.0.0.1]:9000/', 'address-loopback'],
    ['http://localhost:3001/webhooks', 'not-allowed'], // not the built-in origin: another host name
    ['https://127.0.0.1:3001/webhooks', 'address-loopback'], // nor with another scheme
    ['http://evil.example.com/', 'not-allowed'],
    ['http://hooks.example.com.evil.example/', 'not-allowed'],
    ['http://user:pass@hooks.example.com/', 'credentials'],
    ['ftp://hooks.example.com/', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['not a url', 'invalid-url'],
  ])('refuses %s (%s)', (url, reason) => {
    let error: unknown;
    try {
      guard.classify(url);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'WEBHOOK_URL_REFUSED', status: 422, details: { reason } });
  });
});

describe('POST /api/tasks with a webhook URL the SSRF guard refuses', () => {
  let sink: TestReceiver;
  let server: TestServer;
  let db: Database.Database;

  beforeAll(async () => {
    sink = await startTestReceiver();
    server = await startTestServer({
      // An IP-literal entry allows that loopback receiver; `localhost` is allowed only as a name.
      WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${sink.port},localhost`,
      WEBHOOK_SCHEDULE_SCALE: '0.0005',
    });
    db = new Database(join(server.dataDir, SQLITE_FILE_NAME), { readonly: true });
  });

  afterAll(async () => {
    db.close();
    await server.close();
    await sink.close();
  });

  const count = (table: string) =>
    (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

  it.each([
    ['127.0.0.1 at a port not allow-listed', (port: number) => `http://127.0.0.1:${port + 1}/hook`],
    ['127.0.0.1 on the default port', () => 'http://127.0.0.1/hook'],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
    ['IPv6 loopback', (port: number) => `http://[::1]:${port}/hook`],
    ['loopback in hex', () => 'http://0x7f000001/hook'],
    ['loopback as one decimal number', () => 'http://2130706433/hook'],
    ['loopback shortened', () => 'http://127.1/hook'],
    ['IPv4-mapped IPv6 loopback', (port: number) => `http://[::ffff:127.0.0.1]:${port}/hook`],
    ['a private address', () => 'http://10.0.0.1/hook'],
    ['an allow-listed name that resolves to loopback', (port: number) => `http://localhost:${port}/hook`],
    ['credentials in the URL', (port: number) => `http://user:secret@127.0.0.1:${port}/hook`],
  ])('refuses %s with 422 in the envelope and creates nothing', async (_name, url) => {
    const tasksBefore = count('tasks');
    const subscribersBefore = count('webhook_subscribers');
    const res = await fetch(`${server.baseUrl}${API_PATHS.tasks}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // A long task: had one been created, it would still be there to count.
      body: JSON.stringify({ spec: { durationMs: 60_000, steps: 1 }, webhook: { url: url(sink.port) } }),
    });
    const json: unknown = await res.json();
    expect(res.status).toBe(422);
    expect(ErrorEnvelope.parse(json).error.code).toBe('WEBHOOK_URL_REFUSED');
    expect(count('tasks')).toBe(tasksBefore);
    expect(count('webhook_subscribers')).toBe(subscribersBefore);
  });

  it('accepts the allow-listed loopback receiver (the control: the refusals above are about the URL)', async () => {
    const tasksBefore = count('tasks');
    const { res } = await createTask(server.baseUrl, {
      spec: { durationMs: 0, steps: 1 },
      webhook: { url: sink.url },
    });
    expect(res.status).toBe(202);
    expect(count('tasks')).toBe(tasksBefore + 1);
    await sink.until((r) => r.arrivals.length > 0, 'a delivery arrives');
  });
});

describe('the connect-time check', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('refuses to connect to a name that resolves to loopback, though the name is allow-listed', async () => {
    const sink = await startTestReceiver();
    cleanups.push(() => sink.close());
    const guard = new UrlGuard({ allowedHosts: ['localhost'], builtInReceiverUrl: () => undefined });
    const url = new URL(`http://localhost:${sink.port}/hook`);
    expect(guard.classify(url.href).kind).toBe('name');
    const send = (lookup?: ReturnType<UrlGuard['connectLookup']>) =>
      sendOnce(url, { headers: {}, body: '{}', timeoutMs: 2_000, ...(lookup ? { lookup } : {}) });

    const refused = await send(guard.connectLookup());
    expect(refused.httpStatus).toBeUndefined();
    expect(refused.error).toMatch(/localhost resolves to .*loopback/);
    expect(sink.arrivals).toHaveLength(0);
    // The control: without the guard's lookup the same request does reach the loopback receiver.
    expect((await send()).httpStatus).toBe(200);
    expect(sink.arrivals).toHaveLength(1);
  });

  it('catches DNS rebinding: public when subscribing, loopback when connecting, and never connects', async () => {
    const sink = await startTestReceiver();
    cleanups.push(() => sink.close());
    const { db, engine, logger } = engineAlone(cleanups);
    const answers: LookupAddress[][] = [[{ address: '93.184.216.34', family: 4 }]];
    const lookups: string[] = [];
    const webhooks = createWebhooks({
      db,
      engine,
      config: loadConfig({ WEBHOOK_ALLOWED_HOSTS: 'rebind.example', WEBHOOK_SCHEDULE_SCALE: '0.0005' }),
      logger,
      builtInReceiverUrl: () => undefined,
      // The first answer is public; every later one points at the loopback receiver.
      resolve: async (hostname) => {
        lookups.push(hostname);
        return answers.shift() ?? [{ address: '127.0.0.1', family: 4 }];
      },
    });
    cleanups.push(() => webhooks.close());

    const id = engine.newTaskId();
    await webhooks.subscribe(id, { url: `http://rebind.example:${sink.port}/hook` });
    await engine.create({ durationMs: 0, steps: 1 }, id);
    const log = await pollDeliveries(
      () => webhooks.deliveries(id),
      (l) => (l.deliveries[0]?.attempts.length ?? 0) >= 2,
    );
    const attempts = log.deliveries[0]?.attempts ?? [];
    for (const attempt of attempts) {
      expect(attempt.httpStatus).toBeUndefined();
      expect(attempt.outcome).toBe('retry');
      expect(attempt.error).toMatch(/rebind\.example resolves to 127\.0\.0\.1, a loopback address/);
    }
    expect(lookups.length).toBeGreaterThanOrEqual(3); // subscribe, then once per attempt
    expect(sink.arrivals).toHaveLength(0);
  });
});

describe('a redirect', () => {
  let redirector: TestReceiver;
  let privateTarget: TestReceiver;
  let server: TestServer;

  beforeAll(async () => {
    // Not allow-listed: only reachable if the server followed the redirect.
    privateTarget = await startTestReceiver();
    redirector = await startTestReceiver(() => ({ status: 302, headers: { location: privateTarget.url } }));
    server = await startTestServer({
      WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${redirector.port}`,
      WEBHOOK_SCHEDULE_SCALE: '0.0005',
    });
  });

  afterAll(async () => {
    await server.close();
    await redirector.close();
    await privateTarget.close();
  });

  it('is never followed: the 3xx is a failed attempt, logged, and the private address it names is not contacted', async () => {
    const { res, json } = await createTask(server.baseUrl, {
      spec: { durationMs: 0, steps: 1 },
      webhook: { url: redirector.url },
    });
    expect(res.status).toBe(202);
    const log = await deliveriesUntil(
      server.baseUrl,
      json.task.id,
      (l) => (l.deliveries[0]?.attempts.length ?? 0) >= 3,
      'three attempts are logged',
    );
    for (const attempt of log.deliveries[0]?.attempts ?? []) {
      expect(attempt.httpStatus).toBe(302);
      expect(attempt.outcome).toBe('retry');
      expect(attempt.error).toBe(`redirect not followed (Location: ${privateTarget.url})`);
    }
    expect(log.deliveries[0]?.state).toBe('pending');
    expect(redirector.arrivals.length).toBeGreaterThanOrEqual(3);
    expect(privateTarget.arrivals).toHaveLength(0);
  });
});

/** A bounded poll on the delivery log (the observable condition under test). */
async function pollDeliveries<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (performance.now() > deadline) throw new Error(`timed out: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
