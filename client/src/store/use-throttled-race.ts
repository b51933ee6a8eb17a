import { startTransition, useEffect, useState } from 'react';
import { appStore } from './index.ts';
import { isRaceRunning } from './race-slice.ts';
import type { RaceState } from './types.ts';

/**
 * The race state for views that need not follow every frame (the metrics table, the server's count,
 * the timeline's summary): while a race runs they re-render at most every `intervalMs`, leaving each
 * frame to the cards and the timeline; once it ends they follow every change. Seven lanes at 20 events
 * per second change the race state every frame, and a table of 7 × 12 cells re-rendered per frame
 * costs frames (measured: twice the long tasks in a 7-lane race).
 *
 * A race's start is no exception: these views take it on the first tick, `intervalMs` after the press,
 * not in the frames between the press and the first answers, which wait for whatever the page does
 * then (rendered with the start, the table and the server's count added a render, a layout and a
 * paint of their own in the 50 ms after the press). Each refresh comes from a timer of its own, so
 * these views render in a task apart from the cards' (Preact, which renders the page through
 * preact/compat, runs `startTransition`'s callback at once and renders in one pass: the timer is
 * what keeps them out of the cards' frames).
 */
export function useThrottledRace(intervalMs: number): RaceState {
  const [race, setRace] = useState(() => appStore.getState().race);
  useEffect(() => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const take = () => {
      const current = appStore.getState().race;
      startTransition(() => setRace(current));
    };
    /** Refreshes every `intervalMs` while `running`; returns whether it does. */
    const follow = (running: boolean): boolean => {
      if (running) timer ??= setInterval(take, intervalMs);
      else if (timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
      return running;
    };
    follow(isRaceRunning(appStore.getState().race.lanes));
    take();
    const unsubscribe = appStore.subscribe((state, previous) => {
      if (state.race === previous.race) return;
      // While a race runs the timer refreshes, its start included; its end, and any change when no
      // race runs, is taken at once.
      if (!follow(isRaceRunning(state.race.lanes))) take();
    });
    return () => {
      unsubscribe();
      if (timer !== undefined) clearInterval(timer);
    };
  }, [intervalMs]);
  return race;
}
