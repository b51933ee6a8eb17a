import { Agent, get as httpGet } from 'node:http';
import {
  API_PATHS,
  CreateTaskResponse,
  EventsResponse,
  HTTP_HEADERS,
  HTTP_STREAMING,
  isTerminalEvent,
  LAB_TAGS,
  type LabTag,
  type LaneId,
  labTagHeaders,
  labTagQuery,
  RelayMessage,
  SOCKET_EVENTS,
  TaskEvent,
  TaskResponse,
  TERMINAL_STATUSES,
  type WireCounts,
} from '@transport-lab/shared';
import { io as connect } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventCollector, emitAck, type LabClient, startTestServer, type TestServer } from './harness.ts';
import { readNdjson } from './httpClients.ts';
import { deliveriesUntil, nonePending, startTestReceiver } from './webhooksHarness.ts';
import {
  type CountingProxy,
  metricSum,
  newRunId,
  type ProxyCount,
  readEventStream,
  readWire,
  settledReport,
  startCountingProxy,
  taggedUrl,
  until,
} from './wireHarness.ts';

/** Small enough that a failed delivery's retries come within tens of milliseconds. */
const SCALE = 0.0005;

let server: TestServer;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  // 127.0.0.1 on any port: the counting proxies in front of the receivers are webhook targets.
  server = await startTestServer({
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    WEBHOOK_SCHEDULE_SCALE: String(SCALE),
  });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await server.close();
});

const port = (origin: string) => Number(new URL(origin).port);

async function proxyTo(origin: string): Promise<CountingProxy> {
  const proxy = await startCountingProxy(port(origin));
  cleanups.push(() => proxy.close());
  return proxy;
}

const json = { 'content-type': 'application/json' };

async function postTask(origin: string, tag: LabTag, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${origin}${API_PATHS.tasks}`, {
    method: 'POST',
    headers: { ...json, ...labTagHeaders(tag), ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: CreateTaskResponse.parse(await res.json()) };
}

/** A task created straight at the server, untagged: what curl would do. */
async function createUntagged(spec: unknown): Promise<string> {
  const res = await fetch(`${server.baseUrl}${API_PATHS.tasks}`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ spec }),
  });
  expect(res.status).toBe(202);
  return CreateTaskResponse.parse(await res.json()).task.id;
}

/** Reads the task stream (`?after=0` and the tags in the query, as an EventSource URL). */
async function streamToEnd(origin: string, tag: LabTag, taskId: string): Promise<TaskEvent[]> {
  const read = await readEventStream(taggedUrl(`${origin}${API_PATHS.stream(taskId)}`, tag, { after: '0' }));
  expect(read.status).toBe(200);
  expect(read.endedByServer).toBe(true);
  return read.data.map((data) => TaskEvent.parse(JSON.parse(data)));
}

function socketClient(origin: string, tag: LabTag, transports: Array<'polling' | 'websocket'>): LabClient {
  const socket: LabClient = connect(origin, {
    transports,
    reconnection: false,
    forceNew: true,
    query: labTagQuery(tag),
  });
  cleanups.push(() => {
    socket.disconnect();
  });
  return socket;
}

/** What a lane driver did, by its own count, and the other channels' proxies to compare. */
interface Driven {
  requests: number;
  /** Tasks the driver created (the hybrid's quick one and its slow one: 2). */
  tasks?: number;
  serverToReceiver?: { proxy: CountingProxy; attempts: number };
  receiverToPage?: { proxy: CountingProxy; requests: number };
}

/** Each lane run as a program would run it, every request tagged, all through `origin`. */
const drivers: Record<LaneId, (origin: string, tag: LabTag) => Promise<Driven>> = {
  async 'request-response'(origin, tag) {
    const res = await fetch(`${origin}${API_PATHS.run}`, {
      method: 'POST',
      headers: { ...json, ...labTagHeaders(tag) },
      body: JSON.stringify({ durationMs: 200, steps: 4, resultBytes: 3_000 }),
    });
    expect(res.status).toBe(200);
    expect(TaskResponse.parse(await res.json()).task.status).toBe('succeeded');
    return { requests: 1 };
  },

  async 'short-polling'(origin, tag) {
    const created = await postTask(origin, tag, { spec: { durationMs: 300, steps: 3 } });
    expect(created.status).toBe(202);
    let requests = 1;
    let etag: string | null = null;
    for (;;) {
      const res = await fetch(`${origin}${API_PATHS.task(created.json.task.id)}`, {
        headers: { ...labTagHeaders(tag), ...(etag ? { [HTTP_HEADERS.ifNoneMatch]: etag } : {}) },
      });
      requests++;
      if (res.status === 304) {
        await res.arrayBuffer();
      } else {
        etag = res.headers.get(HTTP_HEADERS.etag);
        if (TERMINAL_STATUSES.has(TaskResponse.parse(await res.json()).task.status)) return { requests };
      }
      // The polling interval is the lane itself here, not a wait for synchronisation.
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
  },

  async 'long-polling'(origin, tag) {
    const created = await postTask(origin, tag, { spec: { durationMs: 300, steps: 3 } });
    let requests = 1;
    let after = 0;
    let ended = false;
    while (!ended) {
      const res = await fetch(
        `${origin}${API_PATHS.events(created.json.task.id)}?after=${after}&waitMs=2000`,
        {
          headers: labTagHeaders(tag),
        },
      );
      requests++;
      const answer = EventsResponse.parse(await res.json());
      ended = answer.events.some(isTerminalEvent);
      after = answer.nextAfter;
    }
    return { requests };
  },

  async sse(origin, tag) {
    const created = await postTask(origin, tag, { spec: { durationMs: 300, steps: 3 } });
    const events = await streamToEnd(origin, tag, created.json.task.id);
    expect(events.at(-1)?.type).toBe('succeeded');
    return { requests: 2 };
  },

  async 'http-streaming'(origin, tag) {
    const created = await postTask(origin, tag, { spec: { durationMs: 300, steps: 3 } });
    expect(created.status).toBe(202);
    const read = await readNdjson(
      `${origin}${HTTP_STREAMING.path(created.json.task.id)}?after=0`,
      labTagHeaders(tag),
    );
    expect(read.status).toBe(200);
    expect(read.events.at(-1)?.type).toBe('succeeded');
    return { requests: 2 };
  },

  async webhook(origin, tag) {
    // Deliveries go through one proxy to the built-in receiver; the page reads the relay through another.
    const toReceiver = await proxyTo(server.receiverUrl);
    const relay = await proxyTo(server.receiverUrl);
    const created = await postTask(origin, tag, {
      spec: { durationMs: 200, steps: 3 },
      webhook: { url: `${toReceiver.origin}/webhooks` },
    });
    expect(created.status).toBe(202);
    const taskId = created.json.task.id;
    const read = await readEventStream(taggedUrl(`${relay.origin}/relay/tasks/${taskId}`, tag), (data) =>
      data.some((d) => isTerminalEvent(RelayMessage.parse(JSON.parse(d)).payload.data)),
    );
    expect(read.status).toBe(200);
    const log = await deliveriesUntil(server.baseUrl, taskId, nonePending, 'every delivery ended');
    const attempts = log.deliveries.reduce((sum, d) => sum + d.attempts.length, 0);
    expect(attempts).toBe(6); // queued, started, 3 × progress, succeeded: each accepted at once
    return {
      requests: 1,
      serverToReceiver: { proxy: toReceiver, attempts },
      receiverToPage: { proxy: relay, requests: 1 },
    };
  },

  async websocket(origin, tag) {
    const socket = socketClient(origin, tag, ['websocket']);
    const events = new EventCollector(socket);
    const wire = new Promise((resolve) => socket.once(SOCKET_EVENTS.wire, resolve));
    const ack = await emitAck(socket, SOCKET_EVENTS.start, { durationMs: 200, steps: 4 });
    if (!ack.ok) throw new Error(ack.error.message);
    await wire; // the connection:wire frame is traffic too
    await events.terminal(ack.task.id);
    socket.disconnect();
    return { requests: 1 };
  },

  async hybrid(origin, tag) {
    const quick = await postTask(
      origin,
      tag,
      { spec: { durationMs: 50, steps: 2 } },
      { [HTTP_HEADERS.prefer]: 'respond-async, wait=5' },
    );
    expect(quick.status).toBe(200);
    const slow = await postTask(
      origin,
      tag,
      { spec: { durationMs: 300, steps: 3 } },
      { [HTTP_HEADERS.prefer]: 'respond-async, wait=0' },
    );
    expect(slow.status).toBe(202);
    const events = await streamToEnd(origin, tag, slow.json.task.id);
    expect(events.at(-1)?.type).toBe('succeeded');
    return { requests: 3, tasks: 2 };
  },
};

/** Lets go of idle keep-alive connections (the clients' pools would hold them for seconds), so
 *  that every connection's close, and with it the final count, is seen on both sides. */
function closeIdleConnections(): void {
  server.app.httpServer.closeIdleConnections();
  server.app.receiver.httpServer.closeIdleConnections();
}

/** Every connection that carried bytes is closed on both legs, so its count is final. */
async function proxiesClosed(...proxies: CountingProxy[]): Promise<void> {
  await until(
    () => proxies.map((p) => p.used().filter((c) => !c.closed).length),
    (open) => open.every((n) => n === 0),
    'every proxied connection that carried bytes closed',
  );
}

const zeroTally = { requests: 0, bytesUp: 0, bytesDown: 0 };
const zeroConnections = { ...zeroTally, connectionsOpened: 0, openConnections: 0, maxOpenConnections: 0 };

describe('the server counts each lane on its sockets exactly as a TCP proxy between client and server sees it', () => {
  it.for(Object.keys(drivers) as LaneId[])('%s', async (lane, { annotate }) => {
    const proxy = await proxyTo(server.baseUrl);
    const tag: LabTag = { lane, runId: newRunId() };
    const driven = await drivers[lane](proxy.origin, tag);
    closeIdleConnections();
    await proxiesClosed(
      proxy,
      ...(driven.serverToReceiver ? [driven.serverToReceiver.proxy] : []),
      ...(driven.receiverToPage ? [driven.receiverToPage.proxy] : []),
    );
    const report = await settledReport(server.baseUrl, tag.runId, { connectionsClosed: true });

    expect(Object.keys(report.lanes)).toEqual([lane]);
    const counts = report.lanes[lane] as WireCounts;
    expect(counts).toEqual({
      requests: driven.requests,
      bytesUp: proxy.up,
      bytesDown: proxy.down,
      connectionsOpened: proxy.used().length,
      openConnections: 0,
      maxOpenConnections: proxy.maxOpenUsed(),
      serverToReceiver: driven.serverToReceiver
        ? {
            requests: driven.serverToReceiver.attempts,
            bytesUp: driven.serverToReceiver.proxy.up,
            bytesDown: driven.serverToReceiver.proxy.down,
          }
        : zeroTally,
      receiverToPage: driven.receiverToPage
        ? {
            requests: driven.receiverToPage.requests,
            bytesUp: driven.receiverToPage.proxy.up,
            bytesDown: driven.receiverToPage.proxy.down,
            connectionsOpened: driven.receiverToPage.proxy.used().length,
            openConnections: 0,
            maxOpenConnections: driven.receiverToPage.proxy.maxOpenUsed(),
          }
        : zeroConnections,
      tasksCreated: driven.tasks ?? 1,
    } satisfies WireCounts);
    if (driven.serverToReceiver)
      expect(driven.serverToReceiver.proxy.used()).toHaveLength(driven.serverToReceiver.attempts);
    expect(counts.bytesUp).toBeGreaterThan(0);
    expect(counts.bytesDown).toBeGreaterThan(0);

    const figures = [
      `page: ${counts.requests} requests, ${counts.connectionsOpened} connections, ` +
        `${counts.bytesUp} B up / ${counts.bytesDown} B down (proxy ${proxy.up} / ${proxy.down})`,
    ];
    if (driven.serverToReceiver)
      figures.push(
        `serverToReceiver: ${counts.serverToReceiver.requests} attempts, ${counts.serverToReceiver.bytesUp} B up / ` +
          `${counts.serverToReceiver.bytesDown} B down (proxy ${driven.serverToReceiver.proxy.up} / ${driven.serverToReceiver.proxy.down})`,
      );
    if (driven.receiverToPage)
      figures.push(
        `receiverToPage: ${counts.receiverToPage.requests} request, ${counts.receiverToPage.bytesUp} B up / ` +
          `${counts.receiverToPage.bytesDown} B down (proxy ${driven.receiverToPage.proxy.up} / ${driven.receiverToPage.proxy.down})`,
      );
    await annotate(`${lane}: ${figures.join('; ')}`);
  });

  it('counts socket.io’s polling requests and its upgrade alike, tagged by the handshake query', async ({
    annotate,
  }) => {
    const proxy = await proxyTo(server.baseUrl);
    const tag: LabTag = { lane: 'websocket', runId: newRunId() };
    const socket = socketClient(proxy.origin, tag, ['polling', 'websocket']);
    const events = new EventCollector(socket);
    const upgraded = new Promise<void>((resolve) => socket.io.engine.once('upgrade', () => resolve()));
    const ack = await emitAck(socket, SOCKET_EVENTS.start, { durationMs: 300, steps: 3 });
    if (!ack.ok) throw new Error(ack.error.message);
    await events.terminal(ack.task.id);
    await upgraded;
    socket.disconnect();
    closeIdleConnections();
    await proxiesClosed(proxy);
    const report = await settledReport(server.baseUrl, tag.runId, { connectionsClosed: true });

    const counts = report.lanes.websocket as WireCounts;
    expect({ bytesUp: counts.bytesUp, bytesDown: counts.bytesDown }).toEqual({
      bytesUp: proxy.up,
      bytesDown: proxy.down,
    });
    expect(counts.connectionsOpened).toBe(proxy.used().length);
    // At least the handshake poll and the upgrade; the polls in between depend on timing.
    expect(counts.requests).toBeGreaterThanOrEqual(2);
    expect(proxy.used().length).toBeGreaterThanOrEqual(2);
    await annotate(
      `websocket via polling: ${counts.requests} requests, ${counts.connectionsOpened} connections, ` +
        `${counts.bytesUp} B up / ${counts.bytesDown} B down (proxy ${proxy.up} / ${proxy.down})`,
    );
  });

  it('reads an open WebSocket live: the count during the run already has what the proxy forwarded', async () => {
    const proxy = await proxyTo(server.baseUrl);
    const tag: LabTag = { lane: 'websocket', runId: newRunId() };
    const socket = socketClient(proxy.origin, tag, ['websocket']);
    const events = new EventCollector(socket);
    const ack = await emitAck(socket, SOCKET_EVENTS.start, { durationMs: 1_000, steps: 10 });
    if (!ack.ok) throw new Error(ack.error.message);
    await events.until(ack.task.id, (list) => list.filter((e) => e.type === 'progress').length >= 2);
    const seen = proxy.snapshot();
    const { report } = await readWire(server.baseUrl, tag.runId);
    const live = report?.lanes.websocket as WireCounts;
    expect(report?.openStreams).toBe(1);
    expect(live.openConnections).toBe(1);
    // The server wrote at least what the proxy has passed on; it read exactly what the client sent.
    expect(live.bytesDown).toBeGreaterThanOrEqual(seen.down);
    expect(live.bytesUp).toBe(seen.up);
    await events.terminal(ack.task.id);
  });
});

/** One keep-alive connection, as a client that reuses its connection between requests has. */
function oneConnection(): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  cleanups.push(() => agent.destroy());
  return agent;
}

/** One GET through the proxy on `agent`'s connection, with the bytes it took each way. */
async function exchange(
  proxy: CountingProxy,
  agent: Agent,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; bytes: ProxyCount; body: string }> {
  const before = proxy.snapshot();
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpGet(`${proxy.origin}${path}`, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const after = proxy.snapshot();
  return { status, bytes: { up: after.up - before.up, down: after.down - before.down }, body };
}

const sum = (list: ProxyCount[]) =>
  list.reduce((total, b) => ({ up: total.up + b.up, down: total.down + b.down }), { up: 0, down: 0 });

describe('what is not a lane’s is not counted', () => {
  it('leaves out untagged requests on a connection shared with tagged ones, and untagged lanes altogether', async () => {
    const before = await (await fetch(`${server.baseUrl}${API_PATHS.metrics}`)).text();
    // An untagged socket.io session and an untagged SSE lane, straight to the server.
    const untaggedSocket: LabClient = connect(server.baseUrl, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    cleanups.push(() => {
      untaggedSocket.disconnect();
    });
    const ack = await emitAck(untaggedSocket, SOCKET_EVENTS.start, { durationMs: 0, steps: 2 });
    if (!ack.ok) throw new Error(ack.error.message);
    untaggedSocket.disconnect();
    const id = await createUntagged({ durationMs: 0, steps: 2 });
    expect((await readEventStream(`${server.baseUrl}${API_PATHS.stream(id)}`)).data.length).toBe(5);

    // Tagged and untagged polls of one task, one keep-alive connection through the proxy.
    const proxy = await proxyTo(server.baseUrl);
    const agent = oneConnection();
    const tag: LabTag = { lane: 'short-polling', runId: newRunId() };
    const tagged = [
      await exchange(proxy, agent, API_PATHS.task(id), labTagHeaders(tag)),
      await exchange(proxy, agent, API_PATHS.task(id), labTagHeaders(tag)),
    ];
    const untagged = await exchange(proxy, agent, API_PATHS.task(id));
    tagged.push(await exchange(proxy, agent, API_PATHS.task(id), labTagHeaders(tag)));
    expect([...tagged, untagged].map((e) => e.status)).toEqual([200, 200, 200, 200]);
    expect(proxy.connections).toHaveLength(1);

    const report = await settledReport(server.baseUrl, tag.runId);
    const counts = report.lanes['short-polling'] as WireCounts;
    const expected = sum(tagged.map((e) => e.bytes));
    expect({ requests: counts.requests, bytesUp: counts.bytesUp, bytesDown: counts.bytesDown }).toEqual({
      requests: 3,
      bytesUp: expected.up,
      bytesDown: expected.down,
    });
    expect(proxy.up).toBe(expected.up + untagged.bytes.up);

    // Nothing untagged reached the totals: the only wire traffic counted since is the tagged polls.
    const after = await (await fetch(`${server.baseUrl}${API_PATHS.metrics}`)).text();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      metricSum(after, name, labels) - metricSum(before, name, labels);
    expect(delta('transport_lab_wire_requests_total')).toBe(3);
    expect(delta('transport_lab_wire_bytes_total', { direction: 'up' })).toBe(expected.up);
    expect(delta('transport_lab_wire_bytes_total', { direction: 'down' })).toBe(expected.down);
  });

  it('never counts the page’s observation routes, even tagged: a run with nothing else is unknown', async () => {
    const proxy = await proxyTo(server.baseUrl);
    const agent = oneConnection();
    const tag: LabTag = { lane: 'sse', runId: newRunId() };
    const headers = labTagHeaders(tag);
    const id = await createUntagged({ durationMs: 0, steps: 1 });
    const observations = [
      await exchange(proxy, agent, API_PATHS.time, headers),
      await exchange(proxy, agent, API_PATHS.settings, headers),
      await exchange(proxy, agent, API_PATHS.deliveries(id), headers),
      await exchange(proxy, agent, API_PATHS.wire(tag.runId), headers),
      await exchange(proxy, agent, API_PATHS.health, headers),
      await exchange(proxy, agent, API_PATHS.metrics, headers),
      await exchange(proxy, agent, `${API_PATHS.time}?${new URLSearchParams(labTagQuery(tag))}`),
    ];
    expect(observations.map((o) => o.status)).toEqual([200, 200, 200, 404, 200, 200, 200]);
    expect((await readWire(server.baseUrl, tag.runId)).status).toBe(404);

    // The same connection then carries a lane request: it alone is counted, and the connection
    // counts for the lane (its first tagged lane request).
    const lane = await exchange(
      proxy,
      agent,
      `${API_PATHS.stream(id)}?${new URLSearchParams(labTagQuery(tag))}`,
    );
    expect(lane.status).toBe(200);
    await exchange(proxy, agent, API_PATHS.time, headers);
    expect(proxy.connections).toHaveLength(1);
    const report = await settledReport(server.baseUrl, tag.runId);
    expect(report.lanes.sse).toMatchObject({
      requests: 1,
      bytesUp: lane.bytes.up,
      bytesDown: lane.bytes.down,
      connectionsOpened: 1,
    });
  });

  it('ignores malformed tags rather than refusing the request, and accepts tags in a long poll’s query', async () => {
    const proxy = await proxyTo(server.baseUrl);
    const agent = oneConnection();
    const tag: LabTag = { lane: 'long-polling', runId: newRunId() };
    const id = await createUntagged({ durationMs: 0, steps: 1 });
    const events = API_PATHS.events(id);
    const malformed: Array<Record<string, string>> = [
      { [LAB_TAGS.laneHeader]: 'carrier-pigeon', [LAB_TAGS.runHeader]: tag.runId },
      { [LAB_TAGS.laneHeader]: 'long-polling', [LAB_TAGS.runHeader]: 'short' },
      { [LAB_TAGS.laneHeader]: 'long-polling', [LAB_TAGS.runHeader]: 'has spaces in it' },
      { [LAB_TAGS.laneHeader]: 'long-polling' },
      { [LAB_TAGS.runHeader]: tag.runId },
    ];
    const ignored = [];
    for (const headers of malformed)
      ignored.push(await exchange(proxy, agent, `${events}?after=0&waitMs=0`, headers));
    // In the query: a repeated parameter, and a lane without its run.
    ignored.push(
      await exchange(
        proxy,
        agent,
        `${events}?after=0&waitMs=0&labLane=long-polling&labLane=sse&labRun=${tag.runId}`,
      ),
    );
    ignored.push(await exchange(proxy, agent, `${events}?after=0&waitMs=0&labLane=long-polling`));
    expect(ignored.map((e) => e.status)).toEqual(ignored.map(() => 200));
    expect((await readWire(server.baseUrl, tag.runId)).status).toBe(404);

    const counted = [
      await exchange(proxy, agent, `${events}?after=0&waitMs=0`, labTagHeaders(tag)),
      // EventsQuery is strict, yet the tags in the query are no error.
      await exchange(proxy, agent, taggedUrl(`${events}?after=1&waitMs=0`, tag)),
    ];
    expect(counted.map((e) => e.status)).toEqual([200, 200]);
    expect(EventsResponse.parse(JSON.parse(counted[1]?.body ?? '')).events).toHaveLength(3);
    expect(proxy.connections).toHaveLength(1);

    const report = await settledReport(server.baseUrl, tag.runId);
    const expected = sum(counted.map((e) => e.bytes));
    expect(report.lanes['long-polling']).toMatchObject({
      requests: 2,
      bytesUp: expected.up,
      bytesDown: expected.down,
      connectionsOpened: 1,
    });
    expect(proxy.up).toBe(expected.up + sum(ignored.map((e) => e.bytes)).up);
  });
});

describe('webhook attempts', () => {
  it('count under serverToReceiver for the lane the task was created by, every retry included', async () => {
    const flaky = await startTestReceiver((index) => ({ status: index < 2 ? 500 : 200 }));
    cleanups.push(() => flaky.close());
    const toReceiver = await proxyTo(`http://127.0.0.1:${flaky.port}`);
    const tag: LabTag = { lane: 'hybrid', runId: newRunId() };
    const created = await postTask(server.baseUrl, tag, {
      spec: { durationMs: 0, steps: 1 },
      webhook: { url: `${toReceiver.origin}/hook` },
    });
    const log = await deliveriesUntil(
      server.baseUrl,
      created.json.task.id,
      nonePending,
      'every delivery ended',
    );
    const attempts = log.deliveries.flatMap((d) => d.attempts);
    expect(attempts.map((a) => a.httpStatus)).toEqual([500, 500, 200, 200, 200, 200]);
    await proxiesClosed(toReceiver);
    const report = await settledReport(server.baseUrl, tag.runId);

    expect(Object.keys(report.lanes)).toEqual(['hybrid']);
    expect(report.lanes.hybrid?.serverToReceiver).toEqual({
      requests: attempts.length,
      bytesUp: toReceiver.up,
      bytesDown: toReceiver.down,
    });
    expect(toReceiver.used()).toHaveLength(attempts.length);
    expect(report.lanes.hybrid?.requests).toBe(1);
  });
});

describe('GET /api/wire/{runId} and /metrics', () => {
  it('answers 404 in the envelope for an unknown run and 400 for a malformed run id', async () => {
    const unknown = await readWire(server.baseUrl, newRunId());
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const malformed = await readWire(server.baseUrl, 'no/such');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });

  it('exposes the ledger’s totals per lane in /metrics', async () => {
    const own = await startTestServer();
    cleanups.push(() => own.close());
    const tag: LabTag = { lane: 'request-response', runId: newRunId() };
    const res = await fetch(`${own.baseUrl}${API_PATHS.run}`, {
      method: 'POST',
      headers: { ...json, ...labTagHeaders(tag) },
      body: JSON.stringify({ durationMs: 0, steps: 1 }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const report = await settledReport(own.baseUrl, tag.runId);
    const counts = report.lanes['request-response'] as WireCounts;
    const text = await (await fetch(`${own.baseUrl}${API_PATHS.metrics}`)).text();
    const lane = { lane: 'request-response', channel: 'page' };
    expect(metricSum(text, 'transport_lab_wire_requests_total', lane)).toBe(1);
    expect(metricSum(text, 'transport_lab_wire_bytes_total', { ...lane, direction: 'up' })).toBe(
      counts.bytesUp,
    );
    expect(metricSum(text, 'transport_lab_wire_bytes_total', { ...lane, direction: 'down' })).toBe(
      counts.bytesDown,
    );
    expect(metricSum(text, 'transport_lab_wire_connections_opened_total', lane)).toBe(1);
    expect(metricSum(text, 'transport_lab_wire_open_connections', lane)).toBe(counts.openConnections);
    // Label values are LaneIds and channels only: never a run id.
    expect(text).not.toContain(tag.runId);
  });
});
