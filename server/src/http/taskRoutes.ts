import {
  API_PATHS,
  type HealthResponse,
  PROTOCOL_VERSION,
  TaskId,
  type TaskResponse,
  type TaskState,
  type TimeResponse,
} from '@transport-lab/shared';
import { type Request, Router } from 'express';
import { parseOrThrow } from '../errors.ts';
import { epochNow } from '../observability/clock.ts';
import type { TaskEngine } from '../tasks/engine.ts';

/** Strong ETag: a task's representation is fully determined by its id and its newest seq. */
export function taskEtag(task: TaskState): string {
  return `"${task.id}.${task.lastSeq}"`;
}

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/ prefixes are ignored. */
function matchesIfNoneMatch(req: Request, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** Routes every lane shares: the task resource (where a 504 points), cancel, time, health. */
export function taskRoutes(engine: TaskEngine, storeKind: string, startedAt: number): Router {
  const router = Router();

  router.get('/api/tasks/:id', async (req, res) => {
    const id = parseOrThrow(TaskId, req.params.id, 'task id');
    const task = await engine.getOrThrow(id);
    const etag = taskEtag(task);
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'no-cache');
    if (matchesIfNoneMatch(req, etag)) {
      res.status(304).end();
      return;
    }
    res.json({ task } satisfies TaskResponse);
  });

  router.post('/api/tasks/:id/cancel', async (req, res) => {
    const id = parseOrThrow(TaskId, req.params.id, 'task id');
    const task = await engine.cancel(id);
    res.json({ task } satisfies TaskResponse);
  });

  router.get(API_PATHS.time, (_req, res) => {
    const receivedAt = epochNow();
    res.setHeader('Cache-Control', 'no-store');
    res.json({ receivedAt, sentAt: epochNow() } satisfies TimeResponse);
  });

  router.get(API_PATHS.health, (_req, res) => {
    res.json({
      status: 'ok',
      protocolVersion: PROTOCOL_VERSION,
      store: storeKind,
      uptimeMs: Math.round(epochNow() - startedAt),
    } satisfies HealthResponse);
  });

  return router;
}
