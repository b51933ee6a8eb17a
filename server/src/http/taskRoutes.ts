import {
  API_PATHS,
  API_ROUTES,
  type HealthResponse,
  PROTOCOL_VERSION,
  type PublicSettings,
  TaskId,
  type TaskResponse,
  type TimeResponse,
} from '@transport-lab/shared';
import { Router } from 'express';
import { peerOf, type TaskOwnership } from '../access/index.ts';
import { parseOrThrow } from '../errors.ts';
import { epochNow } from '../observability/clock.ts';
import { tagOf } from '../observability/wireLedger.ts';
import type { TaskEngine } from '../tasks/engine.ts';

export interface CommonRouteDeps {
  engine: TaskEngine;
  storeKind: string;
  startedAt: number;
  settings: () => PublicSettings;
  /** Who may cancel which task (access/ownership.ts). */
  ownership: TaskOwnership;
}

/** Routes that belong to no lane: cancel, the clock, the page's settings, liveness. */
export function commonRoutes({ engine, storeKind, startedAt, settings, ownership }: CommonRouteDeps): Router {
  const router = Router();

  router.post(API_ROUTES.cancel, async (req, res) => {
    const id = parseOrThrow(TaskId, req.params.id, 'task id');
    await ownership.authorizeCancel(id, { peer: peerOf(req), runId: tagOf(req)?.runId });
    const task = await engine.cancel(id);
    res.json({ task } satisfies TaskResponse);
  });

  router.get(API_PATHS.time, (_req, res) => {
    const receivedAt = epochNow();
    res.setHeader('Cache-Control', 'no-store');
    res.json({ receivedAt, sentAt: epochNow() } satisfies TimeResponse);
  });

  router.get(API_PATHS.settings, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.json(settings());
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
