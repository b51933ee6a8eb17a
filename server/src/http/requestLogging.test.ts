import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { REQUEST_ID_HEADER, TRACEPARENT_HEADER } from '@transport-lab/shared';
import express from 'express';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { requestLogging } from './middleware.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** An app with the request logging at `level`, its log lines, and its address. */
async function app(level: pino.LevelWithSilent) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level }, sink);
  const server = express()
    .use(requestLogging(logger))
    .get('/ok', (req, res) => {
      req.log.debug('a route may always log through req.log');
      res.json({ ok: true });
    })
    .get('/missing', (_req, res) => {
      res.status(404).json({ ok: false });
    })
    .listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { lines, url };
}

describe('request logging', () => {
  it.each(['info', 'warn', 'silent'] as const)(
    'answers the caller’s sane x-request-id, or a new one, at level %s',
    async (level) => {
      const { url } = await app(level);
      const mine = await fetch(`${url}/ok`, { headers: { [REQUEST_ID_HEADER]: 'phone-42.req_7' } });
      expect(mine.headers.get(REQUEST_ID_HEADER)).toBe('phone-42.req_7');
      const bad = await fetch(`${url}/ok`, { headers: { [REQUEST_ID_HEADER]: 'no spaces allowed' } });
      expect(bad.headers.get(REQUEST_ID_HEADER)).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  it('logs a line per request at info (pino-http)', async () => {
    const { lines, url } = await app('info');
    await (await fetch(`${url}/ok`)).text();
    await (await fetch(`${url}/missing`)).text();
    expect(lines.map((line) => line.level)).toEqual([30, 40]);
  });

  it('above info, logs only the failed answers, each with its request id', async () => {
    const { lines, url } = await app('warn');
    await (await fetch(`${url}/ok`)).text();
    const missing = await fetch(`${url}/missing`, { headers: { [REQUEST_ID_HEADER]: 'lost-one' } });
    await missing.text();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, req: { id: 'lost-one', url: '/missing' } });
  });

  it.each(['info', 'warn'] as const)(
    "at %s, a request's line carries the trace-id of its traceparent (the task's correlation id)",
    async (level) => {
      const { lines, url } = await app(level);
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const traced = { [TRACEPARENT_HEADER]: `00-${traceId}-00f067aa0ba902b7-01` };
      await (await fetch(`${url}/missing`, { headers: traced })).text();
      await (
        await fetch(`${url}/missing`, { headers: { [TRACEPARENT_HEADER]: 'not a traceparent' } })
      ).text();
      expect(lines).toHaveLength(2);
      expect(lines[0]?.traceId).toBe(traceId);
      expect(lines[1]).not.toHaveProperty('traceId');
    },
  );
});
