import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { ErrorEnvelope } from '@transport-lab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, tempDataDir } from './harness.ts';

// What the probe of issue 11 found answered 500, a stack trace, or a reset connection: each must be
// a 4xx envelope (or, for the page's own paths, a plain line) with the fitting code.

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** One request with node:http, which sends the path exactly as given (fetch would normalise it). */
function send(
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<Answer> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const errorCode = (answer: Answer) => ErrorEnvelope.parse(JSON.parse(answer.body)).error.code;

let srv: TestServer;
let page: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ BODY_LIMIT_BYTES: '1024' });
  // A server with a built page, so that the single-page fallback and the static files are in the way.
  const dataDir = tempDataDir();
  const staticDir = join(dataDir, 'client');
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>lab</title>');
  page = await startTestServer({ DATA_DIR: dataDir, STATIC_DIR: staticDir });
});
afterAll(async () => {
  await srv.close();
  await page.close();
});

describe('bad percent-encoding in a path', () => {
  it.each([
    ['GET', '/api/tasks/%ZZ'],
    ['POST', '/api/tasks/%ZZ/cancel'],
    ['GET', '/api/tasks/%E0%A4%A/events'],
    ['GET', '/api/wire/%ZZ'],
    ['GET', '/api/boards/%ZZ'],
    ['POST', '/api/boards/%C0/edits'],
  ])('%s %s answers 400 VALIDATION_FAILED', async (method, path) => {
    const answer = await send(srv.baseUrl, method, path);
    expect(answer.status).toBe(400);
    expect(errorCode(answer)).toBe('VALIDATION_FAILED');
  });

  it.each(['/relay/tasks/%ZZ', '/relay/boards/%E0%A4%A'])(
    'the receiver’s %s answers 400 VALIDATION_FAILED',
    async (path) => {
      const answer = await send(srv.receiverUrl, 'GET', path);
      expect(answer.status).toBe(400);
      expect(errorCode(answer)).toBe('VALIDATION_FAILED');
    },
  );

  it.each(['/%ZZ', '/room/%E0%A4%A', '/assets/%C0.js'])(
    'the page’s %s answers a plain 400, no stack and no file path',
    async (path) => {
      const answer = await send(page.baseUrl, 'GET', path, { accept: 'text/html' });
      expect(answer.status).toBe(400);
      expect(answer.contentType).toMatch(/^text\/plain/);
      expect(answer.body).toBe('400 Bad Request\n');
    },
  );
});

describe('a page path nothing answers', () => {
  it('answers a plain 404 line, not express’s HTML page', async () => {
    const answer = await send(page.baseUrl, 'POST', '/room/x', { accept: 'text/html' });
    expect(answer.status).toBe(404);
    expect(answer.contentType).toMatch(/^text\/plain/);
    expect(answer.body).toBe('404 Not Found\n');
  });
});

describe('bodies the server cannot read', () => {
  const json = { 'content-type': 'application/json' };

  it.each([
    ['gzip', Buffer.from('not gzip at all')],
    ['br', Buffer.from('not brotli either, clearly')],
    ['deflate', Buffer.from('nor deflate')],
  ])('garbage %s answers 400 MALFORMED_JSON', async (encoding, body) => {
    const answer = await send(
      srv.baseUrl,
      'POST',
      '/api/tasks',
      { ...json, 'content-encoding': encoding },
      body,
    );
    expect(answer.status).toBe(400);
    expect(errorCode(answer)).toBe('MALFORMED_JSON');
  });

  it('a well-compressed body is read as usual (gzip and br)', async () => {
    const spec = Buffer.from(JSON.stringify({ spec: { durationMs: 0, steps: 1 } }));
    for (const [encoding, body] of [
      ['gzip', gzipSync(spec)],
      ['br', brotliCompressSync(spec)],
    ] as const) {
      const answer = await send(
        srv.baseUrl,
        'POST',
        '/api/tasks',
        { ...json, 'content-encoding': encoding },
        body,
      );
      expect(answer.status, encoding).toBe(202);
    }
  });

  it('a compressed body that inflates past the limit answers 413 PAYLOAD_TOO_LARGE', async () => {
    const bomb = gzipSync(Buffer.from(`{"spec":"${'a'.repeat(1_000_000)}"}`));
    const answer = await send(
      srv.baseUrl,
      'POST',
      '/api/tasks',
      { ...json, 'content-encoding': 'gzip' },
      bomb,
    );
    expect(answer.status).toBe(413);
    expect(errorCode(answer)).toBe('PAYLOAD_TOO_LARGE');
  });

  it('an unknown encoding or charset answers 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const encoded = await send(
      srv.baseUrl,
      'POST',
      '/api/tasks',
      { ...json, 'content-encoding': 'x-unknown' },
      Buffer.from('{}'),
    );
    const charset = await send(
      srv.baseUrl,
      'POST',
      '/api/tasks',
      { 'content-type': 'application/json; charset=koi8-r' },
      Buffer.from('{}'),
    );
    for (const answer of [encoded, charset]) {
      expect(answer.status).toBe(415);
      expect(errorCode(answer)).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('a body cut short of its Content-Length answers 400, not 500', async () => {
    // node:http would refuse to send a lying Content-Length; a raw socket does it.
    const { hostname, port } = new URL(srv.baseUrl);
    const raw = await new Promise<string>((resolve) => {
      const socket = createConnection({ host: hostname, port: Number(port) }, () => {
        socket.write(
          'POST /api/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{}',
        );
        socket.end(); // half-close: the body ends 48 bytes early
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += String(chunk);
      });
      socket.on('close', () => resolve(text));
    });
    // node:http's own answer to a request that ends mid-body, before any handler could say more.
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
  });
});

describe('a body over the limit gets a clean 413, not a reset connection', () => {
  // The receiver's limit is at least 80 KiB (a task's largest delivery); the API's is 1 024 here.
  it.each([
    ['the API', () => `${srv.baseUrl}/api/tasks`],
    ['the receiver’s /webhooks', () => `${srv.receiverUrl}/webhooks`],
    ['the receiver’s /webhooks/boards', () => `${srv.receiverUrl}/webhooks/boards`],
  ])('%s', async (_name, url) => {
    for (const size of [200_000, 2_000_000]) {
      const res = await fetch(url(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.alloc(size, 0x20),
      });
      expect(res.status, `${size} bytes`).toBe(413);
      expect(ErrorEnvelope.parse(await res.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
    }
  });

  it('chunked, without a length, on the receiver too', async () => {
    const answer = await send(
      srv.receiverUrl,
      'POST',
      '/webhooks',
      { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      Buffer.alloc(500_000, 0x20),
    );
    expect(answer.status).toBe(413);
    expect(errorCode(answer)).toBe('PAYLOAD_TOO_LARGE');
  });
});
