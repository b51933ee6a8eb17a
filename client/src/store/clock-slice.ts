import type { ClockSample } from '@transport-lab/shared';
import { estimateClockOffset } from '@transport-lab/shared';
import type { ClockSlice, SliceCreator, StoreDeps } from './types.ts';

/** Pings per estimate: enough that one of them likely had a quiet, symmetric path (smallest RTT wins). */
export const CLOCK_PINGS = 8;

export const createClockSlice =
  (deps: StoreDeps): SliceCreator<ClockSlice> =>
  (set, get) => ({
    clock: { status: 'idle' },
    async measureClock() {
      if (get().clock.status === 'measuring' || get().race.recording) return;
      set((state) => ({ clock: { ...state.clock, status: 'measuring' } }));
      const samples: ClockSample[] = [];
      let lastError: unknown;
      // One at a time: pings in parallel would queue behind one another and inflate each round trip.
      for (let i = 0; i < CLOCK_PINGS; i++) {
        try {
          samples.push(await deps.sampleClock());
        } catch (error) {
          lastError = error;
        }
      }
      // A recording opened meanwhile shows its own estimate; the page's is measured again on leaving it.
      if (get().race.recording) return;
      if (samples.length === 0) {
        const message = lastError instanceof Error ? lastError.message : 'no answer';
        set((state) => ({ clock: { ...state.clock, status: 'error', error: message } }));
        return;
      }
      set({ clock: { status: 'ready', estimate: estimateClockOffset(samples) } });
    },
  });
