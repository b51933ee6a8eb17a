import {
  API_PATHS,
  CreateTaskResponse,
  DeliveriesResponse,
  isTerminalEvent,
  RECEIVER_PATHS,
  RelayMessage,
  RunResponse,
  SOCKET_EVENTS,
  TaskEvent,
  type TaskSpec,
} from '@transport-lab/shared';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitAck, type LabClient, startTestServer, type TestServer } from './harness.ts';
import { type Answer, Connection, chooseLink, fastestOf, within } from './networkHarness.ts';

/**
 * Acceptance of issue 5, item 1: under a 200 ms one-way link, each lane's round trip grows by 400 ms
 * (± 15 %), measured against the same thing unshaped in the same test, on real sockets with real
 * clients; a 64 KB result under a bandwidth limit takes the time its size implies. A round trip
 * over a connection that is already open pays 2 × latency; a new connection first pays its TCP
 * handshake (one more round trip) before its first byte can leave.
 */

const LATENCY_MS = 200;
const ROUND_TRIP_GROWTH_MS = 2 * LATENCY_MS;
/** Samples per measurement; the fastest counts (the least disturbed by a busy machine). */
const SAMPLES = 3;

/** What each test measured, printed at the end (the figures the report quotes). */
const figures: Record<string, string> = {};

let server: TestServer;
/** The `Cookie` of a page on a 200 ms one-way link, no bandwidth limit. */
let slow: string;

beforeAll(async () => {
  server = await startTestServer();
  ({ cookie: slow } = await chooseLink(server.baseUrl, { custom: { latencyMs: LATENCY_MS, jitterMs: 0 } }));
});
afterAll(async () => {
  console.log(
    Object.entries(figures)
      .map(([what, figure]) => `${what}: ${figure}`)
      .join('\n'),
  );
  await server.close();
});

const quick: TaskSpec = { durationMs: 0, steps: 1 };

function expectWithin(actual: number, expected: number, what: string): void {
  const { ok, text } = within(actual, expected);
  figures[what] = text;
  expect(ok, `${what}: ${text}`).toBe(true);
}

/** Opens the connection (its handshake is paid here, not in what is measured next). */
async function warm(connection: Connection): Promise<void> {
  const answer = await connection.request('GET', API_PATHS.health);
  expect(answer.status).toBe(200);
}

/** One request's time on a warm connection, the fastest of SAMPLES; each answer is checked. */
async function roundTrip(connection: Connection, send: () => Promise<Answer>): Promise<number> {
  await warm(connection);
  return fastestOf(SAMPLES, async () => {
    const answer = await send();
    expect(answer.status).toBeLessThan(300);
    expect(answer.reused).toBe(true);
    return answer.ms;
  });
}

/** Measures `send` unshaped and over the slow link, each on its own warm connection. */
async function growth(send: (connection: Connection) => Promise<Answer>): Promise<number> {
  const plain = new Connection(server.baseUrl);
  const shaped = new Connection(server.baseUrl, slow);
  try {
    const base = await roundTrip(plain, () => send(plain));
    const slowed = await roundTrip(shaped, () => send(shaped));
    return slowed - base;
  } finally {
    plain.close();
    shaped.close();
  }
}

async function createTask(connection: Connection, spec: TaskSpec): Promise<string> {
  const answer = await connection.request('POST', API_PATHS.tasks, { body: { spec } });
  return CreateTaskResponse.parse(JSON.parse(answer.body)).task.id;
}

describe('each lane pays the link both ways', () => {
  it('request/response: POST /api/tasks/run → its answer grows by one round trip', async () => {
    const grown = await growth((c) => c.request('POST', API_PATHS.run, { body: quick }));
    expectWithin(grown, ROUND_TRIP_GROWTH_MS, 'request/response');
  });

  it('short polling: GET /api/tasks/{id} → its answer grows by one round trip', async () => {
    const plain = new Connection(server.baseUrl);
    const id = await createTask(plain, quick);
    plain.close();
    const grown = await growth((c) => c.request('GET', API_PATHS.task(id)));
    expectWithin(grown, ROUND_TRIP_GROWTH_MS, 'short polling');
  });

  it('long polling: GET …/events?after=0 → its answer grows by one round trip', async () => {
    const plain = new Connection(server.baseUrl);
    const id = await createTask(plain, quick);
    plain.close();
    const grown = await growth((c) => c.request('GET', `${API_PATHS.events(id)}?after=0&waitMs=5000`));
    expectWithin(grown, ROUND_TRIP_GROWTH_MS, 'long polling');
  });

  it('hybrid: POST /api/tasks with Prefer: wait → its 200 grows by one round trip', async () => {
    const grown = await growth((c) =>
      c.request('POST', API_PATHS.tasks, {
        body: { spec: quick },
        headers: { prefer: 'respond-async, wait=5' },
      }),
    );
    expectWithin(grown, ROUND_TRIP_GROWTH_MS, 'hybrid');
  });

  it('a new connection pays its handshake first: a fresh connection’s first answer grows by two round trips', async () => {
    const fresh = async (cookie?: string) =>
      fastestOf(SAMPLES, async () => {
        const connection = new Connection(server.baseUrl, cookie);
        try {
          const answer = await connection.request('GET', API_PATHS.health);
          expect(answer.reused).toBe(false);
          return answer.ms;
        } finally {
          connection.close();
        }
      });
    const grown = (await fresh(slow)) - (await fresh());
    expectWithin(grown, 2 * ROUND_TRIP_GROWTH_MS, 'a fresh connection');
  });
});

/** An event's server time `at` (epoch ms, this process's clock) to its arrival here, ms. */
const oneWay = (at: number, arrivedAt: number) => performance.timeOrigin + arrivedAt - at;

describe('pushed lanes pay it on every chunk and frame', () => {
  it('SSE: the stream request → its first message grows by one round trip; each event by one way', async () => {
    const starter = new Connection(server.baseUrl);
    const id = await createTask(starter, { durationMs: 1_500, steps: 1 });
    starter.close();
    const plain = new Connection(server.baseUrl);
    const shaped = new Connection(server.baseUrl, slow);
    try {
      await Promise.all([warm(plain), warm(shaped)]);
      const [a, b] = [plain.stream(API_PATHS.stream(id)), shaped.stream(API_PATHS.stream(id))];
      const firsts = await Promise.all([a, b].map((s) => s.next(() => true, 'first message')));
      const [firstPlain, firstShaped] = firsts.map((received, i) => received.at - ([a, b][i]?.openedAt ?? 0));
      expectWithin(
        (firstShaped ?? 0) - (firstPlain ?? 0),
        ROUND_TRIP_GROWTH_MS,
        'SSE request → first message',
      );
      const progress = (m: { event?: string; data: string }) =>
        m.event !== 'wire' && TaskEvent.parse(JSON.parse(m.data)).type === 'progress';
      const [pa, pb] = await Promise.all([a.next(progress, 'progress'), b.next(progress, 'progress')]);
      const at = TaskEvent.parse(JSON.parse(pa.message.data)).at;
      expectWithin(oneWay(at, pb.at) - oneWay(at, pa.at), LATENCY_MS, 'SSE event at → arrival');
      a.close();
      b.close();
    } finally {
      plain.close();
      shaped.close();
    }
  });

  it('websocket: an emit → its ack grows by one round trip; each pushed frame by one way', async () => {
    const open = (cookie?: string) =>
      new Promise<LabClient>((resolve, reject) => {
        const socket: LabClient = connect(server.baseUrl, {
          transports: ['websocket'],
          reconnection: false,
          ...(cookie ? { extraHeaders: { cookie } } : {}),
        });
        socket.once('connect', () => resolve(socket));
        socket.once('connect_error', reject);
      });
    const [plain, shaped] = await Promise.all([open(), open(slow)]);
    try {
      const started = await emitAck(plain, SOCKET_EVENTS.start, quick);
      if (!started.ok) throw new Error('task:start refused');
      const ackTime = (socket: LabClient) =>
        fastestOf(SAMPLES, async () => {
          const t0 = performance.now();
          const ack = await emitAck(socket, SOCKET_EVENTS.subscribe, {
            taskId: started.task.id,
            afterSeq: 0,
          });
          expect(ack.ok).toBe(true);
          return performance.now() - t0;
        });
      expectWithin(
        (await ackTime(shaped)) - (await ackTime(plain)),
        ROUND_TRIP_GROWTH_MS,
        'websocket emit → ack',
      );

      // A pushed task:event frame: its server time to its arrival.
      const pushed = (socket: LabClient) =>
        new Promise<number>((resolve, reject) => {
          socket.on(SOCKET_EVENTS.event, (event) => {
            if (event.type === 'progress') resolve(oneWay(event.at, performance.now()));
          });
          emitAck(socket, SOCKET_EVENTS.start, { durationMs: 1_000, steps: 1 }).then((ack) => {
            if (!ack.ok) reject(new Error('task:start refused'));
          }, reject);
        });
      const [plainPush, shapedPush] = await Promise.all([pushed(plain), pushed(shaped)]);
      expectWithin(shapedPush - plainPush, LATENCY_MS, 'websocket frame at → arrival');
    } finally {
      plain.close();
      shaped.close();
    }
  });

  it('webhook: both hops pay it, the delivery attempt (a new connection each) and the relay to the page', async () => {
    const webhookUrl = server.app.receiver.urls()?.webhookUrl as string;
    /** One webhook lane run: create over a connection (its link is the task's), follow the relay. */
    const run = async (cookie?: string) => {
      const connection = new Connection(server.baseUrl, cookie);
      const relayConnection = new Connection(server.receiverUrl, cookie);
      try {
        const spec = { durationMs: 2_500, steps: 1 };
        const created = await connection.request('POST', API_PATHS.tasks, {
          body: { spec, webhook: { url: webhookUrl } },
        });
        const taskId = CreateTaskResponse.parse(JSON.parse(created.body)).task.id;
        const relay = relayConnection.stream(RECEIVER_PATHS.relay(taskId));
        const relayed = (type: string) => (m: { event?: string; data: string }) =>
          m.event !== 'wire' && RelayMessage.parse(JSON.parse(m.data)).payload.data.type === type;
        const progress = await relay.next(relayed('progress'), 'relayed progress', 20_000);
        const event = RelayMessage.parse(JSON.parse(progress.message.data)).payload.data;
        await relay.next(
          (m) => m.event !== 'wire' && isTerminalEvent(RelayMessage.parse(JSON.parse(m.data)).payload.data),
          'relayed end',
          20_000,
        );
        relay.close();
        const log = DeliveriesResponse.parse(
          JSON.parse((await connection.request('GET', API_PATHS.deliveries(taskId))).body),
        );
        const attempts = log.deliveries.flatMap((d) => d.attempts);
        expect(attempts.every((a) => a.outcome === 'delivered')).toBe(true);
        return {
          attemptMs: Math.min(...attempts.map((a) => a.durationMs)),
          relayOneWay: oneWay(event.at, progress.at),
        };
      } finally {
        connection.close();
        relayConnection.close();
      }
    };
    const [plain, shaped] = await Promise.all([run(), run(slow)]);
    // Each attempt opens its own connection (agent: false): a handshake round trip, then the POST's.
    expectWithin(shaped.attemptMs - plain.attemptMs, 2 * ROUND_TRIP_GROWTH_MS, 'webhook attempt duration');
    // To the page: the attempt's handshake and its one way to the receiver, then the relay's one way.
    expectWithin(
      shaped.relayOneWay - plain.relayOneWay,
      4 * LATENCY_MS,
      'webhook event at → relayed to the page',
    );
  });
});

describe('a bandwidth limit paces every byte', () => {
  /** 256 kbps down (32 000 bytes a second), 50 ms each way, no limit up. */
  const RATE_KBPS = 256;
  const BANDWIDTH_LATENCY_MS = 50;
  const big: TaskSpec = { durationMs: 0, steps: 1, resultBytes: 65_536 };
  /** ms to serialize `bytes` at the rate: bytes × 8 / rate (kbps = bits per ms). */
  const transmit = (bytes: number) => (bytes * 8) / RATE_KBPS;
  let narrow: string;
  beforeAll(async () => {
    ({ cookie: narrow } = await chooseLink(server.baseUrl, {
      custom: { latencyMs: BANDWIDTH_LATENCY_MS, jitterMs: 0, downKbps: RATE_KBPS },
    }));
  });

  /** One HTTP answer carrying the 64 KB result, sent on a warm connection plain and over the narrow link. */
  async function bigAnswer(what: string, send: (connection: Connection) => Promise<Answer>): Promise<void> {
    const measure = async (cookie?: string) => {
      const connection = new Connection(server.baseUrl, cookie);
      try {
        await warm(connection);
        const answer = await send(connection);
        expect(answer.status).toBe(200);
        return answer;
      } finally {
        connection.close();
      }
    };
    const plain = await measure();
    const shaped = await measure(narrow);
    expect(shaped.bytesDown).toBeGreaterThan(65_536);
    expectWithin(
      shaped.ms - plain.ms,
      2 * BANDWIDTH_LATENCY_MS + transmit(shaped.bytesDown),
      `${what} 64 KB answer (${shaped.bytesDown} bytes) at ${RATE_KBPS} kbps`,
    );
  }

  it('request/response: a 64 KB result takes its size × 8 / rate, plus a round trip', async () => {
    await bigAnswer('request/response', async (c) => {
      const answer = await c.request('POST', API_PATHS.run, { body: big });
      expect(RunResponse.parse(JSON.parse(answer.body)).task.status).toBe('succeeded');
      return answer;
    });
  });

  it('short polling: the poll that brings a 64 KB result takes its size × 8 / rate, plus a round trip', async () => {
    const setup = new Connection(server.baseUrl);
    const id = await createTask(setup, big);
    setup.close();
    await bigAnswer('short polling', (c) => c.request('GET', API_PATHS.task(id)));
  });

  it('long polling: the answer with the 64 KB terminal event takes its size × 8 / rate, plus a round trip', async () => {
    const setup = new Connection(server.baseUrl);
    const id = await createTask(setup, big);
    setup.close();
    await bigAnswer('long polling', (c) => c.request('GET', `${API_PATHS.events(id)}?after=0&waitMs=5000`));
  });

  it('hybrid: the 200 with the 64 KB final state takes its size × 8 / rate, plus a round trip', async () => {
    await bigAnswer('hybrid', (c) =>
      c.request('POST', API_PATHS.tasks, {
        body: { spec: big },
        headers: { prefer: 'respond-async, wait=5' },
      }),
    );
  });

  it('websocket: the frame that carries a 64 KB result takes its size × 8 / rate, plus one way', async () => {
    const socket: LabClient = connect(server.baseUrl, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { cookie: narrow },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const done = new Promise<{ delay: number; bytes: number }>((resolve) => {
        socket.on(SOCKET_EVENTS.event, (event) => {
          if (!isTerminalEvent(event)) return;
          // The frame's size on the wire: socket.io's packet text plus the RFC 6455 header (4 bytes
          // for a payload of 126..65 535 bytes, 10 beyond).
          const text = `42${JSON.stringify([SOCKET_EVENTS.event, event])}`;
          resolve({ delay: oneWay(event.at, performance.now()), bytes: Buffer.byteLength(text) + 10 });
        });
      });
      const ack = await emitAck(socket, SOCKET_EVENTS.start, big);
      expect(ack.ok).toBe(true);
      const { delay, bytes } = await done;
      expectWithin(delay, BANDWIDTH_LATENCY_MS + transmit(bytes), `websocket 64 KB frame (${bytes} bytes)`);
    } finally {
      socket.close();
    }
  });

  it('webhook: a 64 KB result pays its size on both hops, the attempt’s POST and the relay to the page', async () => {
    const webhookUrl = server.app.receiver.urls()?.webhookUrl as string;
    const connection = new Connection(server.baseUrl, narrow);
    const relayConnection = new Connection(server.receiverUrl, narrow);
    try {
      // One step: its progress and the result come together; the result's delivery waits for the
      // progress's (one at a time per task, a new connection each: 4 latencies).
      const created = await connection.request('POST', API_PATHS.tasks, {
        body: { spec: { ...big, durationMs: 1_000 }, webhook: { url: webhookUrl } },
      });
      const taskId = CreateTaskResponse.parse(JSON.parse(created.body)).task.id;
      const relay = relayConnection.stream(RECEIVER_PATHS.relay(taskId));
      const end = await relay.next(
        (m) => m.event !== 'wire' && isTerminalEvent(RelayMessage.parse(JSON.parse(m.data)).payload.data),
        'the relayed result',
        20_000,
      );
      relay.close();
      const payload = RelayMessage.parse(JSON.parse(end.message.data)).payload;
      // Hop 1: the POST (its body, the Standard Webhooks headers ≈ 350 bytes); hop 2: the relay message.
      const post = Buffer.byteLength(JSON.stringify(payload)) + 350;
      const relayed = Buffer.byteLength(end.message.data) + 32;
      const L = BANDWIDTH_LATENCY_MS;
      // 4L behind the progress's attempt, 3L for this attempt's handshake and way there, L on the relay.
      expectWithin(
        oneWay(payload.data.at, end.at),
        8 * L + transmit(post) + transmit(relayed),
        `webhook 64 KB result over both hops (${post} + ${relayed} bytes)`,
      );
    } finally {
      connection.close();
      relayConnection.close();
    }
  });

  it('SSE: the event that carries a 64 KB result takes its size × 8 / rate, plus one way', async () => {
    const starter = new Connection(server.baseUrl);
    const id = await createTask(starter, { ...big, durationMs: 1_000 });
    starter.close();
    const connection = new Connection(server.baseUrl, narrow);
    try {
      await warm(connection);
      const stream = connection.stream(API_PATHS.stream(id));
      const end = await stream.next(
        (m) => m.event !== 'wire' && isTerminalEvent(TaskEvent.parse(JSON.parse(m.data))),
        'the terminal event',
      );
      const event = TaskEvent.parse(JSON.parse(end.message.data));
      // id + data lines and the chunk's framing: the data dominates.
      const bytes = Buffer.byteLength(end.message.data) + 32;
      expectWithin(
        oneWay(event.at, end.at),
        BANDWIDTH_LATENCY_MS + transmit(bytes),
        `SSE 64 KB event (${bytes} bytes)`,
      );
      stream.close();
    } finally {
      connection.close();
    }
  });
});
