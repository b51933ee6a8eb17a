import type { ServerResponse } from 'node:http';

/**
 * A buffering proxy in front of a run's event streams, as nginx is without `X-Accel-Buffering: no`:
 * the answer's head goes out at once (nginx sends the upstream's header as soon as it has it), but
 * the body is held until `bufferBytes` have gathered, then written in one go; the end of the answer
 * writes what is held. Every tagged event stream is wrapped when it opens (one closure and a check per
 * write when no fault is on), so that a fault switched on mid-stream holds the streams already open.
 */
export interface StreamBuffers {
  /** Wraps an event stream's answer for `runId` before anything is written to it. */
  track(runId: string, res: ServerResponse): void;
  /** Starts (or changes) buffering of the run's streams; returns how many are open now. */
  start(runId: string, bufferBytes: number): number;
  /** Stops buffering the run's streams and writes what each held at once; returns how many are open. */
  stop(runId: string): number;
}

interface Held {
  res: ServerResponse;
  chunks: Buffer[];
  bytes: number;
  /** The answer's own write, before wrapping. */
  write: (chunk: Buffer) => boolean;
}

export function createStreamBuffers(): StreamBuffers {
  /** Run → buffer size, for runs being buffered now. */
  const buffering = new Map<string, number>();
  const open = new Map<string, Set<Held>>();

  const flush = (held: Held) => {
    if (held.chunks.length === 0 || held.res.destroyed) return;
    const all = Buffer.concat(held.chunks);
    held.chunks = [];
    held.bytes = 0;
    held.write(all);
  };

  return {
    track(runId, res) {
      const originalWrite = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
      const originalEnd = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      const held: Held = { res, chunks: [], bytes: 0, write: (chunk) => originalWrite(chunk) };
      let set = open.get(runId);
      if (!set) {
        set = new Set();
        open.set(runId, set);
      }
      set.add(held);
      res.once('close', () => {
        set.delete(held);
        if (set.size === 0 && open.get(runId) === set) open.delete(runId);
      });
      // Node's write(chunk, encoding?, callback?) and end(chunk?, encoding?, callback?). better-sse and
      // the receiver write strings and Buffers; a held write calls its callback at once, as a proxy
      // acknowledges what it has taken into its buffer.
      res.write = ((chunk: unknown, ...rest: unknown[]) => {
        const limit = buffering.get(runId);
        if (limit === undefined) {
          flush(held);
          return originalWrite(chunk, ...rest);
        }
        if (!res.headersSent) res.flushHeaders();
        const encoding = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8';
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), encoding);
        held.chunks.push(buffer);
        held.bytes += buffer.length;
        if (held.bytes >= limit) flush(held);
        const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
        if (callback) queueMicrotask(callback);
        return true;
      }) as ServerResponse['write'];
      res.end = ((...args: unknown[]) => {
        flush(held);
        return originalEnd(...args);
      }) as ServerResponse['end'];
    },

    start(runId, bufferBytes) {
      buffering.set(runId, bufferBytes);
      return open.get(runId)?.size ?? 0;
    },

    stop(runId) {
      buffering.delete(runId);
      const set = open.get(runId);
      for (const held of set ?? []) flush(held);
      return set?.size ?? 0;
    },
  };
}
