import {
  API_PATHS,
  type ErrorBody,
  ErrorEnvelope,
  isTerminalEvent,
  RunResponse,
  SOCKET_EVENTS,
  type TaskEvent,
  type TaskSpec,
  type TaskState,
} from '@transport-lab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  EventCollector,
  emitAck,
  type LabClient,
  startTestServer,
  streamBreaches,
  type TestServer,
} from './harness.ts';

/** What the suite needs from a lane, driven with a real client of that lane. */
interface LaneDriver {
  /** Runs the task to its end: the final state, and its events (as the client saw them where the
   *  lane shows events; from the server's log where a blocking call shows none). */
  run(spec: TaskSpec): Promise<{ task: TaskState; events: TaskEvent[] }>;
  /** Starts the task, cancels it the way this lane's client would once progress is seen. */
  startThenCancel(spec: TaskSpec): Promise<{ task: TaskState; events: TaskEvent[] }>;
  /** Sends an invalid spec; the error the client receives. */
  reject(spec: unknown): Promise<{ error: ErrorBody; status?: number }>;
}

let server: TestServer;
let socket: LabClient;
let collector: EventCollector;

beforeAll(async () => {
  server = await startTestServer();
  socket = await connectClient(server.baseUrl);
  collector = new EventCollector(socket);
});

afterAll(async () => {
  socket.disconnect();
  await server.close();
});

const postRun = (body: unknown, signal?: AbortSignal) =>
  fetch(`${server.baseUrl}${API_PATHS.run}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });

/** The first progress event of the next task the engine runs. */
const nextProgress = () =>
  new Promise<TaskEvent>((resolve) => {
    const off = server.app.engine.onEvent((event) => {
      if (event.type === 'progress') {
        off();
        resolve(event);
      }
    });
  });

const requestResponse: LaneDriver = {
  async run(spec) {
    const res = await postRun(spec);
    expect(res.status).toBe(200);
    const { task } = RunResponse.parse(await res.json());
    return { task, events: await server.app.engine.eventsAfter(task.id, 0) };
  },
  async startThenCancel(spec) {
    const leave = new AbortController();
    const progressed = nextProgress();
    const pending = postRun(spec, leave.signal).catch((error: unknown) => error);
    const { taskId } = await progressed;
    leave.abort();
    expect(await pending).toMatchObject({ name: 'AbortError' });
    const outcome = await server.app.engine.waitForEnd(taskId, 10_000);
    if (!outcome.ended) throw new Error('task did not end after its client left');
    return { task: outcome.task, events: await server.app.engine.eventsAfter(taskId, 0) };
  },
  async reject(spec) {
    const res = await postRun(spec);
    return { error: ErrorEnvelope.parse(await res.json()).error, status: res.status };
  },
};

const websocket: LaneDriver = {
  async run(spec) {
    const ack = await emitAck(socket, SOCKET_EVENTS.start, spec);
    if (!ack.ok) throw new Error(ack.error.message);
    const events = await collector.terminal(ack.task.id);
    const task = await server.app.engine.getOrThrow(ack.task.id);
    return { task, events };
  },
  async startThenCancel(spec) {
    const ack = await emitAck(socket, SOCKET_EVENTS.start, spec);
    if (!ack.ok) throw new Error(ack.error.message);
    await collector.until(ack.task.id, (events) => events.some((e) => e.type === 'progress'));
    const cancelAck = await emitAck(socket, SOCKET_EVENTS.cancel, { taskId: ack.task.id });
    if (!cancelAck.ok) throw new Error(cancelAck.error.message);
    const events = await collector.terminal(ack.task.id);
    return { task: cancelAck.task, events };
  },
  async reject(spec) {
    const ack = await emitAck(socket, SOCKET_EVENTS.start, spec as TaskSpec);
    if (ack.ok) throw new Error('an invalid spec was accepted');
    return { error: ack.error };
  },
};

describe.each([
  ['request-response', requestResponse],
  ['websocket', websocket],
] as const)('the %s lane', (_lane, lane) => {
  it('runs a task to success: every event once, in seq order, progress in step order, one terminal event last', async () => {
    const spec = { durationMs: 300, steps: 6, resultBytes: 100 };
    const { task, events } = await lane.run(spec);
    expect(task.status).toBe('succeeded');
    expect(task.result?.payload).toHaveLength(100);
    expect(events.map((e) => e.type)).toEqual([
      'queued',
      'started',
      ...Array(6).fill('progress'),
      'succeeded',
    ]);
    expect(streamBreaches(events, 6)).toEqual([]);
    const [started, finished] = [events[1], events.at(-1)];
    // The state says how fresh it is: the time of its newest event.
    expect(task.updatedAt).toBe(finished?.at);
    // The task runs in real time: it cannot end before its duration has passed.
    expect((finished?.at ?? 0) - (started?.at ?? 0)).toBeGreaterThanOrEqual(300);
  });

  it('reports a task that fails at its failAtStep, with the failure code, once', async () => {
    const { task, events } = await lane.run({ durationMs: 50, steps: 5, failAtStep: 3 });
    expect(task.status).toBe('failed');
    expect(task.error?.code).toBe('STEP_FAILED');
    expect(events.filter((e) => e.type === 'progress').map((e) => e.step)).toEqual([1, 2]);
    expect(events.filter(isTerminalEvent).map((e) => e.type)).toEqual(['failed']);
  });

  it('cancels a running task: it stops before its last step and ends with one cancelled event', async () => {
    const { task, events } = await lane.startThenCancel({ durationMs: 5_000, steps: 50 });
    expect(task.status).toBe('cancelled');
    expect(task.step).toBeLessThan(50);
    expect(events.filter(isTerminalEvent).map((e) => e.type)).toEqual(['cancelled']);
    expect(streamBreaches(events, 50)).toEqual([]);
  });

  it('rejects an invalid spec with the VALIDATION_FAILED envelope naming the field', async () => {
    const { error, status } = await lane.reject({ durationMs: 200_000, steps: 0 });
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/durationMs/);
    expect(error.message).toMatch(/steps/);
    if (status !== undefined) expect(status).toBe(400);
  });
});
