import { createHash } from 'node:crypto';
import {
  API_PATHS,
  CreateTaskBody,
  type CreateTaskResponse,
  HTTP_HEADERS,
  IdempotencyKey,
  type TaskState,
} from '@transport-lab/shared';
import type { Request, Router } from 'express';
import { clientScope } from '../access/clientScope.ts';
import { type ClientLimits, clientOf, peerOf } from '../access/index.ts';
import { AppError, parseOrThrow } from '../errors.ts';
import type { TagTask } from '../observability/wireLedger.ts';
import type { IdempotencyStore, StoredResponse } from '../store/types.ts';
import type { TaskEngine } from '../tasks/engine.ts';
import type { WebhookService } from '../webhooks/types.ts';

/** How the answer to a create is chosen once the task exists: 202 at once, or (hybrid) wait. */
export type AsyncAnswer = (
  req: Request,
  task: TaskState,
  clientGone: AbortSignal,
) => Promise<{ status: 200 | 202; task: TaskState; headers: Record<string, string> }>;

export interface CreateTaskDeps {
  router: Router;
  engine: TaskEngine;
  idempotency: IdempotencyStore;
  webhooks?: WebhookService;
  pollIntervalMs: number;
  answer: AsyncAnswer;
  /** Remembers the request's lane tag for the task, so its webhook attempts count for that lane. */
  tagTask?: TagTask;
  /** Throws the overload refusal (503 + Retry-After) when no new task may start now. */
  admit?: () => void;
  /** Refuses (429) a client past its share of tasks; counts its task until it ends. */
  clientLimits?: Pick<ClientLimits, 'admitTask' | 'taskEnded'>;
}

/** The fingerprint of a request's payload: the same key with another body is a client error. */
function fingerprint(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('base64url');
}

/**
 * `POST /api/tasks`: the asynchronous task resource every non-blocking lane starts from.
 * 202 + Location + Retry-After + the task state. With `Idempotency-Key` (IETF
 * draft-ietf-httpapi-idempotency-key-header): the same key and body replay the first answer and
 * create nothing; another body answers 422; while the first is in flight, 409. A failed request
 * releases its key, so that a corrected retry may use it. A key is its client's (access/clientScope.ts:
 * its run, else its address): another client's same key is a new request, never a replay of an answer
 * that carries someone else's webhook secret.
 */
export function registerCreateTask({
  router,
  engine,
  idempotency,
  webhooks,
  pollIntervalMs,
  answer,
  tagTask,
  admit,
  clientLimits,
}: CreateTaskDeps) {
  const retryAfterS = String(Math.max(1, Math.ceil(pollIntervalMs / 1_000)));

  router.post(API_PATHS.tasks, async (req, res) => {
    // Before anything is claimed or subscribed: a refused request leaves nothing behind.
    admit?.();
    const rawKey = req.headers[HTTP_HEADERS.idempotencyKey];
    const key =
      rawKey === undefined ? undefined : parseOrThrow(IdempotencyKey, rawKey, 'Idempotency-Key header');
    const body = parseOrThrow(CreateTaskBody, req.body, 'task creation body');

    const scope = clientScope(req);
    if (key !== undefined) {
      const claim = await idempotency.claim(scope, key, fingerprint(req.body));
      if (claim.kind === 'in-progress') {
        throw new AppError(
          'IDEMPOTENCY_KEY_IN_USE',
          'A request with this Idempotency-Key is still being handled.',
        );
      }
      if (claim.kind === 'mismatch') {
        throw new AppError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used with a different request body.',
        );
      }
      if (claim.kind === 'replay') {
        res.status(claim.response.status).set(claim.response.headers).set('idempotent-replayed', 'true');
        res.json(claim.response.body);
        return;
      }
    }

    const id = engine.newTaskId();
    try {
      // Inside the try: a refusal releases the Idempotency-Key, so that a later retry may use it.
      await clientLimits?.admitTask(peerOf(req), id, body.spec);
      tagTask?.(id, req);
      if (body.webhook && !webhooks)
        throw new AppError('UNAVAILABLE', 'Webhooks are not available on this server.');
      // Subscribed before the task exists, so that even its `queued` event is delivered. Its
      // deliveries share the attempts as its device's (this machine is one) and its run's (an
      // untagged task's: its address's).
      const owner = { client: clientOf(peerOf(req)) ?? 'this machine', run: scope };
      const webhook =
        body.webhook && webhooks ? await webhooks.subscribe(id, body.webhook, owner) : undefined;
      const created = await engine.create(body.spec, id);

      const clientGone = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) clientGone.abort();
      });
      const chosen = await answer(req, created, clientGone.signal);
      const response: StoredResponse = {
        status: chosen.status,
        headers: {
          ...chosen.headers,
          [HTTP_HEADERS.location]: API_PATHS.task(id),
          ...(chosen.status === 202 ? { [HTTP_HEADERS.retryAfter]: retryAfterS } : {}),
        },
        body: (webhook ? { task: chosen.task, webhook } : { task: chosen.task }) satisfies CreateTaskResponse,
      };
      if (key !== undefined) await idempotency.complete(scope, key, response);
      if (clientGone.signal.aborted) return;
      res.status(response.status).set(response.headers).json(response.body);
    } catch (error) {
      // Counted for nothing if it was never created (uncounting a created task waits for its end).
      if (!(await engine.get(id))) clientLimits?.taskEnded(id);
      if (key !== undefined) await idempotency.release(scope, key);
      throw error;
    }
  });
}
