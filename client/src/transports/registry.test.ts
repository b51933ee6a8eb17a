import { LANE_IDS, PUSH_LANES } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { defaultRegistry, PUSH_FOLLOWERS, pushFollowers } from './registry.ts';
import type { TransportClient } from './types.ts';

describe('the lane registry', () => {
  it('lists every lane of the shared list, in its order', () => {
    expect(defaultRegistry.lanes).toEqual(LANE_IDS);
    for (const id of LANE_IDS) expect(defaultRegistry.get(id)?.id).toBe(id);
  });

  it('hands the composing lane a follower for every push lane', () => {
    expect(Object.keys(PUSH_FOLLOWERS).sort()).toEqual([...PUSH_LANES].sort());
  });

  it('gathers followers only from push lanes that lend one', () => {
    const follow: TransportClient['follow'] = () => ({ stop() {}, done: Promise.resolve() });
    const run: TransportClient['run'] = () => ({ cancel() {}, done: Promise.resolve() }) as never;
    const followers = pushFollowers([
      { id: 'sse', run, follow },
      { id: 'long-polling', run },
      { id: 'websocket', run, follow },
    ]);
    expect(followers).toEqual({ sse: follow });
  });
});
