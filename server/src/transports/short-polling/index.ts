import { API_ROUTES, HTTP_HEADERS, TaskId, type TaskResponse, type TaskState } from '@transport-lab/shared';
import type { Request, Router } from 'express';
import { parseOrThrow } from '../../errors.ts';
import type { TaskEngine } from '../../tasks/engine.ts';

/** Strong ETag: a task's representation is fully determined by its id and its newest seq. */
export function taskEtag(task: TaskState): string {
  return `"${task.id}.${task.lastSeq}"`;
}

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/ prefixes are ignored. */
function matchesIfNoneMatch(req: Request, etag: string): boolean {
  const header = req.headers[HTTP_HEADERS.ifNoneMatch];
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * The short-polling lane: after `POST /api/tasks` (202 + Location + Retry-After), the client
 * GETs the task at an interval. A poll whose `If-None-Match` still matches answers 304 with no
 * body — the cheapest wasted poll there is. This is also where a blocking call's 504 points.
 */
export function register({ router, engine }: { router: Router; engine: TaskEngine }): void {
  router.get(API_ROUTES.task, async (req, res) => {
    const id = parseOrThrow(TaskId, req.params.id, 'task id');
    const task = await engine.getOrThrow(id);
    const etag = taskEtag(task);
    res.setHeader(HTTP_HEADERS.etag, etag);
    res.setHeader('Cache-Control', 'no-cache');
    if (matchesIfNoneMatch(req, etag)) {
      res.status(304).end();
      return;
    }
    res.json({ task } satisfies TaskResponse);
  });
}
