import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { RedisKeys } from '../store/redis.ts';

/**
 * A task's webhooks outlive the instance that accepted it (REDIS_URL). Deliveries are queued and sent
 * by that instance (its SQLite queue, its fair share, its network link's shaping); what another
 * instance needs to go on when it takes the task over (tasks/leases.ts) is kept in Redis beside the
 * task: the subscriber (URL, secret, built-in or not) and the last seq whose delivery settled
 * (delivered, given up, or disabled: deliveries go in seq order). The survivor queues every event
 * after that seq again. A delivery in flight when the instance died is sent again: at least once, as
 * webhooks always are, and a receiver that deduplicates by `webhook-id` sees it once, because a
 * delivery's id is its task's and seq's (`msg_<task>_<seq>`, dispatcher.ts), the same on every
 * instance. The task's lease is held until its webhooks have settled on the instance (leases.ts,
 * `webhooksSettled`), so a task that ended while its deliveries were still retrying is taken over
 * for them. A key lives a week past its last write (a task's webhooks settle within ≈ 33 h × the
 * schedule's scale), so nothing is left behind by a task that ended.
 */
const HANDOVER_TTL_S = 7 * 24 * 3_600;

const Record = z.object({
  url: z.string(),
  secret: z.string(),
  builtin: z.enum(['0', '1']).transform((flag) => flag === '1'),
  createdAt: z.coerce.number(),
  settledSeq: z.coerce.number().int().min(0).default(0),
  disabledAt: z.coerce.number().optional(),
});
export type HandoverRecord = z.infer<typeof Record>;

export interface WebhookHandover {
  /** Keeps the subscriber of a task for whichever instance takes the task over. */
  subscribed(
    taskId: string,
    subscriber: { url: string; secret: string; builtin: boolean; createdAt: number },
  ): Promise<void>;
  /** The delivery of this seq settled: nothing up to it is to be sent again. */
  settled(taskId: string, seq: number): Promise<void>;
  /** The receiver answered 410: nobody sends to it again. */
  disabled(taskId: string, at: number): Promise<void>;
  /** What the task's accepting instance left, or undefined when it had no webhook. */
  read(taskId: string): Promise<HandoverRecord | undefined>;
}

/** The highest settled seq only moves forward (a late write of an earlier seq cannot lower it). */
const SETTLE = `
local current = tonumber(redis.call('HGET', KEYS[1], 'settledSeq') or '0')
if tonumber(ARGV[1]) > current then redis.call('HSET', KEYS[1], 'settledSeq', ARGV[1]) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1`;

export function redisWebhookHandover(redis: Redis, keys: RedisKeys): WebhookHandover {
  return {
    async subscribed(taskId, { url, secret, builtin, createdAt }) {
      const key = keys.webhookHandover(taskId);
      await redis
        .multi()
        .hset(key, { url, secret, builtin: builtin ? '1' : '0', createdAt: String(createdAt) })
        .expire(key, HANDOVER_TTL_S)
        .exec();
    },
    async settled(taskId, seq) {
      await redis.eval(SETTLE, 1, keys.webhookHandover(taskId), String(seq), String(HANDOVER_TTL_S));
    },
    async disabled(taskId, at) {
      await redis.hset(keys.webhookHandover(taskId), 'disabledAt', String(at));
    },
    async read(taskId) {
      const fields = await redis.hgetall(keys.webhookHandover(taskId));
      if (!fields.url) return undefined;
      return Record.parse(fields);
    },
  };
}
