import type { DeliveriesResponse, DeliveryAttempt, WebhookSubscription } from '@transport-lab/shared';
import type { DeliveryOwner } from './fairShare.ts';

/**
 * The webhook side of the server as the rest of it sees it. `POST /api/tasks` calls `subscribe`
 * with a fresh task id *before* the task is created, so that even its `queued` event is delivered.
 */
export interface WebhookService {
  /**
   * Checks the URL with the SSRF guard (refusal: AppError WEBHOOK_URL_REFUSED, nothing stored),
   * then registers the subscriber for the task. Generates a `whsec_` secret when none is given;
   * the answer carries the secret only then (it is shown once). `owner`: the device and run the
   * task's deliveries count for in the fair share of attempts (without one, the task alone).
   */
  subscribe(
    taskId: string,
    webhook: { url: string; secret?: string },
    owner?: DeliveryOwner,
  ): Promise<WebhookSubscription>;
  /** The delivery log of a task: every attempt, status, duration, next retry. */
  deliveries(taskId: string): Promise<DeliveriesResponse>;
  /** For the metrics: attempts this process made, by outcome; deliveries pending; attempts in flight. */
  stats(): WebhookStats;
  close(): Promise<void>;
}

export interface WebhookStats {
  attempts: Record<DeliveryAttempt['outcome'], number>;
  pending: number;
  inFlight: number;
}
