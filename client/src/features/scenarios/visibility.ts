import { clientNow } from '../../lib/time.ts';

/**
 * When this page was hidden (Page Visibility: another tab in front, the window minimised, the phone's
 * screen off), on the page clock (`clientNow`, epoch ms), from the moment the scenarios load. The
 * background-tab scene reads which part of its race the page spent hidden: what Chromium does to a
 * hidden page's timers and frames is then measured, not assumed.
 */
export interface VisibilityChange {
  hidden: boolean;
  at: number;
}

const changes: VisibilityChange[] = [];
/** At most this many changes kept (a page left open for days), the oldest dropped first. */
const MAX_CHANGES = 1_000;

if (typeof document !== 'undefined') {
  changes.push({ hidden: document.hidden, at: clientNow() });
  document.addEventListener('visibilitychange', () => {
    changes.push({ hidden: document.hidden, at: clientNow() });
    if (changes.length > MAX_CHANGES) changes.splice(0, changes.length - MAX_CHANGES);
  });
}

export const visibilityChanges = (): readonly VisibilityChange[] => changes;

/** The spans of [from, to] the page was hidden, from a record of its changes (oldest first). */
export function hiddenSpans(
  record: readonly VisibilityChange[],
  from: number,
  to: number,
): Array<{ from: number; to: number }> {
  const spans: Array<{ from: number; to: number }> = [];
  for (const [k, change] of record.entries()) {
    if (!change.hidden) continue;
    const end = record[k + 1]?.at ?? to;
    const a = Math.max(from, change.at);
    const b = Math.min(to, end);
    if (b > a) spans.push({ from: a, to: b });
  }
  return spans;
}
