import {
  API_PATHS,
  ClientLimitDetails,
  type ClientLimitReason,
  ErrorBody,
  SOCKET_EVENTS,
  type TaskSpec,
} from '@transport-lab/shared';
import { io as connect } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../src/config.ts';
import { BUDGET_STORES, type BudgetStore } from './budgetStores.ts';
import {
  EventCollector,
  emitAck,
  type LabClient,
  startTestServer,
  streamBreaches,
  type TestServer,
} from './harness.ts';
import { createTask, readSse } from './httpClients.ts';
import { BOT, expectLimited as expectLimitedAnswer, PHONE } from './limitsHarness.ts';
import { deleteTestKeys, requireRedis, TEST_REDIS_URL, testRedisKeys } from './redisForTests.ts';

/**
 * Issue 11, item 2: every resource bounded per client. One client past a bound is refused (429 +
 * Retry-After, or the ack's RATE_LIMITED) while another client's race completes with every event.
 * The tests speak as phones behind a proxy on this machine (limitsHarness.ts says why).
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Env = Partial<Record<keyof Config, string>>;

async function server(env: Env = {}): Promise<TestServer> {
  // A Redis prefix's keys go once its server has closed (cleanups run newest first).
  const prefix = env.REDIS_PREFIX;
  if (prefix) cleanups.push(() => deleteTestKeys(prefix));
  const started = await startTestServer(env);
  cleanups.push(() => started.close());
  return started;
}

/** The settings of a server whose rate budgets count in `store`: on Redis (required there), each
 *  test under a prefix of its own. */
function onStore(store: BudgetStore): (env?: Env) => Env {
  let redis: Env = {};
  beforeEach(async (context) => {
    if (store === 'memory') return;
    await requireRedis(context);
    redis = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: testRedisKeys().prefix };
  });
  return (env = {}) => ({ ...env, ...redis });
}

/** A socket.io client (websocket transport) speaking as `headers` says. */
async function socketAs(baseUrl: string, headers: Record<string, string>): Promise<LabClient> {
  const socket: LabClient = connect(baseUrl, {
    transports: ['websocket'],
    extraHeaders: headers,
    reconnection: false,
    forceNew: true,
  });
  cleanups.push(() => void socket.disconnect());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

const post = (baseUrl: string, path: string, body: unknown, headers: Record<string, string>) =>
  fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** One HTTP refusal, whose sentence says when to try again. */
const expectLimited = (res: Response, reason: ClientLimitReason): Promise<ClientLimitDetails> =>
  expectLimitedAnswer(res, reason, /^[A-Z].* (try again|wait) .*\d+ s\.$/);

/** A race of another client, on two lanes: the websocket's and SSE's, each with every event. */
async function anotherClientsRace(baseUrl: string): Promise<void> {
  const spec: TaskSpec = { durationMs: 300, steps: 5 };
  const socket = await socketAs(baseUrl, PHONE);
  const seen = new EventCollector(socket);
  const ack = await emitAck(socket, SOCKET_EVENTS.start, spec);
  if (!ack.ok) throw new Error(`the other client's task:start was refused: ${ack.error.message}`);
  const created = await createTask(baseUrl, { spec }, PHONE);
  expect(created.res.status).toBe(202);
  const [onSocket, onSse] = await Promise.all([
    seen.terminal(ack.task.id),
    readSse(baseUrl, created.json.task.id, { after: 0, headers: PHONE }),
  ]);
  expect(streamBreaches(onSocket, spec.steps)).toEqual([]);
  expect(onSse.status).toBe(200);
  expect(streamBreaches(onSse.events, spec.steps)).toEqual([]);
}

describe.each(BUDGET_STORES)('tasks per client, the rate budgets in %s', (store) => {
  const env = onStore(store);

  it('refuses a client past MAX_TASKS_PER_CLIENT running at once on every task-creating route, and frees its share as its tasks end', async () => {
    const { app, baseUrl } = await server(env({ MAX_TASKS_PER_CLIENT: '3' }));
    const long: TaskSpec = { durationMs: 1_500, steps: 3 };
    const held: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { res, json } = await createTask(baseUrl, { spec: long }, BOT);
      expect(res.status).toBe(202);
      held.push(json.task.id);
    }

    const refused = await expectLimited(
      await post(baseUrl, API_PATHS.tasks, { spec: long }, BOT),
      'tasks-running',
    );
    expect(refused).toEqual({ reason: 'tasks-running', limit: 3, retryAfterS: 2 });
    await expectLimited(await post(baseUrl, API_PATHS.run, long, BOT), 'tasks-running');
    await expectLimited(
      await post(baseUrl, API_PATHS.tasks, { spec: long }, { ...BOT, prefer: 'respond-async, wait=5' }),
      'tasks-running',
    );
    const botSocket = await socketAs(baseUrl, BOT);
    const ack = await emitAck(botSocket, SOCKET_EVENTS.start, long);
    if (ack.ok) throw new Error('task:start was accepted past MAX_TASKS_PER_CLIENT');
    expect(ack.error.code).toBe('RATE_LIMITED');
    expect(ClientLimitDetails.parse(ack.error.details).reason).toBe('tasks-running');
    expect(app.clientLimits.holding('203.0.113.66').tasksRunning).toBe(3); // the refusals counted nothing

    // Meanwhile another client races, and this machine (the operator) is not bounded at all.
    await anotherClientsRace(baseUrl);
    expect((await createTask(baseUrl, { spec: long })).res.status).toBe(202);

    // One of the bot's tasks ends: its share frees, and it may start one more.
    await app.engine.waitForEnd(held[0] ?? '', 10_000);
    expect(app.clientLimits.holding('203.0.113.66').tasksRunning).toBeLessThan(3);
    expect((await createTask(baseUrl, { spec: long }, BOT)).res.status).toBe(202);
  });

  it('refuses a client past MAX_TASKS_PER_CLIENT_PER_MINUTE with the seconds until its minute frees', async () => {
    const { baseUrl } = await server(env({ MAX_TASKS_PER_CLIENT_PER_MINUTE: '5' }));
    const quick: TaskSpec = { durationMs: 0, steps: 1 };
    for (let i = 0; i < 5; i++)
      expect((await createTask(baseUrl, { spec: quick }, BOT)).res.status).toBe(202);
    const details = await expectLimited(await post(baseUrl, API_PATHS.run, quick, BOT), 'tasks-per-minute');
    expect(details.limit).toBe(5);
    expect(details.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(details.retryAfterS).toBeLessThanOrEqual(60);
    await anotherClientsRace(baseUrl);
  });

  it('bounds what one client’s tasks cost: 100 tasks of 1 000 steps and 64 KiB from one client are refused past the events budget, and another client’s race is true', async () => {
    // Room for all 100 at once in the running gauge: on Redis a request is counted running while its
    // budgets' round trips are under way, and past MAX_TASKS_PER_CLIENT (50) such requests would be
    // refused `tasks-running` before the events budget this test is about ever saw them.
    const { baseUrl } = await server(env({ MAX_TASKS_PER_CLIENT: '100' }));
    const heavy: TaskSpec = { durationMs: 0, steps: 1_000, resultBytes: 65_536 };
    // All at once, as the probe sent them. What froze /healthz was writing every task's events; the
    // refusals are what bound it (a wall-clock figure belongs to the benchmark: here the load's own
    // client shares the server's event loop).
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => post(baseUrl, API_PATHS.tasks, { spec: heavy }, BOT)),
    );
    const accepted = answers.filter((res) => res.status === 202).length;
    // 10 000 events a minute at 1 003 a task: 9 accepted, every other one refused with its reason.
    const perTask = heavy.steps + 3;
    expect(accepted).toBe(Math.floor(loadConfig({}).MAX_TASK_EVENTS_PER_CLIENT_PER_MINUTE / perTask));
    for (const res of answers.filter((r) => r.status !== 202))
      await expectLimited(res, 'task-events-per-minute');
    await anotherClientsRace(baseUrl);
  });

  it('refuses a client past MAX_RESULT_BYTES_PER_CLIENT_PER_MINUTE, and a refused task costs none of its other budgets', async () => {
    const { baseUrl } = await server(
      env({ MAX_RESULT_BYTES_PER_CLIENT_PER_MINUTE: '131072', MAX_TASKS_PER_CLIENT_PER_MINUTE: '3' }),
    );
    const big: TaskSpec = { durationMs: 0, steps: 1, resultBytes: 65_536 };
    expect((await createTask(baseUrl, { spec: big }, BOT)).res.status).toBe(202);
    expect((await createTask(baseUrl, { spec: big }, BOT)).res.status).toBe(202);
    const details = await expectLimited(
      await post(baseUrl, API_PATHS.tasks, { spec: big }, BOT),
      'result-bytes-per-minute',
    );
    expect(details.limit).toBe(131_072);
    // The refused one took no task of the three a minute: a task without a result still fits.
    expect((await createTask(baseUrl, { spec: { durationMs: 0, steps: 1 } }, BOT)).res.status).toBe(202);
    await expectLimited(
      await post(baseUrl, API_PATHS.tasks, { spec: { durationMs: 0, steps: 1 } }, BOT),
      'tasks-per-minute',
    );
    await anotherClientsRace(baseUrl);
  });
});

describe('tasks per client across instances on one Redis', () => {
  const env = onStore('redis');

  it('counts one MAX_TASKS_PER_CLIENT_PER_MINUTE for a client over two instances: the task past it, on either, is refused with its retry time', async () => {
    const shared = env({ MAX_TASKS_PER_CLIENT_PER_MINUTE: '4' });
    const [one, two] = [await server(shared), await server(shared)];
    const quick: TaskSpec = { durationMs: 0, steps: 1 };
    for (const { baseUrl } of [one, two, one, two])
      expect((await createTask(baseUrl, { spec: quick }, BOT)).res.status).toBe(202);
    for (const { baseUrl } of [one, two]) {
      const details = await expectLimited(await post(baseUrl, API_PATHS.run, quick, BOT), 'tasks-per-minute');
      expect(details.limit).toBe(4);
      expect(details.retryAfterS).toBeGreaterThanOrEqual(1);
      expect(details.retryAfterS).toBeLessThanOrEqual(60);
    }
    await anotherClientsRace(two.baseUrl);
  });
});

/** Lets the event loop turn (the in-process server with it) until `done()` holds; fails past `max`
 *  turns. What it waits for is the server's own count, not an amount of time. */
async function turnsUntil(done: () => boolean, max = 10_000): Promise<void> {
  for (let turn = 0; turn < max; turn++) {
    if (done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`still not so after ${max} turns of the event loop`);
}

/** A socket.io connection refused at its connect: the error's `data` is the error body. */
async function refusedSocket(baseUrl: string, headers: Record<string, string>): Promise<ErrorBody> {
  const socket: LabClient = connect(baseUrl, {
    transports: ['websocket'],
    extraHeaders: headers,
    reconnection: false,
    forceNew: true,
  });
  cleanups.push(() => void socket.disconnect());
  const error = await new Promise<Error & { data?: unknown }>((resolve, reject) => {
    socket.once('connect', () =>
      reject(new Error('the connection was accepted past MAX_STREAMS_PER_CLIENT')),
    );
    socket.once('connect_error', resolve);
  });
  return ErrorBody.parse(error.data);
}

describe('open streams per client', () => {
  it('refuses a client past MAX_STREAMS_PER_CLIENT its next socket, SSE stream and long poll, counts down as they close, and another client races meanwhile', async () => {
    const { app, baseUrl } = await server({ MAX_STREAMS_PER_CLIENT: '3' });
    const bot = '203.0.113.66';
    const long = (await createTask(baseUrl, { spec: { durationMs: 5_000, steps: 5 } })).json.task.id;

    const sockets = [await socketAs(baseUrl, BOT), await socketAs(baseUrl, BOT)];
    const abort = new AbortController();
    cleanups.push(() => abort.abort());
    const sse = await fetch(`${baseUrl}${API_PATHS.stream(long)}?after=0`, {
      headers: BOT,
      signal: abort.signal,
    });
    expect(sse.status).toBe(200);
    expect(app.clientLimits.holding(bot).streams).toBe(3);

    const onSocket = await refusedSocket(baseUrl, BOT);
    expect(onSocket.code).toBe('RATE_LIMITED');
    expect(ClientLimitDetails.parse(onSocket.details)).toEqual({
      reason: 'streams',
      limit: 3,
      retryAfterS: 2,
    });
    expect(onSocket.message).toMatch(/^Too many open connections from this device \(3\)/);
    await expectLimited(
      await fetch(`${baseUrl}${API_PATHS.stream(long)}?after=0`, { headers: BOT }),
      'streams',
    );
    await expectLimited(
      await fetch(`${baseUrl}${API_PATHS.events(long)}?after=100&waitMs=5000`, { headers: BOT }),
      'streams',
    );
    // The refused socket's connection is closed and uncounted: the bot holds its three.
    await turnsUntil(() => app.clientLimits.holding(bot).streams === 3);

    await anotherClientsRace(baseUrl);

    // One of the bot's sockets closes: its share frees, and a held long poll is let in.
    sockets[0]?.disconnect();
    await turnsUntil(() => app.clientLimits.holding(bot).streams === 2);
    const held = fetch(`${baseUrl}${API_PATHS.events(long)}?after=0&waitMs=5000`, { headers: BOT });
    expect((await held).status).toBe(200);
    abort.abort();
    await turnsUntil(() => app.clientLimits.holding(bot).streams === 1);
  });
});

describe('socket.io bounds', () => {
  it('closes a socket that sends a message past SOCKET_MAX_MESSAGE_BYTES, and another client races meanwhile', async () => {
    const { baseUrl } = await server({ SOCKET_MAX_MESSAGE_BYTES: '16384' });
    const bot = await socketAs(baseUrl, BOT);
    const closed = new Promise<string>((resolve) => bot.once('disconnect', (reason) => resolve(reason)));
    // A task spec padded to 20 KiB: the schema would refuse it, but it must not even be parsed.
    const untyped = bot as unknown as { emit: (event: string, payload: unknown) => void };
    untyped.emit(SOCKET_EVENTS.start, { durationMs: 0, steps: 1, pad: 'x'.repeat(20_480) });
    expect(await closed).toBe('transport close');
    await anotherClientsRace(baseUrl);
  });

  it('keeps at most SOCKET_RECOVERY_MAX_PACKETS (and a quarter more) broadcasts for recovery', async () => {
    const { app, baseUrl } = await server({ SOCKET_RECOVERY_MAX_PACKETS: '100' });
    const socket = await socketAs(baseUrl, PHONE);
    const seen = new EventCollector(socket);
    const spec: TaskSpec = { durationMs: 0, steps: 200 };
    const ack = await emitAck(socket, SOCKET_EVENTS.start, spec);
    if (!ack.ok) throw new Error(ack.error.message);
    const events = await seen.terminal(ack.task.id);
    expect(streamBreaches(events, spec.steps)).toEqual([]); // every event still reaches a live socket
    const kept = (app.io.of('/').adapter as unknown as { packets: unknown[] }).packets.length;
    expect(kept).toBeGreaterThanOrEqual(100);
    expect(kept).toBeLessThanOrEqual(125);
  });
});
