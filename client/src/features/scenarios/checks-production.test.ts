import { bucketsOf, STORM, type StormResponse } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import type { StepOutcome } from './checks.ts';
import {
  checkReconnectStorm,
  checkSixStreams,
  type StreamsTrial,
  type StreamTiming,
} from './checks-production.ts';

/** A storm whose clients came back at these times since the restart, ms. */
function storm(randomizationFactor: number, backAtMs: number[]): StormResponse {
  return {
    clients: STORM.clients,
    randomizationFactor,
    reconnectionDelayMs: STORM.reconnectionDelayMs,
    downtimeMs: STORM.downtimeMs,
    bucketMs: STORM.bucketMs,
    buckets: bucketsOf(backAtMs, STORM.bucketMs, STORM.windowMs),
    reconnected: backAtMs.length,
    firstMs: Math.min(...backAtMs),
    lastMs: Math.max(...backAtMs),
    noticedSpreadMs: 20,
  };
}

const clients = Array.from({ length: STORM.clients }, (_, k) => k);
/** Every client at the delay, accepted within 150 ms as one process takes them. */
const together = clients.map((k) => STORM.reconnectionDelayMs + (k * 150) / STORM.clients);
/** socket.io's jitter: evenly over delay × [0.5, 1.5]. */
const spread = clients.map((k) => STORM.reconnectionDelayMs * (0.5 + k / STORM.clients));

const stormStep = (storms: StormResponse[]): StepOutcome => ({
  label: 'storms',
  spec: { durationMs: 1_000, steps: 1 },
  lanes: {},
  faults: [],
  probe: { storms },
});

describe('checkReconnectStorm', () => {
  it('passes a lock-step comeback against a jittered one, and says the ratio of their peaks', () => {
    const verdict = checkReconnectStorm(stormStep([storm(0, together), storm(0.5, spread)]));
    expect(verdict.ok).toBe(true);
    // 80 over 150 ms from 2 000 ms: 54 in the first 100 ms bucket; 80 over 2 s, 4 a bucket: 54 / 4 = 13.5×.
    expect(verdict.because).toContain('13.5×');
    expect(verdict.why).toMatch(/ratio 13\.5/);
  });

  it('fails when the "jittered" clients came back in lock-step too (a factor that was not applied)', () => {
    const verdict = checkReconnectStorm(stormStep([storm(0, together), storm(0.5, together)]));
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toMatch(/only 1\.0× the jittered one/);
    expect(verdict.because).toMatch(/spread over only/);
  });

  it('fails when a client did not come back, or came back before the delay without jitter', () => {
    const early = [500, ...together.slice(1)];
    const verdict = checkReconnectStorm(stormStep([storm(0, early), storm(0.5, spread.slice(1))]));
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain('before the delay');
    expect(verdict.because).toContain(`${STORM.clients - 1} of ${STORM.clients} clients came back`);
  });

  it('fails when a storm did not run', () => {
    expect(checkReconnectStorm(stormStep([storm(0, together)])).because).toContain('1 of the 2 storms ran');
  });
});

/** Seven streams whose first events came at these times, over one protocol. */
function trial(
  protocol: StreamsTrial['protocol'],
  hellos: Array<number | undefined>,
  closedFirstMs: number,
  version = protocol === 'HTTP/2' ? '2.0' : '1.1',
): StreamsTrial {
  return {
    protocol,
    origin: 'http://x',
    closedFirstMs,
    streams: hellos.map(
      (helloMs, k): StreamTiming => ({
        n: k + 1,
        openedMs: k,
        ...(helloMs === undefined
          ? {}
          : { helloMs, httpVersion: version, remotePort: protocol === 'HTTP/2' ? 5000 : 5000 + k }),
      }),
    ),
  };
}
const streamsStep = (trials: StreamsTrial[]): StepOutcome => ({
  label: 'streams',
  spec: { durationMs: 1_000, steps: 1 },
  lanes: {},
  faults: [],
  probe: { streams: trials },
});

const h1Waits = trial('HTTP/1.1', [20, 22, 25, 26, 30, 31, 1_040], 1_031);
const h2AllAtOnce = trial('HTTP/2', [30, 31, 31, 32, 32, 33, 33], 1_032);

describe('checkSixStreams', () => {
  it('passes a seventh HTTP/1.1 stream that waited for the close, and seven HTTP/2 streams at once', () => {
    const verdict = checkSixStreams(streamsStep([h1Waits, h2AllAtOnce]));
    expect(verdict.ok).toBe(true);
    expect(verdict.why).toContain('6 of 7 first events before stream 1 closed');
    expect(verdict.why).toContain('over 1 TCP connection.');
  });

  it('fails a browser without the limit: the seventh HTTP/1.1 stream came before any closed', () => {
    const noLimit = trial('HTTP/1.1', [20, 22, 25, 26, 30, 31, 33], 1_031);
    const verdict = checkSixStreams(streamsStep([noLimit, h2AllAtOnce]));
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain('before any stream closed');
  });

  it('fails an "HTTP/2" port that spoke HTTP/1.1, where the seventh waited too', () => {
    const fallback = trial('HTTP/2', [30, 31, 31, 32, 32, 33, 1_040], 1_032, '1.1');
    const verdict = checkSixStreams(streamsStep([h1Waits, fallback]));
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain('only 6 of 7 streams');
    expect(verdict.because).toContain('came as HTTP/1.1');
  });

  it('fails, and says why, when the HTTP/2 port is off', () => {
    const off: StreamsTrial = {
      protocol: 'HTTP/2',
      origin: '',
      streams: [],
      error: 'the HTTP/2 demo port is off',
    };
    const verdict = checkSixStreams(streamsStep([h1Waits, off]));
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain('over HTTP/2, the HTTP/2 demo port is off');
  });
});
