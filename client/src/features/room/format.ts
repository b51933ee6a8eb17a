import type { ClockReport } from '@transport-lab/shared';
import { UNMEASURED } from '../race/format.ts';

/** Milliseconds to 0.1, as the race page's metrics table writes them: the same digits on both screens. */
export function exactMs(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? UNMEASURED : `${ms.toFixed(1)} ms`;
}

/** Milliseconds rounded, for the large figures a hall reads. */
export function roundMs(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? UNMEASURED : `${Math.round(ms)} ms`;
}

export function bytes(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? UNMEASURED : `${Math.round(value)} B`;
}

export function count(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? UNMEASURED : String(Math.round(value));
}

/** A participant's clock as they reported it: offset ± uncertainty. */
export function clockText(clock: ClockReport | null): string {
  if (!clock) return 'not measured yet';
  // Signed after rounding, so that -0.04 ms reads +0.0 ms, not -0.0 ms.
  const shown = Math.abs(clock.offsetMs).toFixed(1);
  const sign = clock.offsetMs < 0 && shown !== '0.0' ? '-' : '+';
  return `${sign}${shown} ms ± ${clock.uncertaintyMs.toFixed(1)} ms`;
}
