import { composeLanes, createRegistry, type TransportRegistry } from './registry.ts';
import type { ClientLane, PushFollowers } from './types.ts';

/**
 * The page's lanes: every folder under `transports/` with an `index.ts`, found by Vite at build time
 * (`import.meta.glob`, eager: one bundle, as static imports would be) and made in the order of the
 * shared `LANE_IDS` by registry.ts. This is the only place that reaches the lane folders, and it names
 * none: a new lane is its folder and its entry in the shared list. Code run outside Vite (the
 * benchmark's page-cost part, under tsx) builds its own registry with `createRegistry`.
 */
const LANE_MODULES = import.meta.glob<ClientLane>('./*/index.ts', { eager: true, import: 'default' });

const composed = composeLanes(LANE_MODULES);

/** The push lanes' followers the composing lanes were handed. */
export const PUSH_FOLLOWERS: PushFollowers = composed.followers;

/** Every lane this page offers. */
export const defaultRegistry: TransportRegistry = createRegistry(composed.clients);
