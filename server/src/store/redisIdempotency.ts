import type { Redis, Result } from 'ioredis';
import { IDEMPOTENCY_LIFETIMES, type IdempotencyLifetimes, scopedKey } from './idempotency.ts';
import type { RedisKeys } from './redis.ts';
import type { IdempotencyClaim, IdempotencyStore, StoredResponse } from './types.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    transportLabClaimKey(key: string, fingerprint: string, pendingMs: number): Result<string[], Context>;
    transportLabAnswerKey(key: string, response: string, ttlMs: number): Result<number, Context>;
  }
}

/**
 * Claims a key, or says why not, in one step of Redis: two instances asking at once get one
 * `claimed` and one `in-progress`. KEYS[1]: the key's hash; ARGV: fingerprint, pending lifetime ms.
 * A claim lives `pendingMs` unless answered: a request that died with its instance frees its key.
 */
const CLAIM_LUA = `
local fingerprint = redis.call('HGET', KEYS[1], 'fingerprint')
if fingerprint then
  if fingerprint ~= ARGV[1] then return {'mismatch'} end
  local response = redis.call('HGET', KEYS[1], 'response')
  if response then return {'replay', response} end
  return {'in-progress'}
end
redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'claimed'}
`;

/** Stores the answer of a pending claim and keeps it `ttlMs`. KEYS[1]: the key's hash; ARGV: response
 *  JSON, ttl ms. A claim that expired meanwhile (or was released) stays gone: 0. */
const ANSWER_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'response') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'response', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/**
 * Idempotency-Key records on Redis, one hash per scoped key (redis.ts), shared by every instance. A
 * claim is decided by a script, atomically across instances; its expiry is the key's own TTL: the
 * pending lifetime from the claim, the answer's lifetime from the answer (SQLite counts both from the
 * claim: the difference is the time a create takes). Nothing to sweep: Redis deletes expired keys.
 */
export function redisIdempotencyStore(
  redis: Redis,
  keys: RedisKeys,
  { ttlMs, pendingStaleMs }: IdempotencyLifetimes = IDEMPOTENCY_LIFETIMES,
): IdempotencyStore {
  redis.defineCommand('transportLabClaimKey', { lua: CLAIM_LUA, numberOfKeys: 1 });
  redis.defineCommand('transportLabAnswerKey', { lua: ANSWER_LUA, numberOfKeys: 1 });
  const keyOf = (scope: string, key: string) => keys.idempotency(scopedKey(scope, key));

  return {
    async claim(scope, key, fingerprint): Promise<IdempotencyClaim> {
      const [kind, response] = await redis.transportLabClaimKey(
        keyOf(scope, key),
        fingerprint,
        pendingStaleMs,
      );
      if (kind === 'replay') return { kind, response: JSON.parse(response ?? 'null') as StoredResponse };
      if (kind === 'claimed' || kind === 'in-progress' || kind === 'mismatch') return { kind };
      throw new Error(`unexpected answer from the idempotency claim script: ${kind}`);
    },
    async complete(scope, key, response) {
      await redis.transportLabAnswerKey(keyOf(scope, key), JSON.stringify(response), ttlMs);
    },
    async release(scope, key) {
      await redis.del(keyOf(scope, key));
    },
  };
}
