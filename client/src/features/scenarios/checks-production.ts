import type { StormResponse } from '@transport-lab/shared';
import { Judgement, ms, type StepOutcome, type Verdict } from './checks.ts';

/**
 * The checks of two scenes people hit in production (issue 15, item 5), pure functions of what was
 * measured, in the shape of the others (`checks.ts`, `checks-lessons.ts`): a verdict, a why-line naming
 * the figures read, and unit tests in which a wrong mechanism fails.
 */

/** The most connections the storm's server accepted in one bucket. */
export const peakOf = (storm: StormResponse) => Math.max(0, ...storm.buckets);

/**
 * How much higher the peak connection rate must be without jitter than with it. Without jitter every
 * client retries one delay after it noticed the drop and the server takes them as fast as it can; with
 * socket.io's factor 0.5 the retries are spread over one reconnection delay (2 000 ms, 20 buckets of
 * 100 ms), so about clients / 20 a bucket, twice that where chance or a busy process bunches them.
 * Twice is "clearly above": 6 pairs of storms at a load of 6–10 on 2 cores gave 2.4 to 7.3.
 */
export const STORM_PEAK_RATIO = 2;

/**
 * A reconnect storm: both storms must bring every client back; without jitter none may come back before
 * the reconnection delay (every client waits exactly that long, together), with jitter the comebacks
 * spread over at least half the delay; and the peak rate without jitter must be at least
 * `STORM_PEAK_RATIO` times the jittered one.
 */
export function checkReconnectStorm(step: StepOutcome | undefined): Verdict {
  const j = new Judgement();
  const storms = step?.probe?.storms ?? [];
  const fixed = storms.find((s) => s.randomizationFactor === 0);
  const jittered = storms.find((s) => s.randomizationFactor > 0);
  if (!fixed || !jittered) {
    j.fail(`${storms.length} of the 2 storms ran`);
    return j.verdict('', 'no figures.');
  }
  for (const [storm, name] of [
    [fixed, 'without jitter'],
    [jittered, 'with jitter'],
  ] as const) {
    if (storm.reconnected !== storm.clients)
      j.fail(`${name}, ${storm.reconnected} of ${storm.clients} clients came back within the window`);
  }
  if ((fixed.firstMs ?? 0) < fixed.reconnectionDelayMs)
    j.fail(`without jitter a client came back ${ms(fixed.firstMs)} after the restart, before the delay`);
  const spread = (jittered.lastMs ?? 0) - (jittered.firstMs ?? 0);
  if (spread < jittered.reconnectionDelayMs * jittered.randomizationFactor)
    j.fail(`with jitter the comebacks spread over only ${ms(spread)}`);
  const peakFixed = peakOf(fixed);
  const peakJittered = peakOf(jittered);
  const ratio = peakJittered > 0 ? peakFixed / peakJittered : Number.POSITIVE_INFINITY;
  if (!(ratio >= STORM_PEAK_RATIO))
    j.fail(
      `the peak without jitter (${peakFixed} per ${fixed.bucketMs} ms) is only ${ratio.toFixed(1)}× the jittered one (${peakJittered})`,
    );
  const perSecond = (n: number, bucketMs: number) => Math.round((n * 1000) / bucketMs);
  return j.verdict(
    `without jitter the ${fixed.clients} clients came back together, a peak of ${peakFixed} connections per ${fixed.bucketMs} ms, ${ratio.toFixed(1)}× the jittered peak of ${peakJittered}.`,
    `${fixed.clients} socket.io clients, reconnection delay ${ms(fixed.reconnectionDelayMs)}, server down ${ms(fixed.downtimeMs)}; without jitter: peak ${peakFixed} per ${fixed.bucketMs} ms (${perSecond(peakFixed, fixed.bucketMs)}/s), back from ${ms(fixed.firstMs)} to ${ms(fixed.lastMs)} after the restart, the clients having noticed the drop within ${ms(fixed.noticedSpreadMs)}; randomizationFactor ${jittered.randomizationFactor}: peak ${peakJittered} (${perSecond(peakJittered, jittered.bucketMs)}/s), from ${ms(jittered.firstMs)} to ${ms(jittered.lastMs)}; ratio ${ratio.toFixed(1)} (at least ${STORM_PEAK_RATIO} asked).`,
  );
}

/** One of the seven demo streams, as the page saw it. */
export interface StreamTiming {
  n: number;
  /** When the page opened it, ms from the trial's start. */
  openedMs: number;
  /** When its first event arrived, ms from the trial's start; absent if none did. */
  helloMs?: number;
  /** The HTTP version the server saw it on ("1.1", "2.0"). */
  httpVersion?: string;
  /** The browser's TCP port the server saw it come from. */
  remotePort?: number;
}

/** Seven streams opened at once on one origin, then stream 1 closed. */
export interface StreamsTrial {
  protocol: 'HTTP/1.1' | 'HTTP/2';
  origin: string;
  streams: StreamTiming[];
  /** When the page closed stream 1, ms from the trial's start. */
  closedFirstMs?: number;
  /** Why the trial could not run or a stream failed (the h2 port off, its certificate refused). */
  error?: string;
}

const helloSaid = (s: StreamTiming | undefined) => (s?.helloMs === undefined ? 'never' : ms(s.helloMs));
const connections = (t: StreamsTrial) =>
  new Set(t.streams.flatMap((s) => (s.remotePort === undefined ? [] : [s.remotePort]))).size;

/**
 * Six streams, the seventh waits. Over HTTP/1.1 a stream holds its connection and Chromium opens at most
 * 6 per origin, so at most 6 streams may have had their first event before stream 1 was closed, and the
 * seventh's must come after that close (it waited for the freed connection). Over HTTP/2 every stream is
 * a stream of one connection: all seven must have had their first event before the close, each seen by
 * the server as HTTP/2.
 */
export function checkSixStreams(step: StepOutcome | undefined): Verdict {
  const j = new Judgement();
  const trials = step?.probe?.streams ?? [];
  const h1 = trials.find((t) => t.protocol === 'HTTP/1.1');
  const h2 = trials.find((t) => t.protocol === 'HTTP/2');
  if (!h1 || !h2) {
    j.fail(`${trials.length} of the 2 trials ran`);
    return j.verdict('', 'no figures.');
  }
  for (const t of [h1, h2]) if (t.error) j.fail(`over ${t.protocol}, ${t.error}`);
  const before = (t: StreamsTrial) =>
    t.streams.filter(
      (s) => s.helloMs !== undefined && t.closedFirstMs !== undefined && s.helloMs < t.closedFirstMs,
    ).length;
  const seventh1 = h1.streams.find((s) => s.n === 7);
  if (before(h1) > 6) j.fail(`over HTTP/1.1, ${before(h1)} streams had their first event before one closed`);
  if (seventh1?.helloMs === undefined) j.fail('over HTTP/1.1 the seventh stream never had its first event');
  else if (h1.closedFirstMs === undefined || seventh1.helloMs < h1.closedFirstMs)
    j.fail(
      `over HTTP/1.1 the seventh stream's first event came at ${ms(seventh1.helloMs)}, before any stream closed`,
    );
  if (h1.streams.some((s) => s.httpVersion !== undefined && s.httpVersion !== '1.1'))
    j.fail('a stream of the HTTP/1.1 trial was not served over HTTP/1.1');
  if (!h2.error) {
    if (before(h2) < 7)
      j.fail(`over HTTP/2 only ${before(h2)} of 7 streams had their first event before stream 1 closed`);
    const notH2 = h2.streams.filter((s) => s.httpVersion !== '2.0');
    if (notH2.length > 0)
      j.fail(
        `over the HTTP/2 port, stream ${notH2.map((s) => s.n).join(', ')} came as HTTP/${notH2[0]?.httpVersion ?? '?'}`,
      );
  }
  const seventh2 = h2.streams.find((s) => s.n === 7);
  const sixth1 = h1.streams.find((s) => s.n === 6);
  return j.verdict(
    `over HTTP/1.1 the seventh stream waited until stream 1 closed (its first event at ${ms(seventh1?.helloMs)}, the close at ${ms(h1.closedFirstMs)}); over HTTP/2 all seven were open at once.`,
    `HTTP/1.1: ${before(h1)} of 7 first events before stream 1 closed at ${ms(h1.closedFirstMs)}, the sixth at ${helloSaid(sixth1)}, the seventh at ${helloSaid(seventh1)}, over ${connections(h1)} TCP connections; HTTP/2: ${before(h2)} of 7 before the close at ${ms(h2.closedFirstMs)}, the seventh at ${helloSaid(seventh2)}, over ${connections(h2)} TCP connection${connections(h2) === 1 ? '' : 's'}.`,
  );
}
