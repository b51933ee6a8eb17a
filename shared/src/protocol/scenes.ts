import { z } from 'zod';

/**
 * Two scenes people hit in production (issue 15, item 5) that no lane's race shows: a reconnect storm
 * after a restart, and the browser's six connections per origin over HTTP/1.1. Each is measured by the
 * server (the storm) or by the page against a stream the server holds open (the six streams).
 */
export const SCENE_PATHS = {
  /** `POST`: one reconnect storm (StormRequest → StormResponse). */
  storm: '/api/scenes/storm',
  /** `GET`: a demo event stream that says hello at once and then holds (StreamDemoQuery). Served on the
   *  page's own port (HTTP/1.1) and, when `H2_PORT` is set, on the HTTP/2 port too. */
  streamDemo: '/api/scenes/stream-demo',
} as const;

/**
 * The storm's bounds. The clients are socket.io clients the server runs against a socket.io server of
 * its own on a loopback port, so the count is bounded here and nothing is opened to anyone else.
 */
export const STORM = {
  /**
   * Simulated clients per storm. The clients share the server's process, so on 2 busy cores they notice
   * the drop over 100–400 ms (measured at a load of 6–10), which caps the lock-step peak whatever their
   * number, while the jittered peak grows with it: 150 clients gave a peak ratio as low as 2.0, 80 no
   * lower than 2.2 in the same runs.
   */
  clients: 80,
  /** socket.io's `reconnectionDelay`, ms: the first retry after a lost connection, before jitter.
   *  Twice socket.io's default (1 s), so that the jittered retries spread over 2 s, 20 buckets. */
  reconnectionDelayMs: 2_000,
  /** How long the storm's server stays down before it listens again, ms: shorter than the first
   *  retry of every client (delay × (1 − factor) = 1 000 ms at the jittered factor), so each reconnects
   *  at its first try and the plot shows the backoff, not the downtime. */
  downtimeMs: 300,
  /** Width of a bucket of the connection rate, ms. */
  bucketMs: 100,
  /** How long after the restart the connections are counted, ms: past the last jittered retry (3 s). */
  windowMs: 3_500,
  /** socket.io's default `randomizationFactor`: each retry's delay is drawn from delay × [0.5, 1.5]. */
  jitteredFactor: 0.5,
} as const;

/** `POST /api/scenes/storm`: one storm with this jitter (socket.io's `randomizationFactor`; 0 = none). */
export const StormRequest = z.strictObject({
  randomizationFactor: z.number().min(0).max(1),
});
export type StormRequest = z.infer<typeof StormRequest>;

export const StormResponse = z.object({
  clients: z.int(),
  randomizationFactor: z.number(),
  reconnectionDelayMs: z.int(),
  downtimeMs: z.int(),
  bucketMs: z.int(),
  /** TCP connections the storm's server accepted in each bucket, from the restart (the server
   *  dropping every connection): one per client's attempt, the clients speaking WebSocket only. */
  buckets: z.array(z.int().min(0)),
  /** socket.io clients connected again (handshake done) by the end of the window. */
  reconnected: z.int().min(0),
  /** From the restart to the first and to the last TCP connection the server accepted, ms. */
  firstMs: z.number().optional(),
  lastMs: z.number().optional(),
  /** Over how long the clients noticed the drop, ms: the simulation's own smear of the lock-step
   *  (clients on thousands of machines notice within a round trip); the clients run in a process of
   *  their own so that it stays small. */
  noticedSpreadMs: z.number().min(0),
});
export type StormResponse = z.infer<typeof StormResponse>;

/** A storm's connections per bucket of `bucketMs`, from `0` (the restart) over `windowMs`. */
export function bucketsOf(atMs: number[], bucketMs: number, windowMs: number): number[] {
  const buckets = new Array<number>(Math.ceil(windowMs / bucketMs)).fill(0);
  for (const t of atMs) {
    const i = Math.floor(t / bucketMs);
    if (i >= 0 && i < buckets.length) buckets[i] = (buckets[i] ?? 0) + 1;
  }
  return buckets;
}

/** The six-streams demo: 7 streams, one more than Chromium's 6 HTTP/1.1 connections per origin. */
export const STREAM_DEMO = {
  streams: 7,
  /** A demo stream ends by itself after this long, ms, whoever forgets to close it. */
  maxHoldMs: 30_000,
} as const;

/** `GET /api/scenes/stream-demo?n=`: which of the page's streams this is (1–7), echoed in its hello. */
export const StreamDemoQuery = z.strictObject({
  n: z.coerce.number().pipe(z.int().min(1).max(STREAM_DEMO.streams)),
});
export type StreamDemoQuery = z.infer<typeof StreamDemoQuery>;

/** A demo stream's first (and only) event, as the server saw the request. */
export const StreamDemoHello = z.object({
  n: z.int(),
  /** `req.httpVersion`: "1.1", or "2.0" on the HTTP/2 port. */
  httpVersion: z.string(),
  /** The browser's port of the TCP connection the stream came on: six on HTTP/1.1, one on h2. */
  remotePort: z.int(),
  /** Demo streams open on the server when this one opened, this one included. */
  openStreams: z.int(),
});
export type StreamDemoHello = z.infer<typeof StreamDemoHello>;
