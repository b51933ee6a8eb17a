import {
  API_PATHS,
  CreateTaskResponse,
  type LabTag,
  labTagHeaders,
  labTagQuery,
  RECEIVER_PATHS,
  REQUEST_BYTES_HEADER,
  RunResponse,
  SOCKET_EVENTS,
  SSE,
} from '@transport-lab/shared';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCollector, emitAck, type LabClient, startTestServer, type TestServer } from './harness.ts';
import { newRunId, readWire } from './wireHarness.ts';

// WIRE_ACCOUNTING=off is the benchmark's "measurement off" server: the same lanes, none of the
// measurement. Each check is made on both servers, so that it fails if the switch does nothing.
const servers: Record<'on' | 'off', TestServer | undefined> = { on: undefined, off: undefined };
const serverOf = (accounting: 'on' | 'off') => servers[accounting] as TestServer;

beforeAll(async () => {
  servers.on = await startTestServer({ WIRE_ACCOUNTING: 'on' });
  servers.off = await startTestServer({ WIRE_ACCOUNTING: 'off' });
});
afterAll(async () => {
  await servers.on?.close();
  await servers.off?.close();
});

/** A tagged websocket task to its end: its events, and whether `connection:wire` came first. */
async function websocketRun(baseUrl: string, tag: LabTag) {
  const socket: LabClient = connect(baseUrl, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    query: labTagQuery(tag),
  });
  try {
    let handshakeReported = false;
    socket.on(SOCKET_EVENTS.wire, () => {
      handshakeReported = true;
    });
    const events = new EventCollector(socket);
    const ack = await emitAck(socket, SOCKET_EVENTS.start, { durationMs: 50, steps: 3 });
    if (!ack.ok) throw new Error(ack.error.message);
    // The report is the first packet after the handshake: by the terminal event it has come, if sent.
    const received = await events.terminal(ack.task.id);
    return { events: received, handshakeReported };
  } finally {
    socket.disconnect();
  }
}

describe.each(['on', 'off'] as const)('WIRE_ACCOUNTING=%s', (accounting) => {
  const measured = accounting === 'on';

  it(`runs a tagged task to its end and ${measured ? 'sets' : 'leaves out'} x-request-bytes`, async () => {
    const { baseUrl } = serverOf(accounting);
    const tag: LabTag = { lane: 'request-response', runId: newRunId() };
    const res = await fetch(`${baseUrl}${API_PATHS.run}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...labTagHeaders(tag) },
      body: JSON.stringify({ durationMs: 20, steps: 2 }),
    });
    expect(res.status).toBe(200);
    expect(RunResponse.parse(await res.json()).task.status).toBe('succeeded');
    expect(res.headers.has(REQUEST_BYTES_HEADER)).toBe(measured);
    // Only with accounting on does the server know the run (off: 404 for every run).
    expect((await readWire(baseUrl, tag.runId)).status).toBe(measured ? 200 : 404);
  });

  it(`delivers every websocket event and ${measured ? 'sends' : 'does not send'} connection:wire`, async () => {
    const { baseUrl } = serverOf(accounting);
    const tag: LabTag = { lane: 'websocket', runId: newRunId() };
    const run = await websocketRun(baseUrl, tag);
    expect(run.events.map((e) => e.type)).toEqual([
      'queued',
      'started',
      'progress',
      'progress',
      'progress',
      'succeeded',
    ]);
    expect(run.handshakeReported).toBe(measured);
  });

  it(`${measured ? 'opens' : 'does not open'} the task stream and the relay with a wire message`, async () => {
    const server = serverOf(accounting);
    const created = await fetch(`${server.baseUrl}${API_PATHS.tasks}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        spec: { durationMs: 20, steps: 2 },
        webhook: { url: server.app.receiver.urls()?.webhookUrl },
      }),
    });
    expect(created.status).toBe(202);
    const taskId = CreateTaskResponse.parse(await created.json()).task.id;
    // Both streams end after the task's terminal event, so each can be read whole.
    const stream = await (await fetch(`${server.baseUrl}${API_PATHS.stream(taskId)}?after=0`)).text();
    const relay = await (await fetch(`${server.receiverUrl}${RECEIVER_PATHS.relay(taskId)}`)).text();
    const wireMessage = new RegExp(`^event: ?${SSE.wireEvent}$`, 'm');
    expect(stream).toMatch(/"type":"succeeded"/);
    expect(relay).toMatch(/"type":"succeeded"/);
    expect(wireMessage.test(stream)).toBe(measured);
    expect(wireMessage.test(relay)).toBe(measured);
  });

  it(`${measured ? 'exports' : 'has no'} transport_lab_wire_* metrics`, async () => {
    const text = await (await fetch(`${serverOf(accounting).baseUrl}${API_PATHS.metrics}`)).text();
    expect(text.includes('transport_lab_wire_requests_total')).toBe(measured);
    expect(text).toContain('transport_lab_task_events_total');
  });
});
