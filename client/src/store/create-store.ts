import { createStore } from 'zustand/vanilla';
import { createClockSlice } from './clock-slice.ts';
import { createRaceSlice } from './race-slice.ts';
import { createRoomSlice } from './room-slice.ts';
import { createSettingsSlice } from './settings-slice.ts';
import type { AppState, StoreDeps } from './types.ts';

/**
 * One store from four slices; tests and the benchmark make their own with fake transports and a
 * manual frame clock. Apart from index.ts, which wires the page's own store to the browser, so that
 * code run outside Vite (the benchmark, under tsx) can make one without loading the page's lanes.
 */
export function createAppStore(deps: StoreDeps) {
  return createStore<AppState>()((...a) => ({
    ...createSettingsSlice(deps)(...a),
    ...createRaceSlice(deps)(...a),
    ...createClockSlice(deps)(...a),
    ...createRoomSlice(deps)(...a),
  }));
}

export type AppStore = ReturnType<typeof createAppStore>;
