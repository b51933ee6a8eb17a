import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { API_PATHS, HTTP_HEADERS, PublicSettings } from '@transport-lab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiverSource } from '../src/http/pageHeaders.ts';
import { startTestServer, type TestServer, tempDataDir } from './harness.ts';

/** Every header helmet can add: none of them may reach a lane's answer. */
const HELMET_HEADERS = [
  'content-security-policy',
  'cross-origin-embedder-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
] as const;

/** A CSP header as directive → its sources. */
function directives(csp: string | null): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of (csp ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out[name] = sources;
  }
  return out;
}

describe('security headers: on the page, off the lanes', () => {
  let srv: TestServer;
  let staticDir: string;
  beforeAll(async () => {
    // A stand-in for client/dist: the page, one asset.
    staticDir = tempDataDir();
    mkdirSync(join(staticDir, 'assets'));
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>lab</title>');
    writeFileSync(join(staticDir, 'assets', 'index-abc.js'), 'export {};');
    srv = await startTestServer({ STATIC_DIR: staticDir });
  });
  afterAll(async () => {
    await srv.close();
    rmSync(staticDir, { recursive: true, force: true });
  });

  it('serves the page with a CSP that names only itself, the receiver and data: images', async () => {
    const res = await fetch(`${srv.baseUrl}/`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const receiverPort = new URL(srv.receiverUrl).port;
    expect(directives(res.headers.get('content-security-policy'))).toEqual({
      'default-src': ["'self'"],
      'script-src': ["'self'"],
      'style-src': ["'self'"],
      'img-src': ["'self'", 'data:'],
      'font-src': ["'self'"],
      'connect-src': ["'self'", `127.0.0.1:${receiverPort}`],
      'object-src': ["'none'"],
      'base-uri': ["'self'"],
      'form-action': ["'self'"],
      'frame-ancestors': ["'none'"],
    });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    // Plain HTTP on a LAN: no HSTS, and nothing that would demand cross-origin isolation.
    expect(res.headers.get('strict-transport-security')).toBeNull();
    expect(res.headers.get('cross-origin-embedder-policy')).toBeNull();
  });

  it('sends them with the assets, the single-page fallback and the page’s own 404 too', async () => {
    const answers = [
      await fetch(`${srv.baseUrl}/assets/index-abc.js`),
      await fetch(`${srv.baseUrl}/room/ABCD`, { headers: { accept: 'text/html' } }),
      await fetch(`${srv.baseUrl}/not-a-page`, { method: 'POST' }),
    ];
    expect(answers.map((res) => res.status)).toEqual([200, 200, 404]);
    for (const res of answers) {
      expect(res.headers.get('content-security-policy'), res.url).toMatch(/default-src 'self'/);
      expect(res.headers.get('x-content-type-options'), res.url).toBe('nosniff');
    }
  });

  it('adds none of them to a lane’s answers, the API, socket.io or the receiver', async () => {
    const run = await fetch(`${srv.baseUrl}${API_PATHS.run}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ durationMs: 0, steps: 1 }),
    });
    const created = await fetch(`${srv.baseUrl}${API_PATHS.tasks}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [HTTP_HEADERS.prefer]: 'respond-async, wait=0' },
      body: JSON.stringify({ spec: { durationMs: 0, steps: 1 } }),
    });
    const { task } = (await created.json()) as { task: { id: string } };
    const stream = new AbortController();
    const answers = {
      run,
      created,
      task: await fetch(`${srv.baseUrl}${API_PATHS.task(task.id)}`),
      events: await fetch(`${srv.baseUrl}${API_PATHS.events(task.id)}?after=0&waitMs=0`),
      stream: await fetch(`${srv.baseUrl}${API_PATHS.stream(task.id)}`, { signal: stream.signal }),
      settings: await fetch(`${srv.baseUrl}${API_PATHS.settings}`),
      apiNotFound: await fetch(`${srv.baseUrl}/api/nothing`),
      health: await fetch(`${srv.baseUrl}${API_PATHS.health}`),
      openapi: await fetch(`${srv.baseUrl}${API_PATHS.openapi}`),
      asyncapi: await fetch(`${srv.baseUrl}${API_PATHS.asyncapi}`),
      socketIo: await fetch(`${srv.baseUrl}/socket.io/?EIO=4&transport=polling`),
      relay: await fetch(`${srv.receiverUrl}/relay/tasks/bad.id`),
    };
    stream.abort();
    expect(answers.run.status).toBe(200);
    expect(answers.stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(answers.socketIo.status).toBe(200);
    expect([answers.openapi.status, answers.asyncapi.status]).toEqual([200, 200]);
    for (const [name, res] of Object.entries(answers)) {
      const present = HELMET_HEADERS.filter((header) => res.headers.has(header));
      expect(present, name).toEqual([]);
    }
  });
});

describe('receiverSource: the receiver as the page reaches it, in CSP’s grammar', () => {
  const reqWithHost = (host: string | undefined) => ({ headers: { host } }) as unknown as IncomingMessage;

  it('names the page’s own hostname on the receiver’s port, without a scheme', () => {
    expect(receiverSource(reqWithHost('192.168.1.20:3000'), 3001)).toBe('192.168.1.20:3001');
    expect(receiverSource(reqWithHost('Lab.Local'), 3001)).toBe('lab.local:3001');
  });

  it('falls back to any host on that port for what CSP cannot name or a Host that is not one', () => {
    expect(receiverSource(reqWithHost('[::1]:3000'), 3001)).toBe('*:3001');
    expect(receiverSource(reqWithHost(undefined), 3001)).toBe('*:3001');
    expect(receiverSource(reqWithHost("x; script-src 'unsafe-inline'"), 3001)).toBe('*:3001');
  });
});

describe('the CSP with the HTTP/2 demo port on (H2_PORT)', () => {
  it('lets the page connect to it over https on the page’s host, and the settings name it', async () => {
    const staticDir = tempDataDir();
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>lab</title>');
    const srv = await startTestServer({ STATIC_DIR: staticDir, H2_PORT: '0' });
    try {
      const settings = PublicSettings.parse(
        await (await fetch(`${srv.baseUrl}${API_PATHS.settings}`)).json(),
      );
      expect(settings.h2Port).toBeGreaterThan(0);
      const res = await fetch(`${srv.baseUrl}/`, { headers: { accept: 'text/html' } });
      const receiverPort = new URL(srv.receiverUrl).port;
      expect(directives(res.headers.get('content-security-policy'))['connect-src']).toEqual([
        "'self'",
        `127.0.0.1:${receiverPort}`,
        `https://127.0.0.1:${settings.h2Port}`,
      ]);
    } finally {
      await srv.close();
      rmSync(staticDir, { recursive: true, force: true });
    }
  });
});
