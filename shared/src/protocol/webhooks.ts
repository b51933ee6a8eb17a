import { z } from 'zod';
import { TaskEvent } from './events.ts';
import { TaskId } from './task.ts';

/**
 * Standard Webhooks (standardwebhooks.com) delivery body: `type` is `task.<event type>`,
 * `timestamp` the ISO time the event happened, `data` the task event itself.
 */
export const WebhookPayload = z.object({
  type: z.string().regex(/^task\.(queued|started|progress|succeeded|failed|cancelled)$/),
  timestamp: z.iso.datetime({ offset: true }),
  data: TaskEvent,
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;

/** Paths of the built-in receiver ("your backend"), on its own port (RECEIVER_PORT). */
export const RECEIVER_PATHS = {
  webhooks: '/webhooks',
  relay: (taskId: string) => `/relay/tasks/${encodeURIComponent(taskId)}`,
} as const;

/** Headers of a Standard Webhooks delivery. */
export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/** Retry schedule of the Standard Webhooks specification, ms after the previous attempt
 *  (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h); scaled by WEBHOOK_SCHEDULE_SCALE. */
export const WEBHOOK_RETRY_SCHEDULE_MS = [
  0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000,
] as const;

/** `secret` is returned once, when the server generated it; never again. */
export const WebhookSubscription = z.object({
  url: z.string(),
  secret: z
    .string()
    .regex(/^whsec_/)
    .optional(),
});
export type WebhookSubscription = z.infer<typeof WebhookSubscription>;

export const DeliveryAttempt = z.object({
  attempt: z.int().min(1),
  /** Server clock, epoch ms. */
  startedAt: z.number(),
  durationMs: z.number().min(0),
  /** HTTP status the receiver answered; absent when no answer came (timeout, refused). */
  httpStatus: z.int().optional(),
  outcome: z.enum(['delivered', 'retry', 'gave-up', 'disabled']),
  error: z.string().optional(),
});
export type DeliveryAttempt = z.infer<typeof DeliveryAttempt>;

export const Delivery = z.object({
  /** The `webhook-id` header: the same on every attempt of this delivery. */
  id: z.string(),
  eventSeq: z.int().min(1),
  eventType: z.string(),
  state: z.enum(['pending', 'delivered', 'failed', 'disabled']),
  attempts: z.array(DeliveryAttempt),
  /** Server clock, epoch ms; present while pending. */
  nextAttemptAt: z.number().optional(),
});
export type Delivery = z.infer<typeof Delivery>;

/** `GET /api/tasks/{id}/deliveries`. */
export const DeliveriesResponse = z.object({
  taskId: TaskId,
  subscriber: z
    .object({ url: z.string(), disabled: z.boolean(), disabledReason: z.string().optional() })
    .nullable(),
  deliveries: z.array(Delivery),
});
export type DeliveriesResponse = z.infer<typeof DeliveriesResponse>;

/** What the built-in receiver relays to the page for each delivery it accepted (once per webhook-id). */
export const RelayMessage = z.object({
  webhookId: z.string(),
  /** Receiver clock (the same process clock as the server's), epoch ms, when the delivery arrived. */
  receivedAt: z.number(),
  /** When the relay was sent to the page, epoch ms. */
  relayedAt: z.number(),
  /** Which attempt this was, from the receiver's own count of this webhook-id. */
  attempt: z.int().min(1),
  payload: WebhookPayload,
});
export type RelayMessage = z.infer<typeof RelayMessage>;
