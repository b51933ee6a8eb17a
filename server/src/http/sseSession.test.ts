import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Session, SessionOptions } from 'better-sse';
import { afterEach, describe, expect, it } from 'vitest';
import { openSseSession } from './sseSession.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** A server whose one route opens a session as the lanes do, and hands it to the test. */
async function serve(
  options: SessionOptions,
): Promise<{ url: string; sessions: Session[]; nextSession: () => Promise<Session> }> {
  const sessions: Session[] = [];
  const waiting: Array<(session: Session) => void> = [];
  server = createServer(async (req, res) => {
    res.setHeader('x-request-id', 'req-1');
    res.setHeader('cache-control', 'set-by-middleware');
    const session = await openSseSession(req, res, options);
    sessions.push(session);
    waiting.shift()?.(session);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/stream?after=3`,
    sessions,
    nextSession: () => new Promise((resolve) => waiting.push(resolve)),
  };
}

/** Opens the stream and gathers its head and what arrives until `until` matches the text. */
function open(url: string, headers: Record<string, string>, until: RegExp) {
  return new Promise<{ status: number; headers: Record<string, unknown>; text: string; close: () => void }>(
    (resolve, reject) => {
      const req = request(url, { headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (until.test(text))
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, close: () => req.destroy() });
        });
      });
      req.on('error', (error) => {
        if (!req.destroyed) reject(error);
      });
      req.end();
    },
  );
}

describe('openSseSession (better-sse on a lean node:http connection)', () => {
  it('writes the SSE head: the library defaults, under the route’s own headers, under the options’', async () => {
    const { url, nextSession } = await serve({
      retry: 1500,
      keepAlive: null,
      trustClientEventId: false,
      headers: { 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no', Pragma: undefined },
    });
    const sessionP = nextSession();
    const stream = await open(url, {}, /retry:/);
    const session = await sessionP;
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream');
    expect(stream.headers['cache-control']).toBe('no-cache, no-transform');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    expect(stream.headers['x-request-id']).toBe('req-1');
    expect(stream.headers.pragma).toBeUndefined();
    expect(stream.text).toContain('retry:1500');
    expect(session.lastId).toBe('');
    stream.close();
  });

  it('pushes events, reads a trusted Last-Event-ID, and ends the session when the client goes', async () => {
    const { url, nextSession } = await serve({ keepAlive: null });
    const sessionP = nextSession();
    const streamP = open(url, { 'last-event-id': '41' }, /id:42/);
    const session = await sessionP;
    expect(session.lastId).toBe('41');
    expect(session.getResponse().headers.get('content-type')).toBe('text/event-stream');
    session.push({ step: 1 }, 'message', '42');
    const stream = await streamP;
    expect(stream.text).toMatch(/event:message\nid:42\ndata:\{"step":1\}\n\n/);
    const disconnected = once(session, 'disconnected');
    stream.close();
    await disconnected;
    expect(session.isConnected).toBe(false);
  });
});
