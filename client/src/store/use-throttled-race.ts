import { useEffect, useReducer } from 'react';
import { appStore, useAppStore } from './index.ts';
import { isRaceRunning } from './race-slice.ts';
import type { RaceState } from './types.ts';

/**
 * The race state for views that need not follow every frame (the metrics table, the server's count,
 * the timeline's summary): while a race runs they re-render at most every `intervalMs`, leaving each
 * frame to the cards and the timeline; once it ends they follow every change. Seven lanes at 20 events
 * per second change the race state every frame, and a table of 7 × 12 cells re-rendered per frame
 * costs frames (measured: twice the long tasks in a 7-lane race).
 */
export function useThrottledRace(intervalMs: number): RaceState {
  const running = useAppStore((s) => isRaceRunning(s.race.lanes));
  const [, refresh] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    refresh();
    if (running) {
      const timer = setInterval(refresh, intervalMs);
      return () => clearInterval(timer);
    }
    return appStore.subscribe((state, previous) => {
      if (state.race !== previous.race) refresh();
    });
  }, [running, intervalMs]);
  return appStore.getState().race;
}
