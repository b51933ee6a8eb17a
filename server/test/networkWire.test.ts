import { connect as connectTcp, createServer as createNetServer, Socket } from 'node:net';
import {
  API_PATHS,
  isTerminalEvent,
  type LabTag,
  type LaneId,
  labTagHeaders,
  labTagQuery,
  RECEIVER_PATHS,
  SOCKET_EVENTS,
  type WireCounts,
} from '@transport-lab/shared';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkShaper, ShapedSocket } from '../src/network/index.ts';
import { QUEUE_BOUND_BYTES } from '../src/network/shapedSocket.ts';
import { emitAck, type LabClient, startTestServer, type TestServer } from './harness.ts';
import { Connection, chooseLink } from './networkHarness.ts';
import { deliveriesUntil, nonePending } from './webhooksHarness.ts';
import { newRunId, settledReport, startCountingProxy, taggedUrl, until } from './wireHarness.ts';

/**
 * A shaped connection changes when bytes move, never how many: the wire ledger's counts through
 * ShapedSockets equal a counting TCP proxy's, byte for byte, as they do unshaped (wire.test.ts).
 */

let server: TestServer;
/** 20 ms each way, 4 000 kbps down: latency, pacing and slicing all at work. */
let cookie: string;

beforeAll(async () => {
  // 127.0.0.1 on any port: the counting proxy in front of the receiver is a webhook target.
  server = await startTestServer({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
  ({ cookie } = await chooseLink(server.baseUrl, {
    custom: { latencyMs: 20, jitterMs: 5, downKbps: 4_000, upKbps: 2_000 },
  }));
});
afterAll(async () => {
  await server.close();
});

const port = (origin: string) => Number(new URL(origin).port);

/** How long each driver's tasks run, ms. */
const TASK_MS: Record<string, number> = {
  'request-response': 100,
  sse: 200,
  websocket: 200,
};

/** Each lane through its own proxy, with the link's cookie and the lane's tags, as a page would. */
const drivers: Partial<Record<LaneId, (origin: string, tag: LabTag) => Promise<number>>> = {
  async 'request-response'(origin, tag) {
    const connection = new Connection(origin, cookie);
    try {
      for (let i = 0; i < 2; i++) {
        const answer = await connection.request('POST', API_PATHS.run, {
          body: { durationMs: 50, steps: 2, resultBytes: 20_000 },
          headers: labTagHeaders(tag),
        });
        expect(answer.status).toBe(200);
      }
    } finally {
      connection.close();
    }
    return 2;
  },

  async sse(origin, tag) {
    const connection = new Connection(origin, cookie);
    try {
      const created = await connection.request('POST', API_PATHS.tasks, {
        body: { spec: { durationMs: 200, steps: 4, resultBytes: 10_000 } },
        headers: labTagHeaders(tag),
      });
      const id = JSON.parse(created.body).task.id as string;
      const stream = connection.stream(taggedUrl(API_PATHS.stream(id), tag));
      await until(() => stream.ended, Boolean, 'the stream ends with the task');
    } finally {
      connection.close();
    }
    return 2;
  },

  async websocket(origin, tag) {
    const socket: LabClient = connect(origin, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      query: labTagQuery(tag),
      extraHeaders: { cookie },
    });
    try {
      const ended = new Promise<void>((resolve) => {
        socket.on(SOCKET_EVENTS.event, (event) => {
          if (isTerminalEvent(event)) resolve();
        });
      });
      const ack = await emitAck(socket, SOCKET_EVENTS.start, {
        durationMs: 200,
        steps: 4,
        resultBytes: 10_000,
      });
      expect(ack.ok).toBe(true);
      await ended;
    } finally {
      socket.disconnect();
    }
    return 1;
  },
};

describe('the wire ledger through shaped connections', () => {
  it.for(Object.keys(drivers) as LaneId[])('%s: counts exactly what a TCP proxy counts', async (lane) => {
    const proxy = await startCountingProxy(port(server.baseUrl));
    try {
      const tag: LabTag = { lane, runId: newRunId() };
      const started = performance.now();
      const requests = await (drivers[lane] as (origin: string, tag: LabTag) => Promise<number>)(
        proxy.origin,
        tag,
      );
      // It was shaped: beyond the tasks' own time, a new connection's handshake and first round trip
      // alone take 4 × 20 ms (unshaped, the whole is within a few ms of the tasks' time).
      expect(performance.now() - started).toBeGreaterThan((TASK_MS[lane] ?? 0) + 80);
      await until(
        () => proxy.open,
        (open) => open === 0,
        'every proxied connection is closed',
      );
      const report = await settledReport(server.baseUrl, tag.runId, { connectionsClosed: true });
      const counts = report.lanes[lane] as WireCounts;
      expect(counts).toMatchObject({
        requests,
        bytesUp: proxy.up,
        bytesDown: proxy.down,
        connectionsOpened: proxy.used().length,
        openConnections: 0,
      });
      expect(counts.bytesDown).toBeGreaterThan(10_000);
    } finally {
      await proxy.close();
    }
  });
});

describe('the webhook lane through shaped connections, both hops', () => {
  it('counts the page, the attempts (server → receiver) and the relay exactly as proxies count them', async () => {
    const page = await startCountingProxy(port(server.baseUrl));
    const toReceiver = await startCountingProxy(port(server.receiverUrl));
    const relay = await startCountingProxy(port(server.receiverUrl));
    const tag: LabTag = { lane: 'webhook', runId: newRunId() };
    const connection = new Connection(page.origin, cookie);
    const relayConnection = new Connection(relay.origin, cookie);
    try {
      const created = await connection.request('POST', API_PATHS.tasks, {
        body: {
          spec: { durationMs: 200, steps: 2, resultBytes: 5_000 },
          webhook: { url: `${toReceiver.origin}/webhooks` },
        },
        headers: labTagHeaders(tag),
      });
      expect(created.status).toBe(202);
      const taskId = JSON.parse(created.body).task.id as string;
      const stream = relayConnection.stream(taggedUrl(RECEIVER_PATHS.relay(taskId), tag));
      await until(() => stream.ended, Boolean, 'the relay ends with the task', 15_000);
      const log = await deliveriesUntil(server.baseUrl, taskId, nonePending, 'every delivery ended');
      const attempts = log.deliveries.flatMap((d) => d.attempts);
      expect(attempts.map((a) => a.outcome)).toEqual(Array(5).fill('delivered'));
      // Each attempt was shaped: a new connection's handshake and its round trip, 4 × 20 ms at least.
      expect(Math.min(...attempts.map((a) => a.durationMs))).toBeGreaterThan(75);
      connection.close();
      relayConnection.close();
      await until(
        () => page.open + toReceiver.open + relay.open,
        (open) => open === 0,
        'every proxied connection is closed',
      );
      const report = await settledReport(server.baseUrl, tag.runId, { connectionsClosed: true });
      const counts = report.lanes.webhook as WireCounts;
      expect(counts).toMatchObject({
        requests: 1,
        bytesUp: page.up,
        bytesDown: page.down,
        serverToReceiver: { requests: 5, bytesUp: toReceiver.up, bytesDown: toReceiver.down },
        receiverToPage: { requests: 1, bytesUp: relay.up, bytesDown: relay.down },
      });
    } finally {
      connection.close();
      relayConnection.close();
      for (const proxy of [page, toReceiver, relay]) await proxy.close();
    }
  });
});

describe('bounded memory', () => {
  it('pauses the real socket while a direction holds more than its bound, and delivers everything in order after', async () => {
    // 800 kbps up = 100 bytes per ms: 2 MB would take 20 s, so the sender must be held back.
    const link = new LinkShaper({ latencyMs: 0, jitterMs: 0, upKbps: 800 });
    const accepted = new Promise<Socket>((resolve) => {
      const listener = createNetServer((socket) => {
        listener.close();
        resolve(socket);
      });
      listener.listen(0, '127.0.0.1', () => {
        const address = listener.address();
        if (address && typeof address === 'object') sender.connect(address.port, '127.0.0.1');
      });
    });
    const sender = new Socket();
    const real = await accepted;
    const shaped = new ShapedSocket(real, link, { role: 'accepted', openedAt: performance.now() });
    let received = 0;
    shaped.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    const total = 2 * 1024 * 1024;
    sender.write(Buffer.alloc(total, 7));
    await until(() => real.isPaused(), Boolean, 'the real socket is paused', 5_000);
    // What the shaper holds stays near its bound: the rest waits in the kernel and the sender.
    expect(real.bytesRead - received).toBeLessThan(QUEUE_BOUND_BYTES + 128 * 1024);
    expect(real.bytesRead).toBeLessThan(total);
    shaped.destroy();
    sender.destroy();
    await until(() => real.destroyed, Boolean, 'the real socket is destroyed with its shaped one', 5_000);
  });

  it('withholds a writer’s callback while the outbound queue is over its bound', async () => {
    const link = new LinkShaper({ latencyMs: 0, jitterMs: 0, downKbps: 800 });
    const pair = await new Promise<[Socket, Socket]>((resolve) => {
      const listener = createNetServer((socket) => {
        listener.close();
        resolve([socket, client]);
      });
      let client: Socket;
      listener.listen(0, '127.0.0.1', () => {
        const address = listener.address();
        if (address && typeof address === 'object') client = connectTcp(address.port, '127.0.0.1');
      });
    });
    const [real, client] = pair;
    const shaped = new ShapedSocket(real, link, { role: 'accepted', openedAt: performance.now() });
    const ok = shaped.write(Buffer.alloc(QUEUE_BOUND_BYTES + 1));
    expect(ok).toBe(false);
    let drained = false;
    shaped.once('drain', () => {
      drained = true;
    });
    // Nothing drains at once: 256 KiB at 100 bytes per ms takes ~2.6 s to get under the bound.
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    expect(shaped.bytesWritten).toBe(QUEUE_BOUND_BYTES + 1);
    shaped.destroy();
    client.destroy();
  });
});
