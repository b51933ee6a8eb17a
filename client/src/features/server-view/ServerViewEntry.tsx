import { lazy, useId, useState } from 'react';
import { OnFirstNeed } from '../../lib/Loading.tsx';
import type { LiveRace } from './ServerViewPanel.tsx';

// Loaded on first need: its code is in no page's first load (scripts/bundle-budget.mjs).
const ServerViewPanel = lazy(() => import('./ServerViewPanel.tsx'));

/** The panel itself, loaded lazily, with its loading and failure states (the presenter's screen). */
export function ServerView({ of }: { of: LiveRace }) {
  return (
    <OnFirstNeed what="the server’s view">
      <ServerViewPanel of={of} />
    </OnFirstNeed>
  );
}

/**
 * The race page's fold: the panel is loaded, and the server asked, only once a person opens it, so
 * that a page that never looks costs the server nothing (a hall of phones each racing).
 */
export function ServerViewFold({ of }: { of: LiveRace }) {
  const [open, setOpen] = useState(false);
  const regionId = useId();
  return (
    <div className="server-view-fold">
      <button
        type="button"
        className="button secondary"
        aria-expanded={open}
        aria-controls={regionId}
        onClick={() => setOpen((was) => !was)}
        data-testid="server-view-toggle"
      >
        {open ? 'Hide the server’s own view' : 'Show the server’s own view'}
      </button>
      <div id={regionId}>{open ? <ServerView of={of} /> : null}</div>
    </div>
  );
}
