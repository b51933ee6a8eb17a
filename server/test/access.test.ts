import {
  API_PATHS,
  type CancelAck,
  type ClientToServerEvents,
  ErrorEnvelope,
  FAULT_PATHS,
  type Fault,
  type LabTag,
  labTagHeaders,
  labTagQuery,
  type ServerToClientEvents,
  SOCKET_EVENTS,
  StartAck,
  TaskResponse,
} from '@transport-lab/shared';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOperatorToken } from '../src/access/index.ts';
import { startTestServer, type TestServer } from './harness.ts';
import { newRunId } from './wireHarness.ts';

// The tests run on loopback, where every request is the operator's. A proxy on this machine that
// forwards for a phone says so in X-Forwarded-For, and the server then treats the request as the
// phone's: that is how these tests speak from elsewhere (netns.test.ts does it from a real address).
const FROM_A_PHONE = { 'x-forwarded-for': '203.0.113.9' };
const TOKEN = generateOperatorToken();
const SLOW = { durationMs: 60_000, steps: 60 };

let srv: TestServer;
const restarts: number[] = [];
const sockets: Socket[] = [];
beforeAll(async () => {
  srv = await startTestServer({ OPERATOR_TOKEN: TOKEN }, { restart: () => restarts.push(Date.now()) });
});
afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await srv.close();
});

async function postFault(fault: Fault, headers: Record<string, string> = {}) {
  const res = await fetch(`${srv.baseUrl}${FAULT_PATHS.faults}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(fault),
  });
  return { status: res.status, json: (await res.json()) as unknown };
}

async function createTask(tag: LabTag | undefined): Promise<string> {
  const res = await fetch(`${srv.baseUrl}${API_PATHS.tasks}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...FROM_A_PHONE, ...(tag ? labTagHeaders(tag) : {}) },
    body: JSON.stringify({ spec: SLOW }),
  });
  expect(res.status).toBe(202);
  return TaskResponse.parse(await res.json()).task.id;
}

async function cancel(taskId: string, headers: Record<string, string>) {
  const res = await fetch(`${srv.baseUrl}${API_PATHS.cancel(taskId)}`, {
    method: 'POST',
    headers: { ...FROM_A_PHONE, ...headers },
  });
  return { status: res.status, json: (await res.json()) as unknown };
}

const statusOf = async (taskId: string) =>
  TaskResponse.parse(await (await fetch(`${srv.baseUrl}${API_PATHS.task(taskId)}`)).json()).task.status;

describe('faults that reach other runs need the operator', () => {
  const operatorOnly: Fault[] = [
    { kind: 'restart-server' },
    { kind: 'restart-server', runId: newRunId() },
    { kind: 'receiver', runId: newRunId(), mode: 'timeout', count: 1 },
  ];

  it.each(operatorOnly)(
    'refuses $kind from a phone with 403 FORBIDDEN saying what it needs',
    async (fault) => {
      const { status, json } = await postFault(fault, FROM_A_PHONE);
      expect(status).toBe(403);
      const { error } = ErrorEnvelope.parse(json);
      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toMatch(/needs the operator.*Authorization: Bearer/);
    },
  );

  it('refuses a wrong token, and allows the operator’s token from a phone', async () => {
    const wrong = await postFault(
      { kind: 'restart-server' },
      { ...FROM_A_PHONE, authorization: `Bearer ${generateOperatorToken()}` },
    );
    expect(wrong.status).toBe(403);
    const before = restarts.length;
    const right = await postFault(
      { kind: 'restart-server' },
      { ...FROM_A_PHONE, authorization: `Bearer ${TOKEN}` },
    );
    expect(right.status).toBe(201);
    await expect.poll(() => restarts.length).toBe(before + 1);
  });

  it('allows a phone the faults that stay within its own run', async () => {
    const runId = newRunId();
    const own: Fault[] = [
      { kind: 'drop-connections', runId, lane: 'sse' },
      { kind: 'buffer-streams', runId, on: true },
      { kind: 'buffer-streams', runId, on: false },
      { kind: 'receiver', runId, mode: 'unavailable-503', retryAfterS: 1, count: 3 },
      { kind: 'receiver', runId, mode: 'normal' },
      { kind: 'slow-downstream', runId, stallMs: 1_000 },
    ];
    for (const fault of own) expect((await postFault(fault, FROM_A_PHONE)).status, fault.kind).toBe(201);
  });
});

describe('cancelling over HTTP needs the task’s owner', () => {
  it('lets the run that created the task cancel it, and refuses another run and an untagged request', async () => {
    const mine: LabTag = { lane: 'short-polling', runId: newRunId() };
    const taskId = await createTask(mine);
    for (const headers of [labTagHeaders({ lane: 'short-polling', runId: newRunId() }), {}]) {
      const refused = await cancel(taskId, headers);
      expect(refused.status).toBe(403);
      expect(ErrorEnvelope.parse(refused.json).error.code).toBe('FORBIDDEN');
    }
    expect(await statusOf(taskId)).not.toBe('cancelled');
    // The page's own cancel goes with its lane's tag: the same run, whichever lane.
    const allowed = await cancel(taskId, labTagHeaders({ lane: 'hybrid', runId: mine.runId }));
    expect(allowed.status).toBe(200);
    expect(TaskResponse.parse(allowed.json).task.status).toBe('cancelled');
  });

  it('lets the operator cancel anyone’s task, an untagged one included', async () => {
    const taskId = await createTask(undefined);
    expect((await cancel(taskId, {})).status).toBe(403);
    const byToken = await cancel(taskId, { authorization: `Bearer ${TOKEN}` });
    expect(byToken.status).toBe(200);
    expect(await statusOf(taskId)).toBe('cancelled');
  });
});

describe('cancelling over socket.io needs the task’s owner', () => {
  type LabSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

  async function phoneSocket(tag?: LabTag): Promise<LabSocket> {
    const socket: LabSocket = connect(srv.baseUrl, {
      transports: ['websocket'],
      forceNew: true,
      extraHeaders: FROM_A_PHONE,
      ...(tag ? { query: labTagQuery(tag) } : {}),
    });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return socket;
  }

  const start = (socket: LabSocket) =>
    new Promise<string>((resolve, reject) =>
      socket.emit(SOCKET_EVENTS.start, SLOW, (raw) => {
        const ack = StartAck.parse(raw);
        if (ack.ok) resolve(ack.task.id);
        else reject(new Error(ack.error.message));
      }),
    );
  const cancelOn = (socket: LabSocket, taskId: string) =>
    new Promise<CancelAck>((resolve) => socket.emit(SOCKET_EVENTS.cancel, { taskId }, resolve));

  it('refuses another phone’s connection, and lets the connection that started the task cancel it', async () => {
    const owner = await phoneSocket();
    const other = await phoneSocket({ lane: 'websocket', runId: newRunId() });
    const taskId = await start(owner);
    const refused = await cancelOn(other, taskId);
    expect(refused.ok || refused.error.code).toBe('FORBIDDEN');
    expect(await statusOf(taskId)).not.toBe('cancelled');
    const allowed = await cancelOn(owner, taskId);
    expect(allowed.ok && allowed.task.status).toBe('cancelled');
  });

  it('lets a new connection of the same run cancel it (a reconnection that was not recovered)', async () => {
    const tag: LabTag = { lane: 'websocket', runId: newRunId() };
    const first = await phoneSocket(tag);
    const taskId = await start(first);
    first.disconnect();
    const again = await phoneSocket(tag);
    const allowed = await cancelOn(again, taskId);
    expect(allowed.ok && allowed.task.status).toBe('cancelled');
  });
});
