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
import { AppError, parseOrThrow } from '../errors.ts';
import type { IdempotencyStore, StoredResponse } from '../store/types.ts';
import type { TaskStarter } from '../tasks/startTask.ts';

/** How the answer to a create is chosen once the task exists: a lane's strategy (the hybrid's
 *  `Prefer: wait`), or undefined to leave it to the next one, and in the end to 202 at once. */
export type AsyncAnswer = (
  req: Request,
  task: TaskState,
  clientGone: AbortSignal,
) => Promise<{ status: 200 | 202; task: TaskState; headers: Record<string, string> } | undefined>;

/** What a lane adds to the task before it exists: the webhook's subscription. Returns what the
 *  answer's body carries of it (shown once: a generated secret). */
export type BeforeCreate = (
  req: Request,
  id: string,
  body: CreateTaskBody,
) => Promise<Pick<CreateTaskResponse, 'webhook'> | undefined>;

/** `POST /api/tasks` as lanes see it: the resource every non-blocking lane starts from, which a
 *  lane extends from its `register` (transports/lane.ts) rather than the resource naming lanes. */
export interface AsyncTasks {
  /** Chooses the answer (200 or 202) once the task exists; strategies are asked in order. */
  answerWith(strategy: AsyncAnswer): void;
  /** Runs once the task's id exists and is tagged, before the task is created, so that even its
   *  `queued` event reaches what it sets up. */
  beforeCreate(step: BeforeCreate): void;
}

export interface CreateTaskDeps {
  router: Router;
  tasks: TaskStarter;
  idempotency: IdempotencyStore;
  pollIntervalMs: number;
  /** A lose-answers fault (server/src/faults): true when this create's answer is to be lost. */
  loseAnswer?: (req: Request) => boolean;
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
  tasks,
  idempotency,
  pollIntervalMs,
  loseAnswer,
}: CreateTaskDeps): AsyncTasks {
  const retryAfterS = String(Math.max(1, Math.ceil(pollIntervalMs / 1_000)));
  const strategies: AsyncAnswer[] = [];
  const steps: BeforeCreate[] = [];

  router.post(API_PATHS.tasks, async (req, res) => {
    // Before anything is claimed or subscribed: a refused request leaves nothing behind.
    tasks.admit();
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

    try {
      // Inside the try: a refusal releases the Idempotency-Key, so that a later retry may use it.
      let extra: Pick<CreateTaskResponse, 'webhook'> = {};
      const created = await tasks.start({ req }, body.spec, async (id) => {
        for (const step of steps) extra = { ...extra, ...(await step(req, id, body)) };
        // A body asking for what no lane on this server set up is refused, not silently ignored.
        if (body.webhook && !extra.webhook)
          throw new AppError('UNAVAILABLE', 'Webhooks are not available on this server.');
      });
      const id = created.id;

      const clientGone = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) clientGone.abort();
      });
      let chosen: Awaited<ReturnType<AsyncAnswer>>;
      for (const strategy of strategies) {
        chosen = await strategy(req, created, clientGone.signal);
        if (chosen) break;
      }
      chosen ??= { status: 202, task: created, headers: {} };
      const response: StoredResponse = {
        status: chosen.status,
        headers: {
          ...chosen.headers,
          [HTTP_HEADERS.location]: API_PATHS.task(id),
          ...(chosen.status === 202 ? { [HTTP_HEADERS.retryAfter]: retryAfterS } : {}),
        },
        body: (extra.webhook
          ? { task: chosen.task, webhook: extra.webhook }
          : { task: chosen.task }) satisfies CreateTaskResponse,
      };
      if (key !== undefined) await idempotency.complete(scope, key, response);
      if (clientGone.signal.aborted) return;
      if (loseAnswer?.(req)) {
        // The task exists and its answer is stored under the key: only the answer's way back is cut.
        req.socket.destroy();
        return;
      }
      res.status(response.status).set(response.headers).json(response.body);
    } catch (error) {
      if (key !== undefined) await idempotency.release(scope, key);
      throw error;
    }
  });

  return {
    answerWith: (strategy) => strategies.push(strategy),
    beforeCreate: (step) => steps.push(step),
  };
}
