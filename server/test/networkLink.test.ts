import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  API_PATHS,
  ErrorEnvelope,
  LinkId,
  LinkResponse,
  NETWORK_LINK_COOKIE,
  NETWORK_PATHS,
  NETWORK_PRESETS,
  RECEIVER_PATHS,
  type TaskSpec,
} from '@transport-lab/shared';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShapedSocket } from '../src/network/index.ts';
import { type LabClient, startTestServer, type TestServer } from './harness.ts';
import { Connection, chooseLink } from './networkHarness.ts';
import { until } from './wireHarness.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const quick: TaskSpec = { durationMs: 0, steps: 1 };

async function getLink(cookie?: string): Promise<LinkResponse> {
  const res = await fetch(`${server.baseUrl}${NETWORK_PATHS.link}`, { headers: cookie ? { cookie } : {} });
  expect(res.status).toBe(200);
  return LinkResponse.parse(await res.json());
}

/** What socket node:http handed the request marked `x-probe: <probe>` to. */
function socketOf(probe: string): Promise<IncomingMessage['socket']> {
  return new Promise((resolve) => {
    const listener = (req: IncomingMessage) => {
      if (req.headers['x-probe'] !== probe) return;
      server.app.httpServer.off('request', listener);
      resolve(req.socket);
    };
    server.app.httpServer.prependListener('request', listener);
  });
}

describe('PUT and GET /api/network/link', () => {
  it('gives a preset link: its cookie (HttpOnly, SameSite=Lax, Path=/), Connection: close, and the packet-level figures', async () => {
    const res = await fetch(`${server.baseUrl}${NETWORK_PATHS.link}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ preset: 'fast-4g' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('connection')).toBe('close');
    const link = LinkResponse.parse(await res.json());
    expect(link.preset).toBe('fast-4g');
    expect(link.profile).toEqual(NETWORK_PRESETS['fast-4g'].profile);
    expect(NETWORK_PRESETS['3g'].profile).toMatchObject({ latencyMs: 150, downKbps: 700, upKbps: 700 });
    expect(LinkId.parse(link.linkId)).toHaveLength(22); // 128 random bits, base64url
    expect(res.headers.get('set-cookie')).toBe(
      `${NETWORK_LINK_COOKIE}=${link.linkId}; Path=/; HttpOnly; SameSite=Lax`,
    );
    expect(await getLink(`${NETWORK_LINK_COOKIE}=${link.linkId}`)).toEqual(link);
  });

  it('gives a custom link, and a new id at each choice; GET without a known link answers none', async () => {
    const custom = {
      latencyMs: 120,
      jitterMs: 30,
      downKbps: 1_000,
      upKbps: 500,
      dropout: { chancePerSecond: 0.1, stallMs: 800 },
    };
    const first = await chooseLink(server.baseUrl, { custom });
    expect(first.link).toMatchObject({ preset: null, profile: custom });
    const second = await chooseLink(server.baseUrl, { custom }, first.cookie);
    expect(second.link.linkId).not.toBe(first.link.linkId);
    const none = { linkId: null, preset: null, profile: NETWORK_PRESETS.none.profile };
    expect(await getLink()).toEqual(none);
    // A cookie this server does not know (chosen before a restart, or retired) names a link that
    // shapes nothing: adopted, so that the browser's connections stay its own.
    const unknown = await getLink(`${NETWORK_LINK_COOKIE}=unknownunknownunknown`);
    expect(unknown).toMatchObject({ preset: 'none', profile: NETWORK_PRESETS.none.profile });
    // The previous link was retired by the second choice: its conditions are gone.
    const retired = await getLink(first.cookie);
    expect(retired).toMatchObject({ preset: 'none', profile: NETWORK_PRESETS.none.profile });
  });

  it('refuses a malformed choice with 400 in the envelope', async () => {
    for (const body of [
      { preset: '5g' },
      { custom: { latencyMs: -1, jitterMs: 0 } },
      { preset: 'none', x: 1 },
    ]) {
      const res = await fetch(`${server.baseUrl}${NETWORK_PATHS.link}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      expect(ErrorEnvelope.parse(await res.json()).error.code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('the intake', () => {
  it('hands node:http the real net.Socket without a link and with `none`, and a ShapedSocket with a shaped link', async () => {
    const none = await chooseLink(server.baseUrl, { preset: 'none' });
    const shaped = await chooseLink(server.baseUrl, { custom: { latencyMs: 5, jitterMs: 0 } });
    const cases: Array<[string, string | undefined, 'real' | 'shaped']> = [
      ['no-cookie', undefined, 'real'],
      ['none', none.cookie, 'real'],
      ['unknown', `${NETWORK_LINK_COOKIE}=AAAAAAAAAAAAAAAAAAAAAA`, 'real'],
      ['shaped', shaped.cookie, 'shaped'],
    ];
    for (const [probe, cookie, expected] of cases) {
      const seen = socketOf(probe);
      const connection = new Connection(server.baseUrl, cookie);
      const answer = await connection.request('GET', API_PATHS.health, { headers: { 'x-probe': probe } });
      connection.close();
      expect(answer.status).toBe(200);
      const socket = await seen;
      if (expected === 'real') {
        expect(socket, probe).toBeInstanceOf(Socket);
      } else {
        expect(socket, probe).toBeInstanceOf(ShapedSocket);
        expect(socket.remoteAddress).toBe('127.0.0.1');
        expect((socket as unknown as ShapedSocket).encrypted).toBeUndefined();
      }
    }
  });

  it('reads a head that comes in pieces, and a POST body sent after it', async () => {
    const { cookie } = await chooseLink(server.baseUrl, { custom: { latencyMs: 5, jitterMs: 0 } });
    const body = JSON.stringify(quick);
    const head =
      `POST ${API_PATHS.run} HTTP/1.1\r\nHost: x\r\nCookie: a=b; ${cookie}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const socket = new Socket();
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
      });
      socket.on('close', () => resolve(text));
    });
    await new Promise<void>((resolve) =>
      socket.connect(Number(new URL(server.baseUrl).port), '127.0.0.1', resolve),
    );
    // One byte at a time across the blank line, then the body apart: every piece its own segment.
    socket.setNoDelay(true);
    for (const piece of [
      head.slice(0, 10),
      head.slice(10, -3),
      head.slice(-3, -2),
      head.slice(-2, -1),
      head.slice(-1),
      body,
    ]) {
      socket.write(piece);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const text = await answer;
    expect(text.startsWith('HTTP/1.1 200')).toBe(true);
    expect(text).toContain('"status":"succeeded"');
  });
});

describe('choosing again', () => {
  it('closes every other open connection of the browser’s previous link, shaped or not, and the next ones follow the new link', async () => {
    const shapedLink = await chooseLink(server.baseUrl, { custom: { latencyMs: 10, jitterMs: 0 } });
    const noneLink = await chooseLink(server.baseUrl, { preset: 'none' });

    // Under the shaped link: a keep-alive connection, an event stream and a websocket.
    const idle = new Connection(server.baseUrl, shapedLink.cookie);
    await idle.request('GET', API_PATHS.health);
    const started = await new Connection(server.baseUrl).request('POST', API_PATHS.tasks, {
      body: { spec: { durationMs: 60_000, steps: 1 } },
    });
    const taskId = JSON.parse(started.body).task.id as string;
    const streamConnection = new Connection(server.baseUrl, shapedLink.cookie);
    const stream = streamConnection.stream(API_PATHS.stream(taskId));
    await stream.next(() => true, 'first message');
    const socket: LabClient = connect(server.baseUrl, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { cookie: shapedLink.cookie },
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    // Under the none link: an idle keep-alive connection, unshaped but known.
    const plain = new Connection(server.baseUrl, noneLink.cookie);
    await plain.request('GET', API_PATHS.health);
    const plainSockets = () => Object.values(plain.agent.freeSockets).flat().length;
    expect(plainSockets()).toBe(1);

    const fromShaped = await chooseLink(server.baseUrl, { preset: 'fast-4g' }, shapedLink.cookie);
    expect(fromShaped.connection).toBe('close');
    expect(await disconnected).toBe('transport close');
    await until(() => stream.ended, Boolean, 'the event stream is closed');
    await until(
      () => Object.values(idle.agent.freeSockets).flat().length,
      (n) => n === 0,
      'the idle one is closed',
    );

    await chooseLink(server.baseUrl, { preset: 'slow-4g' }, noneLink.cookie);
    await until(plainSockets, (n) => n === 0, 'the none link’s idle connection is closed');

    for (const c of [idle, streamConnection, plain]) c.close();
    socket.close();
  });
});

describe('the receiver’s relay', () => {
  it('answers a credentialed EventSource (the page’s cookie, for the relay hop’s link) with its origin, not *', async () => {
    const origin = server.baseUrl;
    const started = await new Connection(server.baseUrl).request('POST', API_PATHS.tasks, {
      body: { spec: quick },
    });
    const taskId = JSON.parse(started.body).task.id as string;
    const preflight = await fetch(`${server.receiverUrl}${RECEIVER_PATHS.relay(taskId)}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    const relay = new Connection(server.receiverUrl).stream(RECEIVER_PATHS.relay(taskId), { origin });
    await relay.next(() => true, 'the relay’s first message');
    expect(relay.headers?.['access-control-allow-origin']).toBe(origin);
    expect(relay.headers?.['access-control-allow-credentials']).toBe('true');
    relay.close();
    const res = await fetch(`${server.receiverUrl}${RECEIVER_PATHS.relay('not a task id')}`, {
      headers: { origin },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('vary')).toMatch(/origin/i);
  });
});

describe('NETWORK_SHAPING=off', () => {
  it('refuses a choice with 503 and shapes nothing', async () => {
    const off = await startTestServer({ NETWORK_SHAPING: 'off' });
    try {
      const res = await fetch(`${off.baseUrl}${NETWORK_PATHS.link}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ preset: '3g' }),
      });
      expect(res.status).toBe(503);
      expect(ErrorEnvelope.parse(await res.json()).error.code).toBe('UNAVAILABLE');
    } finally {
      await off.close();
    }
  });
});

describe('the page load', () => {
  let withPage: TestServer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'transport-lab-page-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>page</title>');
    withPage = await startTestServer({ STATIC_DIR: dir });
  });
  afterAll(async () => {
    await withPage.close();
  });

  it('gives a browser without a known link one that shapes nothing, and closes that connection', async () => {
    const first = await fetch(`${withPage.baseUrl}/`, { headers: { accept: 'text/html' } });
    expect(first.status).toBe(200);
    const cookie = first.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(
      new RegExp(`^${NETWORK_LINK_COOKIE}=[A-Za-z0-9_-]{16,64}; Path=/; HttpOnly; SameSite=Lax$`),
    );
    expect(first.headers.get('connection')).toBe('close');
    const pair = cookie.split(';')[0] ?? '';
    const link = LinkResponse.parse(
      await (await fetch(`${withPage.baseUrl}${NETWORK_PATHS.link}`, { headers: { cookie: pair } })).json(),
    );
    expect(link).toMatchObject({ linkId: pair.split('=')[1], preset: 'none' });

    // Known link: nothing set, the connection kept; an API call or an asset never gets one.
    const again = await fetch(`${withPage.baseUrl}/`, { headers: { accept: 'text/html', cookie: pair } });
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(again.headers.get('connection')).not.toBe('close');
    const api = await fetch(`${withPage.baseUrl}${NETWORK_PATHS.link}`);
    expect(api.headers.get('set-cookie')).toBeNull();
  });
});
