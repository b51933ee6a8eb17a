import { SCENE_PATHS, STORM, STREAM_DEMO, StormResponse, StreamDemoHello } from '@transport-lab/shared';
import type { StreamsTrial, StreamTiming } from './checks-production.ts';

/**
 * The experiments of two scenes people hit in production (issue 15, item 5), run by the page rather
 * than as a race: the reconnect storm is the server's (`POST /api/scenes/storm`, server/src/scenes),
 * the seven streams are the page's own EventSources against the demo stream, on the page's origin
 * (HTTP/1.1) and on the HTTP/2 demo port.
 */

export interface StormProbeDeps {
  fetch: typeof fetch;
}

/** Two storms, one after the other: without jitter (factor 0), then with socket.io's default 0.5. */
export async function runReconnectStorms(deps: StormProbeDeps): Promise<StormResponse[]> {
  const storms: StormResponse[] = [];
  for (const randomizationFactor of [0, STORM.jitteredFactor]) {
    const response = await deps.fetch(SCENE_PATHS.storm, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ randomizationFactor }),
    });
    const body: unknown = await response.json().catch(() => undefined);
    const parsed = StormResponse.safeParse(body);
    if (!parsed.success) {
      const message = (body as { error?: { message?: string } } | undefined)?.error?.message;
      throw new Error(`the storm was refused: ${response.status}${message ? ` ${message}` : ''}`);
    }
    storms.push(parsed.data);
  }
  return storms;
}

export interface StreamsProbeDeps {
  openEventSource(url: string): EventSource;
  now(): number;
  setTimer(callback: () => void, ms: number): () => void;
}

/** How long the page waits for the streams that can open to say hello, ms. */
const HELLO_LIMIT_MS = 5_000;
/**
 * After the streams that could open have, how long the page keeps all of them before it closes stream 1,
 * ms: long enough that a seventh stream that was only slow would have come, so its wait is the pool's.
 */
const HOLD_MS = 1_000;

/**
 * Seven EventSources opened at once on `origin`; once six (or, over HTTP/2, all seven) have had their
 * first event, or `HELLO_LIMIT_MS` has passed, the page holds them `HOLD_MS` more, closes stream 1, and
 * waits for the seventh's first event. Every stream is closed at the end.
 */
export function runSevenStreams(
  deps: StreamsProbeDeps,
  protocol: StreamsTrial['protocol'],
  origin: string,
): Promise<StreamsTrial> {
  const start = deps.now();
  const at = () => Math.round(deps.now() - start);
  const trial: StreamsTrial = { protocol, origin, streams: [] };
  const sources: EventSource[] = [];
  return new Promise((resolve) => {
    const timers: Array<() => void> = [];
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      for (const cancel of timers) cancel();
      for (const source of sources) source.close();
      resolve(trial);
    };
    const hellos = () => trial.streams.filter((s) => s.helloMs !== undefined).length;
    const closeFirst = () => {
      if (trial.closedFirstMs !== undefined) return;
      sources[0]?.close();
      trial.closedFirstMs = at();
      if (trial.streams[6]?.helloMs !== undefined) return finish();
      timers.push(deps.setTimer(finish, HELLO_LIMIT_MS));
    };
    let holding = false;
    const hold = () => {
      if (holding) return;
      holding = true;
      timers.push(deps.setTimer(closeFirst, HOLD_MS));
    };
    timers.push(deps.setTimer(hold, HELLO_LIMIT_MS));
    for (let n = 1; n <= STREAM_DEMO.streams; n++) {
      const timing: StreamTiming = { n, openedMs: at() };
      trial.streams.push(timing);
      const source = deps.openEventSource(`${origin}${SCENE_PATHS.streamDemo}?n=${n}`);
      sources.push(source);
      source.addEventListener('message', (message) => {
        if (timing.helloMs !== undefined) return;
        const hello = StreamDemoHello.safeParse(JSON.parse(String((message as MessageEvent).data)));
        timing.helloMs = at();
        if (hello.success) {
          timing.httpVersion = hello.data.httpVersion;
          timing.remotePort = hello.data.remotePort;
        }
        if (trial.closedFirstMs !== undefined) {
          if (n === STREAM_DEMO.streams) finish();
        } else if (hellos() >= STREAM_DEMO.streams - 1) hold();
      });
      source.addEventListener('error', () => {
        // An error before any first event: the connection itself failed (the h2 port's certificate
        // refused, the port closed). Said once; the stream's late hello, if any, still counts.
        if (timing.helloMs === undefined && trial.error === undefined)
          trial.error = `stream ${n} could not connect to ${origin}${protocol === 'HTTP/2' ? ' (does the browser accept its demo certificate? open that address once and accept it)' : ''}`;
      });
    }
  });
}
