import { API_ROUTES, type DeliveriesResponse, TaskId } from '@transport-lab/shared';
import type { Router } from 'express';
import { parseOrThrow } from '../../errors.ts';
import type { WebhookService } from '../../webhooks/types.ts';

export interface WebhookLaneDeps {
  router: Router;
  webhooks: WebhookService;
}

/**
 * The webhook lane's own route. Subscribing happens in `POST /api/tasks` (body `webhook: {url,
 * secret?}`); deliveries go to the receiver, which relays them to the page. Here the page reads the
 * delivery log: every attempt with its status and duration, and when the next one is due.
 */
export function register({ router, webhooks }: WebhookLaneDeps): void {
  router.get(API_ROUTES.deliveries, async (req, res) => {
    const id = parseOrThrow(TaskId, req.params.id, 'task id');
    const log: DeliveriesResponse = await webhooks.deliveries(id);
    res.setHeader('Cache-Control', 'no-store');
    res.json(log);
  });
}
