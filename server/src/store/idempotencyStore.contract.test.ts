import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { STORE_DRIVERS, useStoreWorld } from '../../test/storeDrivers.ts';
import type { IdempotencyStore, StoredResponse } from './types.ts';

/**
 * What every IdempotencyStore promises (types.ts), checked against SQLite and Redis. Lifetimes are
 * shortened to be waited out for real: Redis forgets a key by its own clock (the key's TTL).
 */

const answer: StoredResponse = {
  status: 202,
  headers: { location: '/api/tasks/task-0001', 'content-type': 'application/json' },
  body: { task: { id: 'task-0001', status: 'queued' }, note: 'ünïcode ✓' },
};
const LIFETIMES = { ttlMs: 400, pendingStaleMs: 200 };

describe.each(STORE_DRIVERS)('the $kind idempotency store', (driver) => {
  const world = useStoreWorld(driver);
  let keys: IdempotencyStore;
  beforeEach(async () => {
    keys = await world().idempotency(LIFETIMES);
  });

  it('claims a new key once: the same body again is in progress, another body a mismatch', async () => {
    expect(await keys.claim('client', 'k1', 'body-a')).toEqual({ kind: 'claimed' });
    expect(await keys.claim('client', 'k1', 'body-a')).toEqual({ kind: 'in-progress' });
    expect(await keys.claim('client', 'k1', 'body-b')).toEqual({ kind: 'mismatch' });
  });

  it('replays the stored answer verbatim for the same key and body, and still refuses another body', async () => {
    await keys.claim('client', 'k1', 'body-a');
    await keys.complete('client', 'k1', answer);
    expect(await keys.claim('client', 'k1', 'body-a')).toEqual({ kind: 'replay', response: answer });
    expect(await keys.claim('client', 'k1', 'body-b')).toEqual({ kind: 'mismatch' });
  });

  it('keeps a key its client’s: the same key in another scope is another record', async () => {
    await keys.claim('client', 'k1', 'body-a');
    await keys.complete('client', 'k1', answer);
    expect(await keys.claim('another client', 'k1', 'body-b')).toEqual({ kind: 'claimed' });
  });

  it('forgets a released claim: the key may be used again, with any body', async () => {
    await keys.claim('client', 'k1', 'body-a');
    await keys.release('client', 'k1');
    expect(await keys.claim('client', 'k1', 'body-b')).toEqual({ kind: 'claimed' });
  });

  it('forgets an answered key after its lifetime: claimed afresh', async () => {
    await keys.claim('client', 'k1', 'body-a');
    await keys.complete('client', 'k1', answer);
    await sleep(LIFETIMES.ttlMs / 2);
    expect((await keys.claim('client', 'k1', 'body-a')).kind).toBe('replay');
    await sleep(LIFETIMES.ttlMs + 100);
    expect(await keys.claim('client', 'k1', 'body-b')).toEqual({ kind: 'claimed' });
  });

  it('frees a claim never answered (its request died with its instance) after the pending lifetime', async () => {
    await keys.claim('client', 'k1', 'body-a');
    await sleep(LIFETIMES.pendingStaleMs + 100);
    expect(await keys.claim('client', 'k1', 'body-a')).toEqual({ kind: 'claimed' });
  });

  it('is durable: another store on the same data (a restart) replays the answer', async () => {
    await keys.claim('client', 'k1', 'body-a');
    await keys.complete('client', 'k1', answer);
    const restarted = await world().idempotency(LIFETIMES);
    expect(await restarted.claim('client', 'k1', 'body-a')).toEqual({ kind: 'replay', response: answer });
  });
});

describe.each(STORE_DRIVERS.filter((driver) => driver.shared))('two instances on one $kind', (driver) => {
  const world = useStoreWorld(driver);

  it('grant a key to exactly one of many requests racing on both, and agree on the rest', async () => {
    const [a, b] = [await world().idempotency(), await world().idempotency()];
    const claims = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).claim('client', 'race', 'body-a')),
    );
    expect(claims.filter((claim) => claim.kind === 'claimed')).toHaveLength(1);
    expect(claims.filter((claim) => claim.kind === 'in-progress')).toHaveLength(39);
    expect(await b.claim('client', 'race', 'body-b')).toEqual({ kind: 'mismatch' });
    await a.complete('client', 'race', answer);
    expect(await b.claim('client', 'race', 'body-a')).toEqual({ kind: 'replay', response: answer });
    await b.release('client', 'race');
    expect(await a.claim('client', 'race', 'body-b')).toEqual({ kind: 'claimed' });
  });
});
