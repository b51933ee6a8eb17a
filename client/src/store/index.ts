import { useStore } from 'zustand';
import { sampleServerClock } from '../clock/sample.ts';
import { createPageBusyMonitor, type PageBusyMonitor } from '../lib/page-busy.ts';
import { tickWithFrame } from '../lib/ticker.ts';
import { clientNow } from '../lib/time.ts';
import { fetchWireReport } from '../lib/wire-report.ts';
import { injectFault } from '../services/faults-api.ts';
import { connectRoom, detectDeviceClass } from '../services/room-connection.ts';
import { roomCodeFromSearch } from '../services/room-link.ts';
import { browserStorage } from '../services/room-storage.ts';
import { browserAsyncDeps } from '../transports/async-task.ts';
import { defaultRegistry } from '../transports/lanes.ts';
import { type AppStore, createAppStore } from './create-store.ts';
import { animationFrame, startOnAnimationFrame } from './frame-batcher.ts';
import { networkStore } from './network-store.ts';
import { parseRaceLink } from './race-link.ts';
import { isRaceRunning, randomRunId } from './race-slice.ts';
import type { AppState } from './types.ts';

export { type AppStore, createAppStore } from './create-store.ts';
export type * from './types.ts';

/**
 * What the page's components subscribe through: the store, with its notifications held while a race
 * starts (`hold`) and delivered at once on `release` (the next frame's batch). The state itself
 * changes at once; only React's render of it waits. Anything else that subscribes to the store
 * directly hears every change as it happens.
 */
function createRenderGate(store: AppStore) {
  let held = false;
  let fallback: ReturnType<typeof setTimeout> | undefined;
  type Listener = Parameters<AppStore['subscribe']>[0];
  /** Each listener that missed a change while held, with the state before the first it missed. */
  const waiting = new Map<Listener, AppState>();
  const release = () => {
    held = false;
    clearTimeout(fallback);
    const due = [...waiting];
    waiting.clear();
    for (const [listener, previous] of due) listener(store.getState(), previous);
  };
  const api: AppStore = {
    ...store,
    subscribe(listener) {
      const unsubscribe = store.subscribe((state, previous) => {
        if (!held) listener(state, previous);
        else if (!waiting.has(listener)) waiting.set(listener, previous);
      });
      return () => {
        waiting.delete(listener);
        unsubscribe();
      };
    },
  };
  return {
    api,
    hold() {
      held = true;
      // A page that gets no frame (hidden) still renders the start, later.
      clearTimeout(fallback);
      fallback = setTimeout(release, RENDER_HOLD_MAX_MS);
    },
    release,
  };
}

/** The longest a render is held when no frame comes to release it. */
const RENDER_HOLD_MAX_MS = 250;

let gate: ReturnType<typeof createRenderGate> | undefined;

/** The page's store, with the browser's transports; `?view=` picks the first layout. */
export const appStore: AppStore = createAppStore({
  renderGate: { hold: () => gate?.hold(), release: () => gate?.release() },
  // The cards' elapsed readouts tick with the frames that apply events, not in frames of their own.
  onFrame: tickWithFrame,
  registry: defaultRegistry,
  now: clientNow,
  schedule: animationFrame,
  startFrame: startOnAnimationFrame,
  sampleClock: () => sampleServerClock(),
  loadSettings: () => browserAsyncDeps.loadSettings(),
  newRunId: randomRunId,
  loadWireReport: (runId) => fetchWireReport(runId),
  initialLink:
    typeof location === 'undefined' ? undefined : parseRaceLink(location.search, defaultRegistry.lanes),
  room: {
    connect: () => connectRoom(),
    storage: browserStorage(),
    device: () => detectDeviceClass(),
    injectFault: async (fault) => (await injectFault(fault)).summary,
  },
  initialRoomCode: typeof location === 'undefined' ? undefined : roomCodeFromSearch(location.search),
  ...withPageBusy(createPageBusyMonitor()),
  connectionEpoch,
});

/**
 * The browser's network link as a connection opened now would get it: undefined until the page has
 * read it and while it changes (a connection opened then could carry the old link's cookie).
 */
function connectionEpoch(): string | undefined {
  const network = networkStore.getState();
  if (network.status === 'loading' || network.status === 'saving') return undefined;
  if (network.status === 'unsupported') return 'unshaped';
  if (network.current === undefined) return undefined;
  return network.current.linkId ?? 'none';
}

// The websocket lane's socket for the next race opens once the link is known, again when the link
// changes (the server closed the old one's connections), when the lane is selected, and as soon as a
// race has ended (not only once its byte counts have settled: the next press may come first).
networkStore.subscribe(() => appStore.getState().prepareNextRace());
appStore.subscribe((state, previous) => {
  const ended =
    state.race.lanes !== previous.race.lanes &&
    isRaceRunning(previous.race.lanes) &&
    !isRaceRunning(state.race.lanes);
  if (ended || state.selectedLanes !== previous.selectedLanes) state.prepareNextRace();
});

function withPageBusy(monitor: PageBusyMonitor | undefined): { pageBusy?: PageBusyMonitor } {
  return monitor ? { pageBusy: monitor } : {};
}

gate = createRenderGate(appStore);
const renderedStore = gate.api;

/** Reads the page's store with a selector; re-renders only when the selected value changes. */
export function useAppStore<T>(selector: (state: AppState) => T): T {
  return useStore(renderedStore, selector);
}
