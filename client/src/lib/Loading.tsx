/**
 * What a part of the page loaded on first need (React.lazy, docs/architecture.md "What a phone loads
 * first") shows while its script arrives: a polite status, so a screen reader hears it once without
 * being interrupted, and nothing that moves.
 */
export function Loading({ what }: { what: string }) {
  return (
    <p className="hint loading" role="status" data-testid="lazy-loading">
      Loading {what}…
    </p>
  );
}
