import {
  API_PATHS,
  API_ROUTES,
  type ErrorBody,
  ErrorEnvelope,
  HTTP_HEADERS,
  HTTP_STREAMING,
  isTerminalEvent,
  type LabTag,
  type LaneId,
  labTagHeaders,
  labTagQuery,
  RECEIVER_PATHS,
  RelayMessage,
  RunResponse,
  SOCKET_EVENTS,
  type TaskEvent,
  type TaskSpec,
  type TaskState,
} from '@transport-lab/shared';
import { createAsync } from './faultsLanes.ts';
import { connectClient, EventCollector, emitAck, type LabClient, type TestServer } from './harness.ts';
import { longPollToEnd, readNdjson, readSse, shortPollToEnd } from './httpClients.ts';
import { readEventStream, taggedUrl } from './wireHarness.ts';

/**
 * One client per lane, written as a program would write the page's lane (server/test/laneContract.
 * test.ts runs the same contract over each): how it starts a task, follows it, cancels it and, where
 * the lane promises it, resumes after its connection drops. Every request is tagged with the lane and
 * run, as the page's are, and recorded, so that the server's wire ledger can be checked against what
 * the client did. A new lane needs a driver here; the table's type makes that a compile error.
 */

/** One request of the lane's own, as the client sent it (path without its query). */
export interface LaneRequest {
  method: 'GET' | 'POST';
  path: string;
}

/** What a lane's client saw of one task. */
export interface Seen {
  taskId: string;
  /** Every event in the order it arrived, repeats included; empty where the lane shows state only. */
  events: TaskEvent[];
  /** The newest state the client saw; where it sees events, the server's once they ended. */
  final: TaskState;
  /** Its requests to the app's origin, socket.io's upgrade included: the ledger's `page` channel. */
  requests: LaneRequest[];
  /** Event streams it opened on the receiver (the webhook's relay): the ledger's `receiverToPage`. */
  relayStreams: number;
}

export interface LaneDriver {
  /** What its client sees of a task: every event, or the task's state (the blocking call's one
   *  answer, short polling's GETs). */
  sees: 'events' | 'state';
  /** Starts a task as its client does and follows it to its end. */
  run(spec: TaskSpec, tag: LabTag): Promise<Seen>;
  /** Asks for a task with an invalid spec: the error its client receives (and the HTTP status). */
  reject(spec: unknown): Promise<{ error: ErrorBody; status?: number }>;
  /** Starts a task and cancels it the lane's way once a step is done: `how` says which way. */
  cancel: { how: string; run(spec: TaskSpec, tag: LabTag): Promise<Seen> };
  /** Only where the lane promises it: cuts the client's connection after `dropAfter` events and
   *  resumes the lane's way. `repeats`: the protocol may deliver an event twice after a resume (the
   *  client drops it by seq), as socket.io's subscribe does; it may never lose one. */
  resume?: {
    how: string;
    repeats: boolean;
    run(spec: TaskSpec, tag: LabTag, dropAfter: number): Promise<Seen>;
  };
}

/** Resolves once the engine has run a step of the task (`undefined`: of the next task to run one),
 *  the moment a page would press Cancel having seen progress. */
export function progressed(server: TestServer, taskId?: string): Promise<string> {
  const { engine } = server.app;
  return new Promise((resolve) => {
    const off = engine.onEvent((event) => {
      if (event.type !== 'progress' || (taskId !== undefined && event.taskId !== taskId)) return;
      off();
      resolve(event.taskId);
    });
    if (taskId === undefined) return;
    void engine.eventsAfter(taskId, 0).then((events) => {
      if (!events.some((event) => event.type === 'progress')) return;
      off();
      resolve(taskId);
    });
  });
}

/** The drivers of every lane, against the server `current()` returns when they run (a suite
 *  declares its tests before its server starts). */
export function laneDrivers(current: () => TestServer): Record<LaneId, LaneDriver> {
  const serverState = (id: string) => current().app.engine.getOrThrow(id);
  const json = { 'content-type': 'application/json' };
  const post = (path: string): LaneRequest => ({ method: 'POST', path });
  const get = (path: string): LaneRequest => ({ method: 'GET', path });

  /** `POST /api/tasks`, as every asynchronous lane starts. */
  async function create(tag: LabTag, spec: TaskSpec, extra: Parameters<typeof createAsync>[3] = {}) {
    const { task, status } = await createAsync(current().baseUrl, tag, spec, extra);
    if (status !== 202) throw new Error(`POST ${API_PATHS.tasks} answered ${status}, not 202`);
    return task;
  }

  /** A start the server must refuse: the error envelope and status of its answer. */
  async function refused(path: string, body: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${current().baseUrl}${path}`, {
      method: 'POST',
      headers: { ...json, ...headers },
      body: JSON.stringify(body),
    });
    return { error: ErrorEnvelope.parse(await res.json()).error, status: res.status };
  }

  /** `POST …/cancel`, tagged with the task's run: the asynchronous lanes' cancel. */
  async function askCancel(tag: LabTag, id: string): Promise<LaneRequest> {
    const res = await fetch(`${current().baseUrl}${API_PATHS.cancel(id)}`, {
      method: 'POST',
      headers: labTagHeaders(tag),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`cancel answered ${res.status}`);
    return post(API_PATHS.cancel(id));
  }

  /** A push lane after `POST /api/tasks`: how it follows one task from a cursor, and how it resumes. */
  interface Follower {
    /** Every event after `after` until the end; `cutAfter` cuts the connection once that many came. */
    follow(
      tag: LabTag,
      id: string,
      after: number,
      cutAfter?: number,
    ): Promise<{ events: TaskEvent[]; requests: LaneRequest[]; relayStreams: number; cursor: number }>;
    resumeHow: string;
  }

  const sseFollower: Follower = {
    async follow(tag, id, after, cutAfter) {
      const read = await readSse(current().baseUrl, id, {
        headers: labTagHeaders(tag),
        ...(after > 0 ? { lastEventId: String(after) } : {}),
        ...(cutAfter !== undefined ? { stopAfter: cutAfter } : {}),
      });
      if (read.status !== 200) throw new Error(`stream answered ${read.status}`);
      const cursor = Number(read.ids.at(-1) ?? after);
      return { events: read.events, requests: [get(API_PATHS.stream(id))], relayStreams: 0, cursor };
    },
    resumeHow: 'a new stream with Last-Event-ID',
  };

  const longPollFollower: Follower = {
    async follow(tag, id, after, cutAfter) {
      const polled = await longPollToEnd(current().baseUrl, id, after, 5_000, {
        headers: labTagHeaders(tag),
        ...(cutAfter !== undefined ? { cutAfter } : {}),
      });
      const requests = Array.from({ length: polled.polls }, () => get(API_PATHS.events(id)));
      return { events: polled.events, requests, relayStreams: 0, cursor: polled.cursor };
    },
    resumeHow: 'the next poll from its cursor (after=)',
  };

  const ndjsonFollower: Follower = {
    async follow(tag, id, after, cutAfter) {
      const read = await readNdjson(
        `${current().baseUrl}${HTTP_STREAMING.path(id)}?after=${after}`,
        labTagHeaders(tag),
        cutAfter,
      );
      if (read.status !== 200) throw new Error(`stream answered ${read.status}`);
      if (!read.contentType?.startsWith(HTTP_STREAMING.contentType)) {
        throw new Error(`stream answered ${read.contentType}`);
      }
      const cursor = read.events.at(-1)?.seq ?? after;
      return { events: read.events, requests: [get(HTTP_STREAMING.path(id))], relayStreams: 0, cursor };
    },
    resumeHow: 'a new stream from the last seq it applied (after=)',
  };

  /** The webhook's page side: the built-in receiver's relay of the deliveries, an event stream. */
  const relayFollower: Follower = {
    async follow(tag, id, after, cutAfter) {
      const url = taggedUrl(`${current().receiverUrl}${RECEIVER_PATHS.relay(id)}`, tag);
      const read = await readEventStream(
        url,
        (data) => cutAfter !== undefined && data.length >= cutAfter,
        after > 0 ? { [HTTP_HEADERS.lastEventId]: String(after) } : {},
      );
      if (read.status !== 200) throw new Error(`relay answered ${read.status}`);
      const events = read.data.map((data) => RelayMessage.parse(JSON.parse(data)).payload.data);
      return { events, requests: [], relayStreams: 1, cursor: events.at(-1)?.seq ?? after };
    },
    resumeHow: "a new relay stream with Last-Event-ID (the receiver's)",
  };

  /** An asynchronous lane: `POST /api/tasks` (with what the lane adds to it), then its follower. */
  function asyncLane(
    follower: Follower,
    extra: () => Parameters<typeof createAsync>[3] = () => ({}),
  ): LaneDriver {
    const started = async (tag: LabTag, spec: TaskSpec) => {
      const task = await create(tag, spec, extra());
      return { task, requests: [post(API_PATHS.tasks)] };
    };
    const seen = async (
      id: string,
      parts: Array<{ events: TaskEvent[]; requests: LaneRequest[]; relayStreams: number }>,
    ): Promise<Seen> => ({
      taskId: id,
      events: parts.flatMap((part) => part.events),
      final: await serverState(id),
      requests: parts.flatMap((part) => part.requests),
      relayStreams: parts.reduce((sum, part) => sum + part.relayStreams, 0),
    });
    return {
      sees: 'events',
      reject(spec) {
        const { webhook, headers } = extra() ?? {};
        return refused(API_PATHS.tasks, webhook ? { spec, webhook } : { spec }, headers);
      },
      async run(spec, tag) {
        const { task, requests } = await started(tag, spec);
        const followed = await follower.follow(tag, task.id, 0);
        return seen(task.id, [{ events: [], requests, relayStreams: 0 }, followed]);
      },
      cancel: {
        how: `POST ${API_ROUTES.cancel}`,
        async run(spec, tag) {
          const { task, requests } = await started(tag, spec);
          const following = follower.follow(tag, task.id, 0);
          await progressed(current(), task.id);
          const cancel = await askCancel(tag, task.id);
          const followed = await following;
          return seen(task.id, [{ events: [], requests: [...requests, cancel], relayStreams: 0 }, followed]);
        },
      },
      resume: {
        how: follower.resumeHow,
        repeats: false,
        async run(spec, tag, dropAfter) {
          const { task, requests } = await started(tag, spec);
          const cut = await follower.follow(tag, task.id, 0, dropAfter);
          const resumed = await follower.follow(tag, task.id, cut.cursor);
          return seen(task.id, [{ events: [], requests, relayStreams: 0 }, cut, resumed]);
        },
      },
    };
  }

  const requestResponse: LaneDriver = {
    sees: 'state',
    reject: (spec) => refused(API_PATHS.run, spec),
    async run(spec, tag) {
      const res = await fetch(`${current().baseUrl}${API_PATHS.run}`, {
        method: 'POST',
        headers: { ...json, ...labTagHeaders(tag) },
        body: JSON.stringify(spec),
      });
      if (res.status !== 200) throw new Error(`the blocking call answered ${res.status}`);
      const { task } = RunResponse.parse(await res.json());
      return { taskId: task.id, events: [], final: task, requests: [post(API_PATHS.run)], relayStreams: 0 };
    },
    cancel: {
      how: 'its client leaves: the request is aborted',
      async run(spec, tag) {
        const leave = new AbortController();
        const stepped = progressed(current());
        const pending = fetch(`${current().baseUrl}${API_PATHS.run}`, {
          method: 'POST',
          headers: { ...json, ...labTagHeaders(tag) },
          body: JSON.stringify(spec),
          signal: leave.signal,
        }).catch((error: unknown) => error);
        const taskId = await stepped;
        leave.abort();
        const answer = await pending;
        if (!(answer instanceof Error) || answer.name !== 'AbortError')
          throw new Error('the call was answered');
        const outcome = await current().app.engine.waitForEnd(taskId, 10_000);
        if (!outcome.ended) throw new Error('the task did not end after its client left');
        return { taskId, events: [], final: outcome.task, requests: [post(API_PATHS.run)], relayStreams: 0 };
      },
    },
  };

  /** Short polling at 50 ms (the page waits Retry-After; shorter here, the protocol is the same). */
  const shortPolling: LaneDriver = {
    sees: 'state',
    reject: (spec) => refused(API_PATHS.tasks, { spec }),
    async run(spec, tag) {
      const task = await create(tag, spec);
      const polled = await shortPollToEnd(current().baseUrl, API_PATHS.task(task.id), 50, {
        headers: labTagHeaders(tag),
      });
      const polls = polled.states.length + polled.notModified;
      return {
        taskId: task.id,
        events: [],
        final: polled.states.at(-1) ?? task,
        requests: [
          post(API_PATHS.tasks),
          ...Array.from({ length: polls }, () => get(API_PATHS.task(task.id))),
        ],
        relayStreams: 0,
      };
    },
    cancel: {
      how: `POST ${API_ROUTES.cancel}, once a poll shows a step done`,
      async run(spec, tag) {
        const task = await create(tag, spec);
        const requests = [post(API_PATHS.tasks)];
        let asked = false;
        const polled = await shortPollToEnd(current().baseUrl, API_PATHS.task(task.id), 50, {
          headers: labTagHeaders(tag),
          async onState(state) {
            if (asked || state.step < 1) return;
            asked = true;
            requests.push(await askCancel(tag, task.id));
          },
        });
        const polls = polled.states.length + polled.notModified;
        requests.push(...Array.from({ length: polls }, () => get(API_PATHS.task(task.id))));
        return {
          taskId: task.id,
          events: [],
          final: polled.states.at(-1) ?? task,
          requests,
          relayStreams: 0,
        };
      },
    },
  };

  const socketIo = () => get(`${current().app.io.path()}/`);

  /** socket.io on the websocket transport, tagged in its handshake query, as the page's lane. */
  async function startOnSocket(spec: TaskSpec, tag: LabTag) {
    const socket = await connectClient(current().baseUrl, 50, labTagQuery(tag));
    const collector = new EventCollector(socket);
    const ack = await emitAck(socket, SOCKET_EVENTS.start, spec);
    if (!ack.ok) throw new Error(ack.error.message);
    return { socket, collector, id: ack.task.id };
  }
  const socketSeen = async (id: string, events: TaskEvent[], sockets: number): Promise<Seen> => ({
    taskId: id,
    events,
    final: await serverState(id),
    requests: Array.from({ length: sockets }, socketIo),
    relayStreams: 0,
  });
  const closing = async <T>(socket: LabClient, body: () => Promise<T>): Promise<T> => {
    try {
      return await body();
    } finally {
      socket.disconnect();
    }
  };

  const websocket: LaneDriver = {
    sees: 'events',
    async reject(spec) {
      const socket = await connectClient(current().baseUrl, 50, {});
      return closing(socket, async () => {
        const ack = await emitAck(socket, SOCKET_EVENTS.start, spec as TaskSpec);
        if (ack.ok) throw new Error('an invalid spec was accepted');
        return { error: ack.error };
      });
    },
    async run(spec, tag) {
      const { socket, collector, id } = await startOnSocket(spec, tag);
      return closing(socket, async () => socketSeen(id, await collector.terminal(id), 1));
    },
    cancel: {
      how: `${SOCKET_EVENTS.cancel} on the socket that started it`,
      async run(spec, tag) {
        const { socket, collector, id } = await startOnSocket(spec, tag);
        return closing(socket, async () => {
          await collector.until(id, (events) => events.some((event) => event.type === 'progress'));
          const ack = await emitAck(socket, SOCKET_EVENTS.cancel, { taskId: id });
          if (!ack.ok) throw new Error(ack.error.message);
          return socketSeen(id, await collector.terminal(id), 1);
        });
      },
    },
    resume: {
      how: `a new connection's ${SOCKET_EVENTS.subscribe} from the last seq it applied`,
      repeats: true,
      async run(spec, tag, dropAfter) {
        const first = await startOnSocket(spec, tag);
        await first.collector.until(first.id, (events) => events.length >= dropAfter);
        // Disconnected by the client: no recovery of this session; the next connection asks.
        first.socket.disconnect();
        const before = [...first.collector.events(first.id)];
        const again = await connectClient(current().baseUrl, 50, labTagQuery(tag));
        const pushed = new EventCollector(again);
        return closing(again, async () => {
          const afterSeq = before.at(-1)?.seq ?? 0;
          const ack = await emitAck(again, SOCKET_EVENTS.subscribe, { taskId: first.id, afterSeq });
          if (!ack.ok) throw new Error(ack.error.message);
          // Its end is in the ack (it ended meanwhile), or is pushed on this connection.
          if (!ack.events.some(isTerminalEvent)) await pushed.terminal(first.id);
          return socketSeen(first.id, [...before, ...ack.events, ...pushed.events(first.id)], 2);
        });
      },
    },
  };

  return {
    'request-response': requestResponse,
    'short-polling': shortPolling,
    'long-polling': asyncLane(longPollFollower),
    sse: asyncLane(sseFollower),
    'http-streaming': asyncLane(ndjsonFollower),
    webhook: asyncLane(relayFollower, () => ({
      webhook: { url: current().app.receiver.urls()?.webhookUrl ?? '' },
    })),
    websocket,
    // The hybrid's pushed path: wait=0 answers 202 at once, and it follows on SSE (the page's default
    // push lane). Its answered-itself path (200 within wait=N) is asyncLanes.test.ts's.
    hybrid: asyncLane(sseFollower, () => ({ headers: { [HTTP_HEADERS.prefer]: 'respond-async, wait=0' } })),
  };
}
