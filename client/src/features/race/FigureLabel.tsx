import { type KeyboardEvent, type ReactNode, useId, useState } from 'react';
import { GLOSSARY, type GlossaryKey } from './glossary.ts';

/**
 * A figure's label with its definition (issue 12, item 3), reachable three ways: hovering or focusing
 * the (i) button shows it, and a tap or Enter keeps it open (Escape or another tap closes it). The
 * definition is the button's description (`aria-describedby`), so a screen reader says it on focus. It
 * opens in the flow, under the label, not over it: a card is paint-contained (it would clip a popup),
 * and a popup covered the next label.
 */
export function FigureLabel({ term, children }: { term: GlossaryKey; children?: ReactNode }) {
  const id = useId();
  const [open, setOpen] = useState(false);
  // Escape hides the definition a focus shows too, until the button is left.
  const [dismissed, setDismissed] = useState(false);
  const entry = GLOSSARY[term];
  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (event.key !== 'Escape') return;
    setOpen(false);
    setDismissed(true);
  };
  return (
    <span className="figure-label">
      {children ?? entry.term}
      <button
        type="button"
        className="define"
        aria-label={`What is ${entry.term}?`}
        aria-describedby={id}
        aria-expanded={open}
        data-testid="define"
        onClick={() => {
          setOpen((was) => !was);
          setDismissed(false);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => {
          setOpen(false);
          setDismissed(false);
        }}
      >
        <span aria-hidden="true">i</span>
      </button>
      <span
        id={id}
        role="tooltip"
        className="definition"
        data-open={open || undefined}
        data-dismissed={dismissed || undefined}
      >
        {entry.definition}
      </span>
    </span>
  );
}
