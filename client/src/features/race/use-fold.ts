import { type SyntheticEvent, useLayoutEffect, useState } from 'react';

/**
 * A panel folded away while a race runs (issue 12, item 5: the show on one screen): open on a page that
 * has not raced, closed when a race starts, so that the Start/Cancel bar and every lane's progress sit on
 * the first screen; it stays closed after the race, so that the results stay there too. The person can
 * open or close it at any time, and that choice holds until the next race starts.
 */
export function useFoldDuringRace(racing: boolean): {
  open: boolean;
  onToggle(event: SyntheticEvent<HTMLDetailsElement>): void;
} {
  const [open, setOpen] = useState(!racing);
  // A layout effect, before the browser paints the race's first controls frame: no frame shows the
  // panels open over the cards. (Adjusting the state while rendering lost the update when the render
  // was a transition's, as the controls' race is: use-controls-race.ts.)
  useLayoutEffect(() => {
    if (racing) setOpen(false);
  }, [racing]);
  return {
    open,
    // React calls a parent's onToggle for a nested <details> too: only this element's own toggle counts.
    onToggle: (event) => {
      if (event.target === event.currentTarget) setOpen(event.currentTarget.open);
    },
  };
}
