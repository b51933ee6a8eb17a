import { AppError } from '../errors.ts';
import { type OperatorGate, type Peer, sameToken } from './operator.ts';

/** Who asks to change a task, as the server sees them. */
export interface Requester {
  peer: Peer;
  /** The run of the request's lab tag (`x-lab-run` / `labRun`; a socket's handshake query), if any. */
  runId: string | undefined;
  /** A socket.io connection asking about a task it started itself. */
  startedHere?: boolean;
}

export interface TaskOwnership {
  /** Resolves when `who` may cancel the task; throws 403 FORBIDDEN otherwise. */
  authorizeCancel(taskId: string, who: Requester): Promise<void>;
}

/**
 * A task belongs to its run: the lab tag it was created with, 128 random bits the page chose and
 * never shown to anyone else by the server (docs/security.md). Knowing the run is the capability:
 * a cancel tagged with the task's run, or from the socket.io connection that started it, or from the
 * operator, is allowed; anyone else (another phone, a webhook target that learnt the task id from a
 * delivery) is refused. A task created without a tag has no run: only the connection that started
 * it and the operator may cancel it.
 */
export function createTaskOwnership({
  operator,
  runOfTask,
}: {
  operator: OperatorGate;
  runOfTask: (taskId: string) => Promise<string | undefined>;
}): TaskOwnership {
  return {
    async authorizeCancel(taskId, { peer, runId, startedHere }) {
      if (startedHere || operator.isOperator(peer)) return;
      const run = runId === undefined ? undefined : await runOfTask(taskId);
      // The run id is a bearer secret: compared in constant time, like the operator token.
      if (run !== undefined && runId !== undefined && sameToken(runId, run)) return;
      throw new AppError(
        'FORBIDDEN',
        "Only whoever started a task may cancel it: tag the cancel with the task's run (x-lab-run and x-lab-lane), send it on the socket.io connection that started it, or be the operator.",
      );
    },
  };
}
