import { startTransition, useEffect, useState } from 'react';
import { appStore } from './index.ts';
import { isRaceRunning } from './race-slice.ts';
import type { RaceState } from './types.ts';

/** How long after a race starts the page's controls follow it, ms. */
export const CONTROLS_LAG_MS = 250;

/**
 * The race as the page's controls show it (the form, Start and Cancel, the fault and scenario panels,
 * the export buttons, Run alone): none of them is a lane's feedback. A race's start reaches them
 * `CONTROLS_LAG_MS` later, from a timer (a task apart; `startTransition` is a plain call under Preact's
 * compat layer), so that disabling thirty controls and enabling a dozen
 * buttons (a render, a restyle, a layout and a paint of its own) stays out of the frames in which the
 * lanes' first answers come in; the store refuses a second start meanwhile. A race's end, its settling,
 * and any change while no race runs reach them at once; what changes during a race does not.
 */
export function useRaceForControls(): RaceState {
  const [race, setRace] = useState(() => appStore.getState().race);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let shown = appStore.getState().race;
    const show = (next: RaceState) => {
      shown = next;
      setRace(next);
    };
    show(shown);
    const unsubscribe = appStore.subscribe((state, previous) => {
      if (state.race === previous.race) return;
      if (isRaceRunning(state.race.lanes)) {
        if (!isRaceRunning(shown.lanes) || shown.runId !== state.race.runId) {
          timer ??= setTimeout(() => {
            timer = undefined;
            const now = appStore.getState().race;
            startTransition(() => show(now));
          }, CONTROLS_LAG_MS);
        }
        return;
      }
      clearTimeout(timer);
      timer = undefined;
      show(state.race);
    });
    return () => {
      unsubscribe();
      clearTimeout(timer);
    };
  }, []);
  return race;
}
