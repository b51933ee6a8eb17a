/** The exit code with which the server asks its supervisor to start it again (EX_TEMPFAIL, sysexits.h). */
export const RESTART_EXIT_CODE = 75;

/** What the server tells its supervisor over the IPC channel. */
export type SupervisorMessage = {
  type: 'listening';
  port: number;
  receiverPort: number;
  /** The HTTP/2 demo port, when H2_PORT is set: kept across restarts as the others are. */
  h2Port?: number;
};

/** The window SUPERVISOR_MAX_RESTARTS_PER_MINUTE counts crashes in, ms. */
export const RESTART_WINDOW_MS = 60_000;

/** How the server process ended, as the supervisor saw it. */
export interface ServerExit {
  /** The process's id, named in the reason. */
  pid?: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** It had said it listens: an exit before that is a failure to start (a wrong setting, a port in
   *  use), which the same start would repeat, not a crash. */
  listened: boolean;
  /** The supervisor was asked to stop (SIGINT/SIGTERM, passed on to the server). */
  stopping: boolean;
}

/** What the supervisor does next; `reason` is the line it prints. */
export type SupervisorDecision =
  | { action: 'restart'; reason: string }
  | { action: 'exit'; code: number; reason?: string }
  /** End of the same signal, so that whoever started the supervisor sees the true cause (128 + n). */
  | { action: 'die'; signal: NodeJS.Signals; reason?: string };

export interface RestartPolicy {
  decide(exit: ServerExit): SupervisorDecision;
}

/** How the server ended, in words: "the server (pid 42) exited with code 1", "… was killed by SIGKILL". */
export function describeExit({ pid, code, signal }: Pick<ServerExit, 'pid' | 'code' | 'signal'>): string {
  const how = signal ? `was killed by ${signal}` : `exited with code ${code ?? 'unknown'}`;
  return `the server${pid === undefined ? '' : ` (pid ${pid})`} ${how}`;
}

/**
 * When the supervisor (main.ts) starts the server again. The restart-server fault asks for it (exit
 * code 75): always, and not counted, since the operator asked. A crash — a non-zero code or a signal
 * the supervisor did not send — after the server listened: again, at most `maxRestartsPerMinute`
 * times in any 60 s; one more and it gives up with code 1, rather than restart a server that dies at
 * once forever. A clean exit (0), an exit while stopping, or a failure to start ends the supervisor
 * as the server ended. `now` is a monotonic clock in ms (tests give their own).
 */
export function createRestartPolicy({
  maxRestartsPerMinute,
  now = () => performance.now(),
}: {
  maxRestartsPerMinute: number;
  now?: () => number;
}): RestartPolicy {
  /** When each crash restart of the last minute happened. */
  const restarts: number[] = [];
  const same = (exit: ServerExit, reason?: string): SupervisorDecision =>
    exit.signal
      ? { action: 'die', signal: exit.signal, ...(reason ? { reason } : {}) }
      : { action: 'exit', code: exit.code ?? 1, ...(reason ? { reason } : {}) };

  return {
    decide(exit) {
      if (exit.stopping) {
        // Asked to stop while a restart was under way: the restart's exit was the last of it.
        return exit.code === RESTART_EXIT_CODE ? { action: 'exit', code: 0 } : same(exit);
      }
      if (exit.code === RESTART_EXIT_CODE) return { action: 'restart', reason: 'restart-server fault' };
      if (exit.code === 0) return { action: 'exit', code: 0 };
      const how = describeExit(exit);
      if (!exit.listened) return same(exit, `${how} before it listened; not restarting it`);
      const at = now();
      while (restarts.length > 0 && (restarts[0] ?? at) <= at - RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length >= maxRestartsPerMinute) {
        return {
          action: 'exit',
          code: 1,
          reason:
            `${how}, after ${restarts.length} restart${restarts.length === 1 ? '' : 's'} ` +
            `within a minute (SUPERVISOR_MAX_RESTARTS_PER_MINUTE=${maxRestartsPerMinute}); giving up`,
        };
      }
      restarts.push(at);
      return {
        action: 'restart',
        reason: `${how}; restart ${restarts.length} of at most ${maxRestartsPerMinute} a minute`,
      };
    },
  };
}
