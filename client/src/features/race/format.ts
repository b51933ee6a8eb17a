import { type ClockEstimate, NIELSEN_BANDS, nielsenBand } from '@transport-lab/shared';

/** Shown wherever a number has not been measured (yet). */
export const UNMEASURED = '—';

/**
 * Numbers are plain digits with an ASCII minus and no grouping, so that what a person reads is
 * what a test or a copy-paste parses; tabular figures in the stylesheet keep the columns aligned.
 */
export function formatMs(ms: number | undefined): string {
  return ms === undefined ? UNMEASURED : `${Math.round(ms)} ms`;
}

export function formatBytes(bytes: number | undefined): string {
  return bytes === undefined ? UNMEASURED : `${Math.round(bytes)} B`;
}

export function formatRequests(count: number | undefined): string {
  if (count === undefined) return UNMEASURED;
  return `${count} ${count === 1 ? 'request' : 'requests'}`;
}

export function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

export function formatClock(estimate: ClockEstimate): string {
  const sign = estimate.offsetMs < 0 ? '-' : '+';
  return `${sign}${Math.abs(estimate.offsetMs).toFixed(1)} ms ± ${estimate.uncertaintyMs.toFixed(1)} ms`;
}

/** Nielsen's band of a latency, worded for the card. */
export function bandLabel(ms: number): string {
  const id = nielsenBand(ms);
  return NIELSEN_BANDS.find((band) => band.id === id)?.label ?? id;
}
