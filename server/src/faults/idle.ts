import type { ServerResponse } from 'node:http';

/**
 * A proxy's idle timeout in front of a run's answers, as nginx's `proxy_read_timeout` (60 s by
 * default) is: "set only between two successive read operations", so an answer on which the upstream
 * writes nothing for `idleMs` is cut, however long it has been open. A quiet event stream, or a long
 * poll held with nothing to say, is cut; a stream that writes a heartbeat (an SSE comment line) more
 * often than that is not. nginx answers 504 when not even the head has come; here the connection is cut
 * either way, which a client must survive anyway. Every tagged GET answer is wrapped as it opens (a
 * closure and a check per write when no fault is on), so that a fault switched on mid-stream times the
 * answers already open.
 */
export interface IdleProxy {
  track(runId: string, res: ServerResponse): void;
  /** Starts (or changes) the run's idle timeout; returns how many of its answers are open now. */
  start(runId: string, idleMs: number): number;
  /** Ends it; returns how many of the run's answers are open now. */
  stop(runId: string): number;
}

interface Tracked {
  res: ServerResponse;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export function createIdleProxy(): IdleProxy {
  /** Run → idle timeout, ms, for runs behind the proxy now. */
  const timeouts = new Map<string, number>();
  const open = new Map<string, Set<Tracked>>();

  const arm = (runId: string, tracked: Tracked) => {
    if (tracked.timer) clearTimeout(tracked.timer);
    tracked.timer = undefined;
    const idleMs = timeouts.get(runId);
    if (idleMs === undefined || tracked.res.destroyed) return;
    tracked.timer = setTimeout(() => tracked.res.destroy(), idleMs);
    tracked.timer.unref();
  };

  return {
    track(runId, res) {
      const tracked: Tracked = { res, timer: undefined };
      let set = open.get(runId);
      if (!set) {
        set = new Set();
        open.set(runId, set);
      }
      set.add(tracked);
      res.once('close', () => {
        if (tracked.timer) clearTimeout(tracked.timer);
        set.delete(tracked);
        if (set.size === 0 && open.get(runId) === set) open.delete(runId);
      });
      const originalWrite = res.write.bind(res) as (...args: unknown[]) => boolean;
      // Each write is a read on the proxy's side: it starts the idle time again.
      res.write = ((...args: unknown[]) => {
        if (tracked.timer || timeouts.has(runId)) arm(runId, tracked);
        return originalWrite(...args);
      }) as ServerResponse['write'];
      arm(runId, tracked);
    },

    start(runId, idleMs) {
      timeouts.set(runId, idleMs);
      const set = open.get(runId) ?? new Set();
      for (const tracked of set) arm(runId, tracked);
      return set.size;
    },

    stop(runId) {
      timeouts.delete(runId);
      const set = open.get(runId) ?? new Set();
      for (const tracked of set) arm(runId, tracked);
      return set.size;
    },
  };
}
