import { request } from 'node:http';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.ts';

/** A plain HTTP request with the headers given as is (fetch would add its own), status and headers back. */
function send(
  url: string,
  { method = 'GET', headers = {} }: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether a socket.io client sending `origin` (none when undefined) gets connected; the error if not. */
async function socketVerdict(
  baseUrl: string,
  transport: 'websocket' | 'polling',
  origin?: string,
): Promise<{ connected: true } | { connected: false; error: Error }> {
  const socket = connect(baseUrl, {
    transports: [transport],
    reconnection: false,
    forceNew: true,
    ...(origin === undefined ? {} : { extraHeaders: { origin } }),
  });
  try {
    return await new Promise((resolve) => {
      socket.once('connect', () => resolve({ connected: true }));
      socket.once('connect_error', (error) => resolve({ connected: false, error }));
    });
  } finally {
    socket.close();
  }
}

const ALLOWED = 'http://lab.example:8080';

describe('origins: socket.io and the receiver answer the lab’s own page only', () => {
  let srv: TestServer;
  let pageOrigin: string;
  beforeAll(async () => {
    srv = await startTestServer({ ALLOWED_ORIGINS: `${ALLOWED}/, https://Other.Example` });
    pageOrigin = srv.baseUrl;
  });
  afterAll(() => srv.close());

  describe('socket.io', () => {
    it.each(['websocket', 'polling'] as const)(
      '%s: refuses a client from http://evil.example',
      async (transport) => {
        const verdict = await socketVerdict(srv.baseUrl, transport, 'http://evil.example');
        expect(verdict.connected).toBe(false);
      },
    );

    it.each([
      ['no Origin (a Node client, the tests’ and benchmark’s)', undefined],
      ['the page’s own origin (same host and port)', 'PAGE'],
      ['an origin listed in ALLOWED_ORIGINS', ALLOWED],
    ])('accepts %s', async (_name, origin) => {
      const verdict = await socketVerdict(srv.baseUrl, 'websocket', origin === 'PAGE' ? pageOrigin : origin);
      expect(verdict).toEqual({ connected: true });
    });

    it('refuses the page’s host on another port, and `null`, with a 403 that says why', async () => {
      const otherPort = `http://127.0.0.1:${Number(new URL(srv.baseUrl).port) + 1}`;
      for (const origin of [otherPort, 'null']) {
        const res = await send(`${srv.baseUrl}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
        expect(res.status, origin).toBe(403);
        expect(JSON.parse(res.body).message, origin).toMatch(/not the lab’s own page.*ALLOWED_ORIGINS/);
        expect(res.headers['access-control-allow-origin'], origin).toBeUndefined();
      }
      // The same handshake from the page itself opens a session.
      const own = await send(`${srv.baseUrl}/socket.io/?EIO=4&transport=polling`, {
        headers: { origin: pageOrigin },
      });
      expect(own.status).toBe(200);
      expect(own.body).toMatch(/"sid"/);
    });

    it('guards every namespace: /room refuses a foreign page too', async () => {
      const socket = connect(`${srv.baseUrl}/room`, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        extraHeaders: { origin: 'http://evil.example' },
      });
      const outcome = await new Promise<string>((resolve) => {
        socket.once('connect', () => resolve('connected'));
        socket.once('connect_error', () => resolve('refused'));
      });
      socket.close();
      expect(outcome).toBe('refused');
    });
  });

  describe('the receiver’s relay', () => {
    const preflight = (origin: string) =>
      send(`${srv.receiverUrl}/relay/tasks/some-task`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET' },
      });

    it('answers the page’s origin with CORS and credentials', async () => {
      const res = await preflight(pageOrigin);
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(pageOrigin);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      // And a relay request itself (a malformed task id, answered at once) names the page too.
      const bad = await send(`${srv.receiverUrl}/relay/tasks/bad.id`, { headers: { origin: pageOrigin } });
      expect(bad.status).toBe(400);
      expect(bad.headers['access-control-allow-origin']).toBe(pageOrigin);
    });

    it('answers an origin listed in ALLOWED_ORIGINS (written as the browser spells it)', async () => {
      for (const origin of [ALLOWED, 'https://other.example']) {
        const res = await preflight(origin);
        expect(res.status, origin).toBe(204);
        expect(res.headers['access-control-allow-origin'], origin).toBe(origin);
      }
    });

    it.each([
      ['another site', 'http://evil.example'],
      ['a sandboxed frame or a file (`null`)', 'null'],
      ['the receiver’s own origin (not the page’s port)', 'RECEIVER'],
      ['the page’s port on another hostname', 'LOCALHOST'],
    ])('refuses %s with 403 and no Access-Control-Allow-Origin', async (_name, given) => {
      const port = new URL(srv.baseUrl).port;
      const origin =
        given === 'RECEIVER' ? srv.receiverUrl : given === 'LOCALHOST' ? `http://localhost:${port}` : given;
      for (const res of [
        await preflight(origin),
        await send(`${srv.receiverUrl}/relay/tasks/some-task`, { headers: { origin } }),
      ]) {
        expect(res.status).toBe(403);
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
        expect(res.headers['access-control-allow-credentials']).toBeUndefined();
        expect(JSON.parse(res.body).error.code).toBe('FORBIDDEN');
      }
    });

    it('still answers a request without Origin (a server, curl) with `*` and no credentials', async () => {
      const res = await send(`${srv.receiverUrl}/relay/tasks/bad.id`);
      expect(res.status).toBe(400);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    });
  });
});
