import { API_PATHS, type RunResponse, type SyncTimeoutDetails, TaskSpec } from '@transport-lab/shared';
import type { Router } from 'express';
import { type ClientLimits, peerOf } from '../../access/index.ts';
import { AppError, parseOrThrow } from '../../errors.ts';
import type { TagTask } from '../../observability/wireLedger.ts';
import type { TaskEngine } from '../../tasks/engine.ts';

export interface RequestResponseDeps {
  router: Router;
  engine: TaskEngine;
  syncTimeoutMs: number;
  tagTask?: TagTask;
  /** Throws the overload refusal (503 + Retry-After) when no new task may start now. */
  admit?: () => void;
  /** Refuses (429) a client past its share of tasks; counts its task until it ends. */
  clientLimits?: Pick<ClientLimits, 'admitTask' | 'taskEnded'>;
}

/**
 * `POST /api/tasks/run`: one request that blocks until the task ends, answering `200 {task}`
 * (whatever the task's outcome: the request itself succeeded). Until the answer, the open
 * connection is the only handle on the task, so a client that goes away cancels it; past
 * SYNC_TIMEOUT_MS the 504 hands the task over to its Location and the work goes on.
 */
export function register({
  router,
  engine,
  syncTimeoutMs,
  tagTask,
  admit,
  clientLimits,
}: RequestResponseDeps): void {
  router.post(API_PATHS.run, async (req, res) => {
    admit?.();
    const spec = parseOrThrow(TaskSpec, req.body, 'task spec');
    const id = engine.newTaskId();
    await clientLimits?.admitTask(peerOf(req), id, spec);
    tagTask?.(id, req);
    const task = await engine.create(spec, id).catch((error: unknown) => {
      clientLimits?.taskEnded(id);
      throw error;
    });
    const clientGone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) clientGone.abort();
    });

    const outcome = await engine.waitForEnd(task.id, syncTimeoutMs, clientGone.signal);
    if (outcome.ended) {
      res.json({ task: outcome.task } satisfies RunResponse);
      return;
    }
    if (outcome.reason === 'aborted') {
      await engine.cancel(task.id).catch(() => undefined); // it may have ended meanwhile
      req.log.info({ taskId: task.id }, 'client left a blocking request; task cancelled');
      return;
    }
    const location = API_PATHS.task(task.id);
    if (outcome.reason === 'stopping') {
      // The process is going away (a restart): answer now, before the connection is cut, with where
      // the task lives. It resumes at the next start; a client that follows Location sees its end.
      throw new AppError(
        'UNAVAILABLE',
        `The server is restarting. The task goes on: fetch ${location} for its state.`,
        { taskId: task.id, location },
        { Location: location, 'Retry-After': '1' },
      );
    }
    throw new AppError(
      'SYNC_TIMEOUT',
      `The task did not end within ${syncTimeoutMs} ms. It goes on: fetch ${location} for its state.`,
      { taskId: task.id, location, waitedMs: syncTimeoutMs } satisfies SyncTimeoutDetails,
      { Location: location },
    );
  });
}
