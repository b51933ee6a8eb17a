import { lazy, useState } from 'react';
import { OnFirstNeed } from '../../lib/Loading.tsx';

// The guide (its questionnaire, ranking, "Prove it" and record) loads when first opened: nobody racing
// needs it, and a phone's first load stays within scripts/bundle-budget.mjs (docs/architecture.md).
const GuidePanel = lazy(() => import('../guide/GuidePanel.tsx').then((m) => ({ default: m.GuidePanel })));

/**
 * The decision guide's place on the race page: a heading and one button that opens it (a disclosure,
 * aria-expanded), so that the page stays short until someone asks "which should we use?".
 */
export function GuideEntry() {
  const [open, setOpen] = useState(false);
  // Once loaded it stays mounted while closed, so that closing it loses no answers and no measurement.
  const [loaded, setLoaded] = useState(false);
  return (
    <section className="guide-entry" aria-labelledby="guide-title">
      <h2 id="guide-title" className="section-title">
        Decision guide
      </h2>
      <p className="hint">
        Which lane should your operation use? Answer a few questions, get the lanes ranked with their reasons,
        prove it with a race of your own numbers, and export a decision record.
      </p>
      <div className="actions">
        <button
          type="button"
          className="button"
          aria-expanded={open}
          aria-controls="guide-body"
          onClick={() => {
            setLoaded(true);
            setOpen((was) => !was);
          }}
        >
          {open ? 'Close the decision guide' : 'Open the decision guide'}
        </button>
      </div>
      <div id="guide-body" hidden={!open}>
        {loaded ? (
          <OnFirstNeed what="the decision guide">
            <GuidePanel />
          </OnFirstNeed>
        ) : null}
      </div>
    </section>
  );
}
