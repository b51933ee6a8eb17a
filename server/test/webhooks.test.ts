import { rmSync } from 'node:fs';
import {
  API_PATHS,
  ErrorEnvelope,
  PublicSettings,
  parseTraceparent,
  TRACEPARENT_HEADER,
  TraceId,
  WEBHOOK_HEADERS,
  WEBHOOK_RETRY_SCHEDULE_MS,
  WebhookPayload,
} from '@transport-lab/shared';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createWebhooks, generateSecret } from '../src/webhooks/dispatcher.ts';
import { startTestServer, type TestServer, tempDataDir } from './harness.ts';
import { createTask } from './httpClients.ts';
import {
  deliveriesUntil,
  engineAlone,
  getDeliveries,
  nonePending,
  processedTerminal,
  readRelay,
  startTestReceiver,
  type TestReceiver,
} from './webhooksHarness.ts';

/** Small enough that the 4th attempt comes ≈ 1 s after the first (2.5 ms, 150 ms, 900 ms). */
const SCALE = 0.0005;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(...args: Parameters<typeof startTestReceiver>): Promise<TestReceiver> {
  const started = await startTestReceiver(...args);
  cleanups.push(() => started.close());
  return started;
}

/** A server that may deliver to `allowed` (a test receiver on 127.0.0.1, allow-listed by IP and port). */
async function server(allowed: TestReceiver[] = [], env: Parameters<typeof startTestServer>[0] = {}) {
  const started = await startTestServer({
    WEBHOOK_SCHEDULE_SCALE: String(SCALE),
    WEBHOOK_ALLOWED_HOSTS: allowed.map((r) => `127.0.0.1:${r.port}`).join(','),
    ...env,
  });
  cleanups.push(() => started.close());
  return started;
}

async function createWithWebhook(
  srv: TestServer,
  url: string,
  spec = { durationMs: 0, steps: 2 },
  secret?: string,
) {
  const { res, json } = await createTask(srv.baseUrl, { spec, webhook: secret ? { url, secret } : { url } });
  expect(res.status).toBe(202);
  return json;
}

describe('webhook delivery to a real receiver', () => {
  it('gets the event to a receiver that fails three times on the fourth attempt, processed once, every attempt logged', async () => {
    const flaky = await receiver((index) => ({ status: index < 3 ? 500 : 200 }));
    const srv = await server([flaky]);
    const { task } = await createWithWebhook(srv, flaky.url);
    await flaky.until(processedTerminal, 'the terminal event is processed');

    // The first delivery (seq 1) was tried four times under one webhook-id; nothing overtook it.
    const seqs = flaky.arrivals.map((a) => a.seq);
    expect(seqs).toEqual([1, 1, 1, 1, 2, 3, 4, 5]);
    expect(new Set(flaky.arrivals.slice(0, 4).map((a) => a.webhookId)).size).toBe(1);
    expect(flaky.arrivals.slice(0, 4).map((a) => a.status)).toEqual([500, 500, 500, 200]);
    // Processed once each, in order.
    expect(flaky.processed.map((p) => p.data.seq)).toEqual([1, 2, 3, 4, 5]);

    const log = await deliveriesUntil(srv.baseUrl, task.id, nonePending, 'no delivery is pending');
    expect(log.subscriber).toEqual({ url: flaky.url, disabled: false });
    expect(log.deliveries.map((d) => [d.eventSeq, d.state])).toEqual([
      [1, 'delivered'],
      [2, 'delivered'],
      [3, 'delivered'],
      [4, 'delivered'],
      [5, 'delivered'],
    ]);
    const first = log.deliveries[0];
    expect(first?.id).toBe(flaky.arrivals[0]?.webhookId);
    expect(first?.attempts.map((a) => [a.attempt, a.httpStatus, a.outcome])).toEqual([
      [1, 500, 'retry'],
      [2, 500, 'retry'],
      [3, 500, 'retry'],
      [4, 200, 'delivered'],
    ]);
    for (const attempt of first?.attempts ?? []) {
      expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
      expect(attempt.durationMs).toBeLessThan(5_000);
    }
    expect(first?.attempts.slice(0, 3).every((a) => a.error === 'HTTP 500')).toBe(true);
    // The schedule, scaled, with at most 10 % jitter: attempt n+1 waits slot n after attempt n ended.
    const attempts = first?.attempts ?? [];
    for (const n of [2, 3]) {
      const previous = attempts[n - 1];
      const next = attempts[n];
      if (!previous || !next) throw new Error('missing attempts');
      const slot = (WEBHOOK_RETRY_SCHEDULE_MS[n] ?? 0) * SCALE;
      expect(next.startedAt - (previous.startedAt + previous.durationMs)).toBeGreaterThanOrEqual(
        slot * 0.9 - 1,
      );
    }
  });

  it('signs so that standardwebhooks’ own verify accepts it with the secret the server returned once', async () => {
    const sink = await receiver();
    const srv = await server([sink]);
    const { task, webhook } = await createWithWebhook(srv, sink.url);
    const secret = webhook?.secret ?? '';
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    await sink.until(processedTerminal, 'the terminal event is processed');

    for (const arrival of sink.arrivals) {
      const headers = {
        [WEBHOOK_HEADERS.id]: String(arrival.headers[WEBHOOK_HEADERS.id]),
        [WEBHOOK_HEADERS.timestamp]: String(arrival.headers[WEBHOOK_HEADERS.timestamp]),
        [WEBHOOK_HEADERS.signature]: String(arrival.headers[WEBHOOK_HEADERS.signature]),
      };
      const payload = WebhookPayload.parse(new Webhook(secret).verify(arrival.body, headers));
      expect(payload.data.taskId).toBe(task.id);
      expect(payload.type).toBe(`task.${payload.data.type}`);
      expect(payload.timestamp).toBe(new Date(payload.data.at).toISOString());
      expect(() => new Webhook(generateSecret()).verify(arrival.body, headers)).toThrow();
    }
  });

  it("carries the task's correlation id in each delivery's traceparent, a new span per attempt (W3C Trace Context)", async () => {
    const sink = await receiver((index) => ({ status: index < 1 ? 500 : 200 }));
    const srv = await server([sink]);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const { res, json } = await createTask(
      srv.baseUrl,
      { spec: { durationMs: 0, steps: 1 }, webhook: { url: sink.url } },
      { [TRACEPARENT_HEADER]: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    expect(res.status).toBe(202);
    expect(json.task.traceId).toBe(traceId);
    await sink.until(processedTerminal, 'the terminal event is processed');
    const parents = sink.arrivals.map((arrival) => {
      const parsed = parseTraceparent(arrival.headers[TRACEPARENT_HEADER]);
      expect(parsed?.traceId).toBe(traceId);
      return parsed?.parentId;
    });
    // The first attempt was refused and retried: more attempts than events, each its own span.
    expect(parents.length).toBeGreaterThan(3);
    expect(new Set(parents).size).toBe(parents.length);
  });

  it('gives a task created without a traceparent a trace of its own, in its state and its deliveries', async () => {
    const sink = await receiver();
    const srv = await server([sink]);
    const { task } = await createWithWebhook(srv, sink.url, { durationMs: 0, steps: 1 });
    expect(TraceId.safeParse(task.traceId).success).toBe(true);
    await sink.until(processedTerminal, 'the terminal event is processed');
    for (const arrival of sink.arrivals)
      expect(parseTraceparent(arrival.headers[TRACEPARENT_HEADER])?.traceId).toBe(task.traceId);
  });

  it('signs with the secret the caller gave, and then does not echo it back', async () => {
    const sink = await receiver();
    const srv = await server([sink]);
    const secret = generateSecret();
    const { webhook } = await createWithWebhook(srv, sink.url, { durationMs: 0, steps: 1 }, secret);
    expect(webhook).toEqual({ url: sink.url });
    await sink.until(processedTerminal, 'the terminal event is processed');
    const arrival = sink.arrivals[0];
    if (!arrival) throw new Error('no arrival');
    const headers = Object.fromEntries(
      Object.values(WEBHOOK_HEADERS).map((name) => [name, String(arrival.headers[name])]),
    );
    expect(() => new Webhook(secret).verify(arrival.body, headers)).not.toThrow();
  });

  it('honours Retry-After on a 429: the next attempt comes no earlier than the receiver asked', async () => {
    const limited = await receiver((index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 },
    );
    const srv = await server([limited]);
    const { task } = await createWithWebhook(srv, limited.url, { durationMs: 0, steps: 1 });
    await limited.until((r) => r.arrivals.length >= 2, 'a second attempt arrives');

    const [refused, retried] = limited.arrivals;
    if (!refused?.answeredAt || !retried) throw new Error('missing arrivals');
    // Without Retry-After the schedule alone would retry after 5 000 × 0.0005 = 2.5 ms.
    expect(retried.at - refused.answeredAt).toBeGreaterThanOrEqual(995);
    expect(retried.webhookId).toBe(refused.webhookId);
    const log = await deliveriesUntil(srv.baseUrl, task.id, nonePending, 'no delivery is pending');
    expect(log.deliveries[0]?.attempts.map((a) => [a.httpStatus, a.outcome])).toEqual([
      [429, 'retry'],
      [200, 'delivered'],
    ]);
  });

  it('disables the subscriber on 410 Gone: no further delivery, the pending ones marked disabled', async () => {
    const gone = await receiver(() => ({ status: 410 }));
    const srv = await server([gone]);
    const { task } = await createWithWebhook(srv, gone.url, { durationMs: 100, steps: 4 });
    await srv.app.engine.waitForEnd(task.id, 10_000);
    const log = await deliveriesUntil(
      srv.baseUrl,
      task.id,
      (l) => l.subscriber?.disabled === true && nonePending(l),
      'the subscriber is disabled and nothing is pending',
    );
    expect(gone.arrivals).toHaveLength(1);
    expect(log.subscriber?.disabledReason).toMatch(/410/);
    expect(log.deliveries[0]?.state).toBe('disabled');
    expect(log.deliveries[0]?.attempts).toEqual([
      expect.objectContaining({ attempt: 1, httpStatus: 410, outcome: 'disabled' }),
    ]);
    // Events queued before the 410 came back are disabled with it; later ones were never queued.
    expect(log.deliveries.every((d) => d.state === 'disabled')).toBe(true);
    expect(log.deliveries.slice(1).every((d) => d.attempts.length === 0)).toBe(true);
    // Still one arrival once everything has settled: the disabled subscriber gets nothing more.
    expect(gone.arrivals).toHaveLength(1);
  });

  it('counts an attempt that gets no answer within WEBHOOK_ATTEMPT_TIMEOUT_MS as failed, and retries', async () => {
    const slow = await receiver((index) => (index === 0 ? 'hang' : { status: 204 }));
    const srv = await server([slow], { WEBHOOK_ATTEMPT_TIMEOUT_MS: '200' });
    const { task } = await createWithWebhook(srv, slow.url, { durationMs: 0, steps: 1 });
    const log = await deliveriesUntil(srv.baseUrl, task.id, nonePending, 'no delivery is pending');
    const [timedOut, delivered] = log.deliveries[0]?.attempts ?? [];
    expect(timedOut?.httpStatus).toBeUndefined();
    expect(timedOut?.outcome).toBe('retry');
    expect(timedOut?.error).toMatch(/timeout/);
    expect(timedOut?.durationMs).toBeGreaterThanOrEqual(195);
    expect(timedOut?.durationMs).toBeLessThan(2_000);
    expect(delivered).toMatchObject({ attempt: 2, httpStatus: 204, outcome: 'delivered' });
  });

  it('gives up after the last slot of the schedule and marks the delivery failed', async () => {
    const down = await receiver(() => ({ status: 503 }));
    // Scale 0: the whole schedule collapses to immediate retries, so all ten come at once.
    const srv = await server([down], { WEBHOOK_SCHEDULE_SCALE: '0' });
    const { task } = await createWithWebhook(srv, down.url, { durationMs: 0, steps: 1 });
    const log = await deliveriesUntil(
      srv.baseUrl,
      task.id,
      (l) => l.deliveries[0]?.state === 'failed',
      'seq 1 fails',
    );
    const attempts = log.deliveries[0]?.attempts ?? [];
    expect(attempts).toHaveLength(WEBHOOK_RETRY_SCHEDULE_MS.length);
    expect(attempts.at(-1)?.outcome).toBe('gave-up');
    expect(attempts.slice(0, -1).every((a) => a.outcome === 'retry')).toBe(true);
    expect(log.deliveries[0]?.nextAttemptAt).toBeUndefined();
    // In order: seq 2 was not tried before seq 1 gave up (it may not have been tried yet at all:
    // the log above only waited for seq 1).
    const beforeGivingUp = down.arrivals.slice(0, WEBHOOK_RETRY_SCHEDULE_MS.length).map((a) => a.seq);
    expect(beforeGivingUp).toEqual(Array(WEBHOOK_RETRY_SCHEDULE_MS.length).fill(1));
  });

  it('answers the delivery log of a task without a subscriber with null and none, and 404 for an unknown task', async () => {
    const srv = await server();
    const { res, json } = await createTask(srv.baseUrl, { spec: { durationMs: 0, steps: 1 } });
    expect(res.status).toBe(202);
    expect(await getDeliveries(srv.baseUrl, json.task.id)).toEqual({
      taskId: json.task.id,
      subscriber: null,
      deliveries: [],
    });
    const missing = await fetch(
      `${srv.baseUrl}${API_PATHS.deliveries('00000000-0000-0000-0000-000000000000')}`,
    );
    expect(missing.status).toBe(404);
    expect(ErrorEnvelope.parse(await missing.json()).error.code).toBe('NOT_FOUND');
    const malformed = await fetch(`${srv.baseUrl}${API_PATHS.deliveries('x y')}`);
    expect(malformed.status).toBe(400);
  });
});

describe('a server restart with deliveries pending', () => {
  it('delivers them after the restart, under the same webhook-id, in order and each once', async () => {
    let failing = true;
    const backend = await receiver(() => ({ status: failing ? 500 : 200 }));
    const dataDir = tempDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = {
      DATA_DIR: dataDir,
      WEBHOOK_SCHEDULE_SCALE: String(SCALE),
      WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${backend.port}`,
    };

    const before = await startTestServer(env);
    const { task } = await createWithWebhook(before, backend.url);
    await before.app.engine.waitForEnd(task.id, 10_000);
    await backend.until((r) => r.arrivals.length >= 1, 'a first attempt arrives');
    const pending = await deliveriesUntil(
      before.baseUrl,
      task.id,
      (l) => (l.deliveries[0]?.attempts.length ?? 0) >= 1 && l.deliveries.length === 5,
      'the first attempt is logged and all five events are queued',
    );
    await before.close();
    expect(pending.deliveries.every((d) => d.state === 'pending')).toBe(true);
    const triedBefore = backend.arrivals.length;

    failing = false;
    const after = await startTestServer(env);
    cleanups.push(() => after.close());
    await backend.until(processedTerminal, 'the terminal event is processed after the restart');

    expect(backend.arrivals.length).toBeGreaterThan(triedBefore);
    expect(backend.processed.map((p) => p.data.seq)).toEqual([1, 2, 3, 4, 5]);
    const firstAfter = backend.arrivals[triedBefore];
    expect(firstAfter?.seq).toBe(1);
    expect(firstAfter?.webhookId).toBe(pending.deliveries[0]?.id);
    const log = await deliveriesUntil(after.baseUrl, task.id, nonePending, 'no delivery is pending');
    expect(log.deliveries.every((d) => d.state === 'delivered')).toBe(true);
    // The attempts made before the restart are still in the log.
    expect(log.deliveries[0]?.attempts.length).toBeGreaterThanOrEqual(2);
  });
});

describe('a restart with deliveries to the built-in receiver pending', () => {
  it('delivers them to the receiver where it now listens, counting no attempt while it did not', async () => {
    const dataDir = tempDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { DATA_DIR: dataDir, WEBHOOK_SCHEDULE_SCALE: String(SCALE) };
    const before = await startTestServer(env);
    const webhookUrl = before.app.receiver.urls()?.webhookUrl ?? '';
    // Subscribed as POST /api/tasks does; then the receiver stops listening before the task
    // starts: deliveries to it wait, and are not failed attempts.
    const id = before.app.engine.newTaskId();
    await before.app.webhooks.subscribe(id, { url: webhookUrl });
    await before.app.receiver.close();
    const task = await before.app.engine.create({ durationMs: 0, steps: 2 }, id);
    await before.app.engine.waitForEnd(task.id, 10_000);
    const waiting = await getDeliveries(before.baseUrl, task.id);
    await before.close();
    expect(waiting.deliveries.map((d) => [d.state, d.attempts.length])).toEqual(
      Array.from({ length: 5 }, () => ['pending', 0]),
    );

    const after = await startTestServer(env);
    cleanups.push(() => after.close());
    expect(after.receiverUrl).not.toBe(new URL(webhookUrl).origin); // port 0: a new port
    const relay = await readRelay(after.receiverUrl, task.id, (messages) => messages.length === 5);
    expect(relay.messages.map((m) => m.payload.data.seq)).toEqual([1, 2, 3, 4, 5]);
    const log = await deliveriesUntil(after.baseUrl, task.id, nonePending, 'no delivery is pending');
    expect(log.deliveries.map((d) => [d.state, d.attempts.length])).toEqual(
      Array.from({ length: 5 }, () => ['delivered', 1]),
    );
  });
});

describe('a crash between storing an event and queueing its delivery', () => {
  it('is repaired at the next start: the events missing from the queue are read from the task log', async () => {
    const backend = await receiver();
    const { db, engine, logger } = engineAlone(cleanups);
    const config = loadConfig({
      WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${backend.port}`,
      WEBHOOK_SCHEDULE_SCALE: '0',
    });
    const deps = { db, engine, config, logger, builtInReceiverUrl: () => undefined };

    // The dispatcher takes the subscription, then "crashes": it hears none of the task's events.
    const crashed = createWebhooks(deps);
    const id = engine.newTaskId();
    await crashed.subscribe(id, { url: backend.url });
    await crashed.close();
    await engine.create({ durationMs: 0, steps: 2 }, id);
    await engine.waitForEnd(id, 10_000);
    expect(backend.arrivals).toHaveLength(0);

    const restarted = createWebhooks(deps);
    cleanups.push(() => restarted.close());
    await backend.until(processedTerminal, 'the terminal event is processed');
    expect(backend.processed.map((p) => p.data.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('the built-in receiver ("your backend")', () => {
  async function builtIn() {
    const srv = await server();
    const settings = PublicSettings.parse(await (await fetch(`${srv.baseUrl}${API_PATHS.settings}`)).json());
    expect(settings.receiver.webhookUrl).toBe(`${srv.receiverUrl}/webhooks`);
    return { srv, webhookUrl: settings.receiver.webhookUrl };
  }

  it('verifies every delivery and relays each once, in seq order, to the page over SSE', async () => {
    const { srv, webhookUrl } = await builtIn();
    const { task, webhook } = await createWithWebhook(srv, webhookUrl, { durationMs: 50, steps: 3 });
    expect(webhook?.url).toBe(webhookUrl);
    const relay = await readRelay(srv.receiverUrl, task.id, (messages) =>
      messages.some((m) => m.payload.type === 'task.succeeded'),
    );
    expect(relay.status).toBe(200);
    expect(relay.headers.get('access-control-allow-origin')).toBe('*');
    expect(relay.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(relay.messages.map((m) => m.payload.data.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(relay.ids).toEqual(['1', '2', '3', '4', '5', '6']);
    for (const message of relay.messages) {
      expect(message.attempt).toBe(1);
      expect(message.relayedAt).toBeGreaterThanOrEqual(message.receivedAt);
    }
    const log = await deliveriesUntil(srv.baseUrl, task.id, nonePending, 'no delivery is pending');
    expect(log.deliveries.map((d) => d.id)).toEqual(relay.messages.map((m) => m.webhookId));
  });

  it('ends the relay after the terminal event, and answers a reconnect after the end with 204', async () => {
    const { srv, webhookUrl } = await builtIn();
    const { task } = await createWithWebhook(srv, webhookUrl, { durationMs: 50, steps: 2 });
    // Never asks to stop: it returns only because your backend ended the stream itself.
    const relay = await readRelay(srv.receiverUrl, task.id, () => false);
    expect(relay.messages.at(-1)?.payload.type).toBe('task.succeeded');
    const again = await fetch(`${srv.receiverUrl}/relay/tasks/${task.id}`, {
      headers: { 'last-event-id': relay.ids.at(-1) ?? '' },
    });
    expect(again.status).toBe(204);
  });

  /** A message for the task as the dispatcher would sign it, with the given secret and time. */
  function signed(secret: string, body: string, id: string, at = new Date()) {
    return {
      'content-type': 'application/json',
      [WEBHOOK_HEADERS.id]: id,
      [WEBHOOK_HEADERS.timestamp]: String(Math.floor(at.getTime() / 1000)),
      [WEBHOOK_HEADERS.signature]: new Webhook(secret).sign(id, at, body),
    };
  }

  async function subscribedTask() {
    const { srv, webhookUrl } = await builtIn();
    const { task, webhook } = await createWithWebhook(srv, webhookUrl, { durationMs: 0, steps: 1 });
    const secret = webhook?.secret ?? '';
    const [queued] = await srv.app.engine.eventsAfter(task.id, 0);
    if (!queued) throw new Error('no queued event');
    const body = JSON.stringify({
      type: 'task.queued',
      timestamp: new Date(queued.at).toISOString(),
      data: queued,
    });
    const post = (headers: Record<string, string>, payload = body) =>
      fetch(webhookUrl, { method: 'POST', headers, body: payload });
    return { srv, task, secret, body, post };
  }

  it('refuses a tampered body, a wrong secret and a timestamp 10 minutes old with 401, and takes the original', async () => {
    const { secret, body, post } = await subscribedTask();
    const tampered = body.replace('"seq":1', '"seq":2');
    expect(tampered).not.toBe(body);
    const cases = {
      tampered: await post(signed(secret, body, 'msg_tampered'), tampered),
      wrongSecret: await post(signed(generateSecret(), body, 'msg_wrong_secret')),
      stale: await post(signed(secret, body, 'msg_stale', new Date(Date.now() - 10 * 60_000))),
      unsigned: await post({ 'content-type': 'application/json' }),
    };
    for (const [name, res] of Object.entries(cases)) {
      expect(res.status, name).toBe(401);
      expect(ErrorEnvelope.parse(await res.json()).error.code, name).toBe('WEBHOOK_SIGNATURE_INVALID');
    }
    // The same body, properly signed and fresh, is taken: the refusals were about the signature.
    expect((await post(signed(secret, body, 'msg_original'))).status).toBe(200);
  });

  it('processes a redelivered webhook-id once: both answer 200, the page gets one relay', async () => {
    const { srv, task, secret, body, post } = await subscribedTask();
    const first = await post(signed(secret, body, 'msg_redelivered'));
    // A retry is signed again with a fresh timestamp but keeps its webhook-id.
    const again = await post(signed(secret, body, 'msg_redelivered', new Date(Date.now() + 1_000)));
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ok: true });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ ok: true, duplicate: true });
    expect((await post(signed(secret, body, 'msg_sentinel'))).status).toBe(200);

    const relay = await readRelay(srv.receiverUrl, task.id, (messages) =>
      messages.some((m) => m.webhookId === 'msg_sentinel'),
    );
    expect(relay.messages.filter((m) => m.webhookId === 'msg_redelivered')).toHaveLength(1);
  });

  it('answers 400 to a signed body that is not a task event', async () => {
    const { task, secret, post } = await subscribedTask();
    const body = JSON.stringify({
      type: 'task.exploded',
      timestamp: new Date().toISOString(),
      data: { taskId: task.id },
    });
    const res = await post(signed(secret, body, 'msg_bad_payload'), body);
    expect(res.status).toBe(400);
    expect(ErrorEnvelope.parse(await res.json()).error.code).toBe('MALFORMED_WEBHOOK');
  });
});
