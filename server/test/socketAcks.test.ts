import {
  BOARD_EVENTS,
  BOARD_NAMESPACE,
  ROOM_EVENTS,
  ROOM_NAMESPACE,
  SOCKET_EVENTS,
} from '@transport-lab/shared';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.ts';

let srv: TestServer;
const sockets: Socket[] = [];
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await srv.close();
});

function open(namespace: string): Socket {
  const socket = connect(`${srv.baseUrl}${namespace}`, { transports: ['websocket'], forceNew: true });
  sockets.push(socket);
  return socket;
}

/** Emits `args` and resolves with the acknowledgement, which socket.io passes after them all; rejects
 *  when none comes within 5 s (the defect this guards against was a silent one). */
function ask(socket: Socket, event: string, ...args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) =>
    socket.timeout(5_000).emit(event, ...args, (error: Error | null, answer: unknown) => {
      if (error) reject(new Error(`no acknowledgement for ${event}`));
      else resolve(answer);
    }),
  );
}

// socket.io hands the ack to the server after every argument the client sent: a handler that read
// it at a fixed position never answered a client that sent one argument more (issue 11).
describe.each([
  { namespace: '/', event: SOCKET_EVENTS.cancel, payload: { taskId: 'no-such-task' }, code: 'NOT_FOUND' },
  {
    namespace: '/',
    event: SOCKET_EVENTS.subscribe,
    payload: { taskId: 'x', afterSeq: -1 },
    code: 'VALIDATION_FAILED',
  },
  { namespace: ROOM_NAMESPACE, event: ROOM_EVENTS.join, payload: { code: '??' }, code: 'VALIDATION_FAILED' },
  {
    namespace: BOARD_NAMESPACE,
    event: BOARD_EVENTS.subscribe,
    payload: { code: 'ZZZZ9999', after: 0 },
    code: 'NOT_FOUND',
  },
])('$namespace $event', ({ namespace, event, payload, code }) => {
  it('answers by the ack when the client sends extra arguments before it', async () => {
    const socket = open(namespace);
    expect(await ask(socket, event, payload, 'extra', { more: 1 })).toMatchObject({
      ok: false,
      error: { code },
    });
  });

  it('answers VALIDATION_FAILED by the ack when the ack is the only argument', async () => {
    const socket = open(namespace);
    expect(await ask(socket, event)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
  });
});
