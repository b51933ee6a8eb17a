export {
  createWebhooks,
  generateSecret,
  type Webhooks,
  type WebhooksDeps,
  webhookPayload,
} from './dispatcher.ts';
export type { DeliveryOwner } from './fairShare.ts';
export { createReceiver, RECEIVER_PATHS, type Receiver, type ReceiverDeps } from './receiver.ts';
export type { WebhookService } from './types.ts';
