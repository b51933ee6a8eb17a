import { LANE_IDS, PUSH_LANES } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { defaultRegistry, PUSH_FOLLOWERS } from './lanes.ts';
import { composeLanes, pushFollowers } from './registry.ts';
import type { ClientLane, TransportClient } from './types.ts';

const follow: TransportClient['follow'] = () => ({ stop() {}, done: Promise.resolve() });
const run: TransportClient['run'] = () => ({ cancel() {}, done: Promise.resolve() }) as never;

describe('the lane registry', () => {
  it('finds a folder for every lane of the shared list and offers them in its order', () => {
    expect(defaultRegistry.lanes).toEqual(LANE_IDS);
    for (const id of LANE_IDS) expect(defaultRegistry.get(id)?.id).toBe(id);
  });

  it('hands the composing lane a follower for every push lane', () => {
    expect(Object.keys(PUSH_FOLLOWERS).sort()).toEqual([...PUSH_LANES].sort());
  });

  it('gathers followers only from push lanes that lend one', () => {
    const followers = pushFollowers([
      { id: 'sse', run, follow },
      { id: 'long-polling', run },
      { id: 'websocket', run, follow },
    ]);
    expect(followers).toEqual({ sse: follow });
  });

  it('makes the lanes in the shared order, composing ones last with the followers of the others', () => {
    let handed: unknown;
    const modules: Record<string, ClientLane> = {
      './hybrid/index.ts': {
        id: 'hybrid',
        composes: 'push-followers',
        create: (followers) => {
          handed = followers;
          return { id: 'hybrid', run };
        },
      },
      './sse/index.ts': { id: 'sse', create: () => ({ id: 'sse', run, follow }) },
    };
    const { clients, followers } = composeLanes(modules, ['sse', 'hybrid', 'websocket']);
    expect(clients.map((client) => client.id)).toEqual(['sse', 'hybrid']);
    expect(followers).toEqual({ sse: follow });
    expect(handed).toBe(followers);
  });

  it('refuses a folder whose export names another lane', () => {
    const modules: Record<string, ClientLane> = {
      './sse/index.ts': { id: 'websocket', create: () => ({ id: 'websocket', run }) },
    };
    expect(() => composeLanes(modules, ['sse'])).toThrow(
      "client/src/transports/sse/index.ts exports the lane 'websocket'",
    );
  });
});
