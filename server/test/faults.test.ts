import {
  API_PATHS,
  type DeliveriesResponse,
  ErrorEnvelope,
  FAULT_PATHS,
  FaultsResponse,
  HTTP_HEADERS,
  isTerminalEvent,
  type LabTag,
  labTagHeaders,
  labTagQuery,
  PublicSettings,
  RelayMessage,
  RunTasksResponse,
  SSE,
  SyncTimeoutDetails,
  TaskEvent,
  type TaskSpec,
  WEBHOOK_HEADERS,
} from '@transport-lab/shared';
import { createParser } from 'eventsource-parser';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppHandle } from '../src/app.ts';
import { epochNow } from '../src/observability/clock.ts';
import {
  createAsync,
  longPollingLane,
  pollToEnd,
  postFault,
  sseLane,
  webhookLane,
  websocketLane,
} from './faultsLanes.ts';
import { startTestServer, streamBreaches, type TestServer, tempDataDir } from './harness.ts';
import { deliveriesUntil, getDeliveries, nonePending } from './webhooksHarness.ts';
import { newRunId, readWire, until } from './wireHarness.ts';

/** Resolves with the first task whose event satisfies `match` (the engine's own publication). */
function whenEvent(app: AppHandle, match: (event: TaskEvent) => boolean): Promise<TaskEvent> {
  return new Promise((resolve) => {
    const off = app.engine.onEvent((event) => {
      if (!match(event)) return;
      off();
      resolve(event);
    });
  });
}
const progressAt = (step: number) => (event: TaskEvent) => event.type === 'progress' && event.step === step;

async function post(baseUrl: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${baseUrl}${FAULT_PATHS.faults}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function faultsOf(baseUrl: string, runId: string) {
  const res = await fetch(`${baseUrl}${FAULT_PATHS.faults}?runId=${runId}`);
  return FaultsResponse.parse(await res.json()).faults;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the faults API', () => {
  it('answers 201 with the record, lists it by run, and keeps it across a restart', async () => {
    const dataDir = tempDataDir();
    const first = await startTestServer({ DATA_DIR: dataDir });
    const runId = newRunId();
    const record = await postFault(first.baseUrl, { kind: 'buffer-streams', runId, on: true });
    expect(record).toMatchObject({ fault: { kind: 'buffer-streams', runId, on: true }, affected: 0 });
    expect(record.at).toBeLessThanOrEqual(epochNow());
    expect(record.summary).toMatch(/8192 bytes/);
    expect(await faultsOf(first.baseUrl, runId)).toEqual([record]);
    expect(await faultsOf(first.baseUrl, newRunId())).toEqual([]);
    await first.close();

    const second = await startTestServer({ DATA_DIR: dataDir });
    cleanups.push(() => second.close());
    expect(await faultsOf(second.baseUrl, runId)).toEqual([record]);
  });

  it('refuses a malformed fault with 400 in the one envelope, and a bad run id in the query', async () => {
    const srv = await startTestServer();
    cleanups.push(() => srv.close());
    for (const body of [
      { kind: 'unplug-the-cable' },
      { kind: 'drop-connections', runId: 'short', lane: 'sse' },
      { kind: 'slow-downstream', runId: newRunId(), stallMs: 0 },
      { kind: 'receiver', runId: newRunId(), mode: 'fail-500', extra: true },
    ]) {
      const { status, json } = await post(srv.baseUrl, body);
      expect(status).toBe(400);
      expect(ErrorEnvelope.parse(json).error.code).toBe('VALIDATION_FAILED');
    }
    const res = await fetch(`${srv.baseUrl}${FAULT_PATHS.faults}?runId=x`);
    expect(res.status).toBe(400);
  });

  it('refuses a restart with 503 when no supervisor would start the server again', async () => {
    const srv = await startTestServer();
    cleanups.push(() => srv.close());
    const { status, json } = await post(srv.baseUrl, { kind: 'restart-server' });
    expect(status).toBe(503);
    expect(ErrorEnvelope.parse(json).error.message).toMatch(/supervisor/);
  });

  it('with FAULTS=off answers 403 naming the setting, and the page is told through its settings', async () => {
    const srv = await startTestServer({ FAULTS: 'off' });
    cleanups.push(() => srv.close());
    const { status, json } = await post(srv.baseUrl, {
      kind: 'slow-downstream',
      runId: newRunId(),
      stallMs: 5,
    });
    expect(status).toBe(403);
    expect(ErrorEnvelope.parse(json).error).toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/FAULTS=off/),
    });
    const settings = PublicSettings.parse(await (await fetch(`${srv.baseUrl}${API_PATHS.settings}`)).json());
    expect(settings.faults).toBe('off');
  });

  it('with WIRE_ACCOUNTING=off refuses drop-connections (503): no ledger knows whose a connection is', async () => {
    const srv = await startTestServer({ WIRE_ACCOUNTING: 'off' });
    cleanups.push(() => srv.close());
    const { status, json } = await post(srv.baseUrl, {
      kind: 'drop-connections',
      runId: newRunId(),
      lane: 'sse',
    });
    expect(status).toBe(503);
    expect(ErrorEnvelope.parse(json).error.message).toMatch(/WIRE_ACCOUNTING/);
  });
});

describe('drop-connections', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.close());
  const spec: TaskSpec = { durationMs: 1_500, steps: 10 };

  it('websocket: the socket is cut, the client reconnects and gets every event once; the ledger counts 2 connections', async () => {
    const tag: LabTag = { lane: 'websocket', runId: newRunId() };
    const reached = whenEvent(srv.app, progressAt(3));
    const lane = websocketLane(srv.baseUrl, tag, spec);
    await reached;
    const before = (await readWire(srv.baseUrl, tag.runId)).report?.lanes.websocket;
    expect(before?.connectionsOpened).toBe(1);
    const record = await postFault(srv.baseUrl, {
      kind: 'drop-connections',
      runId: tag.runId,
      lane: 'websocket',
    });
    expect(record.affected).toBe(1);
    expect(record.summary).toBe('Dropped 1 connection of WebSocket.');
    const outcome = await lane;
    expect(outcome.connects).toBe(2);
    expect(streamBreaches(outcome.events, 10)).toEqual([]);
    expect(outcome.final.status).toBe('succeeded');
    const after = (await readWire(srv.baseUrl, tag.runId)).report?.lanes.websocket;
    expect(after?.connectionsOpened).toBe(2);
  });

  it('SSE: the stream is cut, EventSource-style reconnection resumes by Last-Event-ID; the ledger counts the new connection', async () => {
    const tag: LabTag = { lane: 'sse', runId: newRunId() };
    const reached = whenEvent(srv.app, progressAt(3));
    const lane = sseLane(srv.baseUrl, tag, spec);
    await reached;
    const before = (await readWire(srv.baseUrl, tag.runId)).report?.lanes.sse;
    const record = await postFault(srv.baseUrl, { kind: 'drop-connections', runId: tag.runId, lane: 'sse' });
    expect(record.affected).toBeGreaterThanOrEqual(1);
    const outcome = await lane;
    expect(outcome.recoveries).toBe(1);
    expect(streamBreaches(outcome.events, 10)).toEqual([]);
    expect(outcome.final.status).toBe('succeeded');
    const after = (await readWire(srv.baseUrl, tag.runId)).report?.lanes.sse;
    expect(after?.connectionsOpened).toBe((before?.connectionsOpened ?? 0) + 1);
    // Two streams and the create: three requests, whatever the connections.
    expect(after?.requests).toBe(3);
  });

  it('long polling: the held poll is cut, the next one resumes from the cursor; nothing lost or repeated', async () => {
    const tag: LabTag = { lane: 'long-polling', runId: newRunId() };
    // Steps a second apart, so that after step 1 the next poll is held: the drop cuts a poll in flight.
    const reached = whenEvent(srv.app, progressAt(1));
    const lane = longPollingLane(srv.baseUrl, tag, { durationMs: 3_000, steps: 3 });
    await reached;
    // A poll that arrives after this read is one the server holds for the next step, a second away.
    const atStep1 = (await readWire(srv.baseUrl, tag.runId)).report?.lanes['long-polling']?.requests ?? 0;
    await until(
      () => readWire(srv.baseUrl, tag.runId),
      ({ report }) => report?.openStreams === 1 && (report.lanes['long-polling']?.requests ?? 0) > atStep1,
      'a poll after step 1 is held',
    );
    const before = (await readWire(srv.baseUrl, tag.runId)).report?.lanes['long-polling'];
    const record = await postFault(srv.baseUrl, {
      kind: 'drop-connections',
      runId: tag.runId,
      lane: 'long-polling',
    });
    expect(record.affected).toBeGreaterThanOrEqual(1);
    const outcome = await lane;
    expect(outcome.recoveries).toBe(1);
    expect(streamBreaches(outcome.events, 3)).toEqual([]);
    const after = (await readWire(srv.baseUrl, tag.runId)).report?.lanes['long-polling'];
    expect(after?.connectionsOpened).toBeGreaterThan(before?.connectionsOpened ?? 0);
    expect(after?.requests).toBe(outcome.opened);
  });

  it('webhook: the relay stream is cut, it resumes by seq from the receiver; the ledger counts its new connection', async () => {
    const tag: LabTag = { lane: 'webhook', runId: newRunId() };
    const reached = whenEvent(srv.app, progressAt(3));
    const lane = webhookLane(srv.baseUrl, srv.receiverUrl, tag, spec);
    await reached;
    // The relay is open once the receiver has a connection of the run's webhook lane.
    const before = await until(
      () => readWire(srv.baseUrl, tag.runId),
      ({ report }) => (report?.lanes.webhook?.receiverToPage.openConnections ?? 0) === 1,
      'the relay is open',
    );
    const record = await postFault(srv.baseUrl, {
      kind: 'drop-connections',
      runId: tag.runId,
      lane: 'webhook',
    });
    expect(record.affected).toBeGreaterThanOrEqual(1);
    const outcome = await lane;
    expect(outcome.recoveries).toBe(1);
    expect(streamBreaches(outcome.events, 10)).toEqual([]);
    expect(outcome.final.status).toBe('succeeded');
    const after = (await readWire(srv.baseUrl, tag.runId)).report?.lanes.webhook?.receiverToPage;
    expect(after?.connectionsOpened).toBe(
      (before.report?.lanes.webhook?.receiverToPage.connectionsOpened ?? 0) + 1,
    );
    expect(after?.requests).toBe(2);
  });

  it('touches only the named run and lane', async () => {
    const mine: LabTag = { lane: 'sse', runId: newRunId() };
    const other: LabTag = { lane: 'sse', runId: newRunId() };
    const reachedBoth = Promise.all([whenEvent(srv.app, progressAt(3)), whenEvent(srv.app, progressAt(3))]);
    const laneMine = sseLane(srv.baseUrl, mine, spec);
    const laneOther = sseLane(srv.baseUrl, other, spec);
    await reachedBoth;
    await postFault(srv.baseUrl, { kind: 'drop-connections', runId: mine.runId, lane: 'websocket' });
    await postFault(srv.baseUrl, { kind: 'drop-connections', runId: mine.runId, lane: 'sse' });
    const [a, b] = await Promise.all([laneMine, laneOther]);
    expect(a.recoveries).toBe(1);
    expect(b.recoveries).toBe(0);
  });
});

describe('receiver faults', () => {
  // Long enough that the receiver's answer (a 500, a 200) always comes within it, even while the whole
  // suite loads the machine: at 300 ms an answer sometimes came late and an attempt that should have
  // read 500 or 200 read "timeout" (a flaky "without a count" run).
  const ATTEMPT_TIMEOUT_MS = 2_000;
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({
      WEBHOOK_SCHEDULE_SCALE: '0.0005',
      WEBHOOK_ATTEMPT_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS),
    });
  });
  afterAll(() => srv.close());

  async function deliveredWith(fault: Record<string, unknown>): Promise<DeliveriesResponse> {
    const tag: LabTag = { lane: 'webhook', runId: newRunId() };
    await postFault(srv.baseUrl, { kind: 'receiver', runId: tag.runId, ...fault } as never);
    const webhookUrl = srv.app.receiver.urls()?.webhookUrl ?? '';
    const { task } = await createAsync(
      srv.baseUrl,
      tag,
      { durationMs: 0, steps: 1 },
      { webhook: { url: webhookUrl } },
    );
    return deliveriesUntil(
      srv.baseUrl,
      task.id,
      (log) => log.deliveries.length === 4 && nonePending(log),
      'all delivered',
    );
  }
  const statuses = (log: DeliveriesResponse) =>
    log.deliveries.map((d) => d.attempts.map((a) => a.httpStatus ?? 'none'));

  it('fail-500 for 2 deliveries: the first event is answered 500 twice, then delivered; nothing lost', async () => {
    const log = await deliveredWith({ mode: 'fail-500', count: 2 });
    expect(statuses(log)).toEqual([[500, 500, 200], [200], [200], [200]]);
    expect(log.deliveries.every((d) => d.state === 'delivered')).toBe(true);
  });

  it('timeout for 1 delivery: no answer, the attempt times out at WEBHOOK_ATTEMPT_TIMEOUT_MS, the retry is delivered', async () => {
    const log = await deliveredWith({ mode: 'timeout', count: 1 });
    expect(statuses(log)).toEqual([['none', 200], [200], [200], [200]]);
    const first = log.deliveries[0]?.attempts[0];
    expect(first?.error).toMatch(/timeout/);
    expect(first?.durationMs).toBeGreaterThanOrEqual(ATTEMPT_TIMEOUT_MS - 10);
  });

  it.each([
    ['throttle-429', 429],
    ['unavailable-503', 503],
  ] as const)(
    '%s with Retry-After: 1: the next attempt waits at least the second it asked for',
    async (mode, status) => {
      const log = await deliveredWith({ mode, retryAfterS: 1, count: 1 });
      expect(statuses(log)).toEqual([[status, 200], [200], [200], [200]]);
      const [refused, retried] = log.deliveries[0]?.attempts ?? [];
      expect((retried?.startedAt ?? 0) - (refused?.startedAt ?? 0)).toBeGreaterThanOrEqual(1_000);
    },
  );

  it('verifies a delivery before any fault applies: unsigned or wrongly signed ones spend none of its count', async () => {
    const tag: LabTag = { lane: 'webhook', runId: newRunId() };
    const webhookUrl = srv.app.receiver.urls()?.webhookUrl ?? '';
    const { task } = await createAsync(
      srv.baseUrl,
      tag,
      { durationMs: 0, steps: 1 },
      { webhook: { url: webhookUrl } },
    );
    // The server's own deliveries are all in before the fault, so that only this test's reach it.
    await deliveriesUntil(
      srv.baseUrl,
      task.id,
      (log) => log.deliveries.length === 4 && nonePending(log),
      'all delivered',
    );
    await postFault(srv.baseUrl, { kind: 'receiver', runId: tag.runId, mode: 'fail-500', count: 1 });

    const secret = (await srv.app.webhooks.secretForTask(task.id)) ?? '';
    const [queued] = await srv.app.engine.eventsAfter(task.id, 0);
    const body = JSON.stringify({
      type: 'task.queued',
      timestamp: new Date(queued?.at ?? 0).toISOString(),
      data: queued,
    });
    const deliver = (headers: Record<string, string>) =>
      fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const signedAs = (id: string, key = secret) => {
      const at = new Date();
      return {
        [WEBHOOK_HEADERS.id]: id,
        [WEBHOOK_HEADERS.timestamp]: String(Math.floor(at.getTime() / 1000)),
        [WEBHOOK_HEADERS.signature]: new Webhook(key).sign(id, at, body),
      };
    };

    // Forged deliveries naming the run's task: refused on their signature, the fault untouched.
    expect((await deliver({})).status).toBe(401);
    expect(
      (await deliver(signedAs('msg_forged', 'whsec_bm90IHRoZSB0YXNrJ3Mgc2VjcmV0IGF0IGFsbA=='))).status,
    ).toBe(401);
    // The first genuine delivery meets the fault (its one count), the next is taken.
    expect((await deliver(signedAs('msg_genuine_1'))).status).toBe(500);
    expect((await deliver(signedAs('msg_genuine_2'))).status).toBe(200);
  });

  it('without a count, holds until set back to normal', async () => {
    const tag: LabTag = { lane: 'webhook', runId: newRunId() };
    await postFault(srv.baseUrl, { kind: 'receiver', runId: tag.runId, mode: 'fail-500' });
    const webhookUrl = srv.app.receiver.urls()?.webhookUrl ?? '';
    const { task } = await createAsync(
      srv.baseUrl,
      tag,
      { durationMs: 0, steps: 1 },
      { webhook: { url: webhookUrl } },
    );
    await deliveriesUntil(
      srv.baseUrl,
      task.id,
      (log) => (log.deliveries[0]?.attempts.length ?? 0) >= 3,
      '3 refused attempts',
    );
    const normal = await postFault(srv.baseUrl, { kind: 'receiver', runId: tag.runId, mode: 'normal' });
    expect(normal.summary).toBe('Receiver answers normally again.');
    const log = await deliveriesUntil(
      srv.baseUrl,
      task.id,
      (l) => l.deliveries.length === 4 && nonePending(l),
      'all delivered',
    );
    const firstStatuses = log.deliveries[0]?.attempts.map((a) => a.httpStatus) ?? [];
    expect(firstStatuses.at(-1)).toBe(200);
    expect(firstStatuses.slice(0, -1).every((s) => s === 500)).toBe(true);
    expect((await getDeliveries(srv.baseUrl, task.id)).deliveries.every((d) => d.state === 'delivered')).toBe(
      true,
    );
  });
});

describe('slow-downstream', () => {
  it('holds the running task: the blocking call answers 504 with Location, and the task still succeeds', async () => {
    const srv = await startTestServer({ SYNC_TIMEOUT_MS: '1000' });
    cleanups.push(() => srv.close());
    const tag: LabTag = { lane: 'request-response', runId: newRunId() };
    const started = whenEvent(srv.app, (event) => event.type === 'started');
    const answer = fetch(`${srv.baseUrl}${API_PATHS.run}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...labTagHeaders(tag) },
      body: JSON.stringify({ durationMs: 600, steps: 3 }),
    });
    const { taskId } = await started;
    const record = await postFault(srv.baseUrl, {
      kind: 'slow-downstream',
      runId: tag.runId,
      stallMs: 1_500,
    });
    expect(record.affected).toBe(1);
    const res = await answer;
    expect(res.status).toBe(504);
    const { error } = ErrorEnvelope.parse(await res.json());
    expect(error.code).toBe('SYNC_TIMEOUT');
    const details = SyncTimeoutDetails.parse(error.details);
    expect(details.taskId).toBe(taskId);
    expect(res.headers.get(HTTP_HEADERS.location)).toBe(API_PATHS.task(taskId));
    const { final } = await pollToEnd(srv.baseUrl, tag, details.location, 200);
    expect(final.status).toBe('succeeded');
    // No progress for the stall: the first step after the fault came at least stallMs after it.
    const events = await srv.app.engine.eventsAfter(taskId, 0);
    const firstAfter = events.find((event) => event.type === 'progress' && event.at > record.at);
    expect((firstAfter?.at ?? 0) - record.at).toBeGreaterThanOrEqual(1_500);
  });

  it('counts nothing when the run has no running task', async () => {
    const srv = await startTestServer();
    cleanups.push(() => srv.close());
    const record = await postFault(srv.baseUrl, { kind: 'slow-downstream', runId: newRunId(), stallMs: 100 });
    expect(record.affected).toBe(0);
  });
});

describe('buffer-streams', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.close());

  /** Reads the run's task stream, stamping each event with its arrival (same process clock as the server). */
  async function readStamped(tag: LabTag, taskId: string) {
    const res = await fetch(
      `${srv.baseUrl}${API_PATHS.stream(taskId)}?${new URLSearchParams(labTagQuery(tag))}`,
    );
    const arrivals: Array<{ event: TaskEvent; at: number }> = [];
    const parser = createParser({
      onEvent(message) {
        if (message.event === SSE.wireEvent) return;
        arrivals.push({ event: TaskEvent.parse(JSON.parse(message.data)), at: epochNow() });
      },
    });
    const decoder = new TextDecoder();
    if (!res.body) throw new Error('no body');
    for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    return { res, arrivals };
  }

  it('holds a small stream to its end: every event arrives, in order, all after the task ended', async () => {
    const tag: LabTag = { lane: 'sse', runId: newRunId() };
    await postFault(srv.baseUrl, { kind: 'buffer-streams', runId: tag.runId, on: true });
    const { task } = await createAsync(srv.baseUrl, tag, { durationMs: 500, steps: 5 });
    const { res, arrivals } = await readStamped(tag, task.id);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = arrivals.map((a) => a.event);
    expect(streamBreaches(events, 5)).toEqual([]);
    const terminalAt = events.find(isTerminalEvent)?.at ?? Number.POSITIVE_INFINITY;
    // The first event (queued, 500 ms before the end) reached the reader only after the end.
    expect(Math.min(...arrivals.map((a) => a.at))).toBeGreaterThanOrEqual(terminalAt);
  });

  it('on: false releases what an open stream holds at once, and later events flow as usual', async () => {
    const tag: LabTag = { lane: 'sse', runId: newRunId() };
    await postFault(srv.baseUrl, {
      kind: 'buffer-streams',
      runId: tag.runId,
      on: true,
      bufferBytes: 1_048_576,
    });
    const { task } = await createAsync(srv.baseUrl, tag, { durationMs: 2_000, steps: 10 });
    const reading = readStamped(tag, task.id);
    await whenEvent(
      srv.app,
      (event) => event.taskId === task.id && event.type === 'progress' && event.step === 3,
    );
    const release = await postFault(srv.baseUrl, { kind: 'buffer-streams', runId: tag.runId, on: false });
    expect(release.affected).toBe(1);
    const { arrivals } = await reading;
    const events = arrivals.map((a) => a.event);
    expect(streamBreaches(events, 10)).toEqual([]);
    // Held until the release: nothing reached the reader before it; everything up to step 3 came with it.
    const third = arrivals.find((a) => a.event.type === 'progress' && a.event.step === 3);
    expect(Math.min(...arrivals.map((a) => a.at))).toBeGreaterThanOrEqual(release.at);
    expect(third?.at).toBeGreaterThanOrEqual(release.at);
    // After the release, the last steps arrive as they happen (well before the end of the task).
    const terminal = arrivals.find((a) => isTerminalEvent(a.event));
    expect((terminal?.at ?? 0) - (terminal?.event.at ?? 0)).toBeLessThan(500);
  });

  it('holds the webhook relay too: every relayed event arrives, in order, after the task ended', async () => {
    const tag: LabTag = { lane: 'webhook', runId: newRunId() };
    await postFault(srv.baseUrl, { kind: 'buffer-streams', runId: tag.runId, on: true });
    const webhookUrl = srv.app.receiver.urls()?.webhookUrl ?? '';
    const { task } = await createAsync(
      srv.baseUrl,
      tag,
      { durationMs: 500, steps: 5 },
      { webhook: { url: webhookUrl } },
    );
    const res = await fetch(
      `${srv.receiverUrl}/relay/tasks/${task.id}?${new URLSearchParams(labTagQuery(tag))}`,
    );
    const arrivals: Array<{ event: TaskEvent; at: number }> = [];
    const parser = createParser({
      onEvent(message) {
        if (message.event === SSE.wireEvent) return;
        arrivals.push({ event: RelayMessage.parse(JSON.parse(message.data)).payload.data, at: epochNow() });
      },
    });
    const decoder = new TextDecoder();
    if (!res.body) throw new Error('no body');
    for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    const events = arrivals.map((a) => a.event);
    expect(streamBreaches(events, 5)).toEqual([]);
    const terminalAt = events.find(isTerminalEvent)?.at ?? Number.POSITIVE_INFINITY;
    expect(Math.min(...arrivals.map((a) => a.at))).toBeGreaterThanOrEqual(terminalAt);
  });

  it('buffers only the named run: another run’s stream gets each event as it happens', async () => {
    const buffered: LabTag = { lane: 'sse', runId: newRunId() };
    const free: LabTag = { lane: 'sse', runId: newRunId() };
    await postFault(srv.baseUrl, { kind: 'buffer-streams', runId: buffered.runId, on: true });
    const { task } = await createAsync(srv.baseUrl, free, { durationMs: 500, steps: 5 });
    const { arrivals } = await readStamped(free, task.id);
    const terminalAt = arrivals.find((a) => isTerminalEvent(a.event))?.event.at ?? 0;
    expect(Math.min(...arrivals.map((a) => a.at))).toBeLessThan(terminalAt);
  });
});

describe('lose-answers', () => {
  /** `POST /api/tasks` for the run, once; the network error of a lost answer is returned, not thrown. */
  async function create(baseUrl: string, tag: LabTag, key?: string) {
    try {
      const res = await fetch(`${baseUrl}${API_PATHS.tasks}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...labTagHeaders(tag),
          ...(key ? { [HTTP_HEADERS.idempotencyKey]: key } : {}),
        },
        body: JSON.stringify({ spec: { durationMs: 200, steps: 1 } }),
      });
      const { task } = (await res.json()) as { task: { id: string } };
      return { status: res.status, taskId: task.id, replayed: res.headers.get('idempotent-replayed') };
    } catch (error) {
      return { lost: error instanceof Error };
    }
  }

  it('creates the task, cuts the connection before the answer; a retry without a key runs it twice', async () => {
    const srv = await startTestServer();
    cleanups.push(() => srv.close());
    const tag: LabTag = { lane: 'short-polling', runId: newRunId() };
    const record = await postFault(srv.baseUrl, { kind: 'lose-answers', runId: tag.runId, count: 1 });
    expect(record.summary).toMatch(/answer to this run's next task creation will be lost/);
    expect(await create(srv.baseUrl, tag)).toEqual({ lost: true });
    const retry = await create(srv.baseUrl, tag);
    expect(retry).toMatchObject({ status: 202, replayed: null });
    const { report } = await readWire(srv.baseUrl, tag.runId);
    expect(report?.lanes['short-polling']).toMatchObject({ requests: 2, tasksCreated: 2 });
  });

  it('with an Idempotency-Key the retry replays the stored answer: one task', async () => {
    const srv = await startTestServer();
    cleanups.push(() => srv.close());
    const tag: LabTag = { lane: 'short-polling', runId: newRunId() };
    await postFault(srv.baseUrl, { kind: 'lose-answers', runId: tag.runId, count: 1 });
    const key = 'retry-test-key-0001';
    expect(await create(srv.baseUrl, tag, key)).toEqual({ lost: true });
    const retry = await create(srv.baseUrl, tag, key);
    expect(retry).toMatchObject({ status: 202, replayed: 'true' });
    const { report } = await readWire(srv.baseUrl, tag.runId);
    expect(report?.lanes['short-polling']).toMatchObject({ requests: 2, tasksCreated: 1 });
  });

  it('spends its count, and touches only the named run', async () => {
    const srv = await startTestServer();
    cleanups.push(() => srv.close());
    const tag: LabTag = { lane: 'short-polling', runId: newRunId() };
    const other: LabTag = { lane: 'short-polling', runId: newRunId() };
    await postFault(srv.baseUrl, { kind: 'lose-answers', runId: tag.runId, count: 2 });
    expect(await create(srv.baseUrl, other)).toMatchObject({ status: 202 });
    expect(await create(srv.baseUrl, tag)).toEqual({ lost: true });
    expect(await create(srv.baseUrl, tag)).toEqual({ lost: true });
    expect(await create(srv.baseUrl, tag)).toMatchObject({ status: 202 });
  });
});

describe('attack-webhooks', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ WEBHOOK_SCHEDULE_SCALE: '0.0005' });
  });
  afterAll(() => srv.close());

  async function deliveredTask(tag: LabTag, url = srv.app.receiver.urls()?.webhookUrl ?? '') {
    const { task } = await createAsync(srv.baseUrl, tag, { durationMs: 0, steps: 1 }, { webhook: { url } });
    await deliveriesUntil(
      srv.baseUrl,
      task.id,
      (log) => log.deliveries.length === 4 && nonePending(log),
      'all delivered',
    );
    return task.id;
  }

  it('the receiver refuses the tampered, made-up and stale copies (401) and acknowledges the replay as a duplicate', async () => {
    const tag: LabTag = { lane: 'webhook', runId: newRunId() };
    const taskId = await deliveredTask(tag);
    const record = await postFault(srv.baseUrl, { kind: 'attack-webhooks', runId: tag.runId, taskId });
    const attacks = record.webhookAttacks ?? [];
    expect(attacks.map((a) => [a.kind, a.httpStatus, a.code ?? null, a.duplicate])).toEqual([
      ['tampered-body', 401, 'WEBHOOK_SIGNATURE_INVALID', false],
      ['wrong-secret', 401, 'WEBHOOK_SIGNATURE_INVALID', false],
      ['replayed', 200, null, true],
      ['stale-timestamp', 401, 'WEBHOOK_SIGNATURE_INVALID', false],
    ]);
    expect(attacks[3]?.message).toMatch(/timestamp too old/i);
    // The replay carried the captured delivery's own id; the forged copies new ones.
    const log = await getDeliveries(srv.baseUrl, taskId);
    expect(log.deliveries.map((d) => d.id)).toContain(attacks[2]?.webhookId);
    expect(record.summary).toMatch(/3 refused \(401\), 1 acknowledged as a duplicate/);
    // Once per task.
    const again = await post(srv.baseUrl, { kind: 'attack-webhooks', runId: tag.runId, taskId });
    expect(again.status).toBe(409);
    expect(ErrorEnvelope.parse(again.json).error.code).toBe('FAULT_ALREADY_APPLIED');
  });

  it('refuses a task of another run, and a task without webhooks (404): nothing is sent', async () => {
    const tag: LabTag = { lane: 'webhook', runId: newRunId() };
    const taskId = await deliveredTask(tag);
    const other = await post(srv.baseUrl, { kind: 'attack-webhooks', runId: newRunId(), taskId });
    expect(other.status).toBe(404);
    const plain = await createAsync(srv.baseUrl, tag, { durationMs: 0, steps: 1 });
    const none = await post(srv.baseUrl, {
      kind: 'attack-webhooks',
      runId: tag.runId,
      taskId: plain.task.id,
    });
    expect(none.status).toBe(404);
    expect(ErrorEnvelope.parse(none.json).error.message).toMatch(/no webhook subscriber/);
  });
});

describe('GET /api/runs/{runId}/tasks', () => {
  it('lists the run’s tasks with their lanes and states, a blocking call cut by its client cancelled too', async () => {
    const srv = await startTestServer();
    cleanups.push(() => srv.close());
    const runId = newRunId();
    const polled = await createAsync(
      srv.baseUrl,
      { lane: 'short-polling', runId },
      { durationMs: 5_000, steps: 5 },
    );
    const cancel = await fetch(`${srv.baseUrl}${API_PATHS.cancel(polled.task.id)}`, {
      method: 'POST',
      headers: labTagHeaders({ lane: 'short-polling', runId }),
    });
    expect(cancel.status).toBeLessThan(300);
    // A blocking call whose client goes away: the server cancels its task (request-response's lane).
    const started = whenEvent(
      srv.app,
      (event) => event.type === 'started' && event.taskId !== polled.task.id,
    );
    const aborted = new AbortController();
    const blocking = fetch(`${srv.baseUrl}${API_PATHS.run}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...labTagHeaders({ lane: 'request-response', runId }) },
      body: JSON.stringify({ durationMs: 5_000, steps: 5 }),
      signal: aborted.signal,
    }).catch(() => undefined);
    const { taskId: blockingId } = await started;
    aborted.abort();
    await blocking;
    await whenEvent(srv.app, (event) => event.taskId === blockingId && isTerminalEvent(event));
    const list = await until(
      async () => {
        const res = await fetch(`${srv.baseUrl}${API_PATHS.runTasks(runId)}`);
        return RunTasksResponse.parse(await res.json());
      },
      (body) => body.tasks.length === 2,
      'both tasks listed',
    );
    expect(list.tasks.map((t) => [t.lane, t.task.status])).toEqual([
      ['short-polling', 'cancelled'],
      ['request-response', 'cancelled'],
    ]);
    const other = await fetch(`${srv.baseUrl}${API_PATHS.runTasks(newRunId())}`);
    expect(RunTasksResponse.parse(await other.json()).tasks).toEqual([]);
    const bad = await fetch(`${srv.baseUrl}${API_PATHS.runTasks('x')}`);
    expect(bad.status).toBe(400);
  });
});

describe('idle-timeout', () => {
  it('cuts a quiet event stream after idleMs with nothing written, before the task’s next step', async () => {
    const srv = await startTestServer();
    cleanups.push(() => srv.close());
    const tag: LabTag = { lane: 'sse', runId: newRunId() };
    const record = await postFault(srv.baseUrl, {
      kind: 'idle-timeout',
      runId: tag.runId,
      on: true,
      idleMs: 1_000,
    });
    expect(record.summary).toMatch(/quiet for 1000 ms/);
    const { task } = await createAsync(srv.baseUrl, tag, { durationMs: 4_000, steps: 1 });
    const opened = performance.now();
    const res = await fetch(
      `${srv.baseUrl}${API_PATHS.stream(task.id)}?${new URLSearchParams(labTagQuery(tag))}`,
    );
    expect(res.status).toBe(200);
    let text = '';
    const reader = res.body?.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) break;
        text += decoder.decode(chunk.value);
      }
    } catch {
      // The cut: the connection closed mid-answer.
    }
    const lasted = performance.now() - opened;
    expect(lasted).toBeGreaterThanOrEqual(950);
    expect(lasted).toBeLessThan(3_500);
    // Cut before the step: no terminal event came.
    expect(text).not.toMatch(/"type":"succeeded"/);
  });

  it('cuts a long poll held with nothing to say; a poll answered sooner is not touched', async () => {
    const srv = await startTestServer();
    cleanups.push(() => srv.close());
    const tag: LabTag = { lane: 'long-polling', runId: newRunId() };
    await postFault(srv.baseUrl, { kind: 'idle-timeout', runId: tag.runId, on: true, idleMs: 1_000 });
    const { task } = await createAsync(srv.baseUrl, tag, { durationMs: 4_000, steps: 1 });
    const poll = (after: number) =>
      fetch(`${srv.baseUrl}${API_PATHS.events(task.id)}?after=${after}&waitMs=3000`, {
        headers: labTagHeaders(tag),
      });
    const first = await poll(0);
    expect(first.status).toBe(200);
    const opened = performance.now();
    const held = await poll(task.lastSeq + 1).then(
      (res) => res.text(),
      (error: unknown) => error,
    );
    expect(held).toBeInstanceOf(Error);
    expect(performance.now() - opened).toBeLessThan(2_500);
  });
});
