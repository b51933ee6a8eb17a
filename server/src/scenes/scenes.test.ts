import { connect } from 'node:http2';
import { bucketsOf, SCENE_PATHS, STORM, StreamDemoHello } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { createH2Demo } from './h2.ts';
import { runStorm } from './storm.ts';
import { createStreamDemo } from './streamDemo.ts';

describe('bucketsOf', () => {
  it('counts each time in its bucket from 0 and leaves out times outside the window', () => {
    expect(bucketsOf([0, 49.9, 50, 120, -1, 300], 50, 200)).toEqual([2, 1, 1, 0]);
  });
});

describe('runStorm', () => {
  it('brings every client back once, none before socket.io’s reconnection delay without jitter', async () => {
    const storm = await runStorm(0);
    expect(storm.reconnected).toBe(STORM.clients);
    expect(storm.buckets.reduce((a, b) => a + b, 0)).toBe(STORM.clients);
    // A timer never fires early: with no jitter every client waits the whole delay.
    expect(storm.firstMs).toBeGreaterThanOrEqual(STORM.reconnectionDelayMs);
  }, 30_000);

  it('with socket.io’s jitter, spreads the reconnections over delay × [1 − factor, 1 + factor]', async () => {
    const storm = await runStorm(STORM.jitteredFactor);
    expect(storm.reconnected).toBe(STORM.clients);
    expect(storm.firstMs).toBeGreaterThanOrEqual(STORM.reconnectionDelayMs * (1 - STORM.jitteredFactor));
    // 80 draws over a 2 s range: all within half of it has a chance of about 80 × 2⁻⁷⁹.
    expect((storm.lastMs ?? 0) - (storm.firstMs ?? 0)).toBeGreaterThan(STORM.reconnectionDelayMs / 2);
  }, 30_000);
});

describe('the HTTP/2 demo port', () => {
  it('answers the demo stream over h2 with a certificate made at start, readable from another origin', async () => {
    const h2 = createH2Demo(createStreamDemo(), createLogger('silent'));
    const port = await h2.listen(0, '127.0.0.1');
    try {
      const session = connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      const stream = session.request({ ':path': `${SCENE_PATHS.streamDemo}?n=3` });
      const [headers, chunk] = await new Promise<[Record<string, unknown>, string]>((resolve, reject) => {
        stream.on('response', (h) => stream.once('data', (d: Buffer) => resolve([h, d.toString()])));
        stream.on('error', reject);
      });
      expect(headers[':status']).toBe(200);
      expect(headers['access-control-allow-origin']).toBe('*');
      const data = chunk
        .split('\n')
        .find((line) => line.startsWith('data: '))
        ?.slice(6);
      const hello = StreamDemoHello.parse(JSON.parse(data ?? 'null'));
      expect(hello).toMatchObject({ n: 3, httpVersion: '2.0', openStreams: 1 });
      stream.close();
      session.close();
    } finally {
      await h2.close();
    }
  });

  it('refuses a query outside the seven streams with the error envelope', async () => {
    const h2 = createH2Demo(createStreamDemo(), createLogger('silent'));
    const port = await h2.listen(0, '127.0.0.1');
    try {
      const session = connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      const stream = session.request({ ':path': `${SCENE_PATHS.streamDemo}?n=8` });
      const [status, body] = await new Promise<[unknown, string]>((resolve) => {
        let text = '';
        let code: unknown;
        stream.on('response', (h) => {
          code = h[':status'];
        });
        stream.on('data', (d: Buffer) => {
          text += d.toString();
        });
        stream.on('end', () => resolve([code, text]));
      });
      expect(status).toBe(400);
      expect(JSON.parse(body)).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
      session.close();
    } finally {
      await h2.close();
    }
  });
});
