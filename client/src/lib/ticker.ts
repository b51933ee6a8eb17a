import { raceNow } from './race-clock.ts';
import { clientNow } from './time.ts';

/**
 * The clock of the running cards' elapsed readouts: one clock for all of them, ticked in animation
 * frames that render anyway. A frame that applies a batch of events ticks it when a tick is due
 * (`tickWithFrame`), so the readouts change in that frame's render rather than in a frame of their
 * own; when no such frame comes, a timer ticks it in a frame of its own. An external store, so that
 * React renders a tick in the frame that took it.
 */

/** A tick is due this long after the last: the readout shows tenths of a second. */
export const TICK_MS = 100;
/** Without a frame that renders anyway, the clock still ticks this long after the last tick. */
const ALONE_MS = 120;

let now = raceNow();
let lastTick = Number.NEGATIVE_INFINITY;
const listeners = new Set<() => void>();
let alone: ReturnType<typeof setTimeout> | undefined;
let frame: number | undefined;

function tick(): void {
  now = raceNow();
  lastTick = clientNow();
  for (const listener of listeners) listener();
  clearTimeout(alone);
  alone = setTimeout(() => {
    frame ??= requestAnimationFrame(() => {
      frame = undefined;
      tick();
    });
  }, ALONE_MS);
}

/** Follows the clock; the first to follow starts it. */
export function subscribeTicks(listener: () => void): () => void {
  listeners.add(listener);
  if (listeners.size === 1) tick();
  return () => {
    listeners.delete(listener);
    if (listeners.size > 0) return;
    clearTimeout(alone);
    alone = undefined;
    if (frame !== undefined) cancelAnimationFrame(frame);
    frame = undefined;
  };
}

/** The clock's time at its last tick (the race clock, lib/race-clock.ts: epoch ms). */
export function tickTime(): number {
  return now;
}

/** In a frame that renders anyway: ticks when a tick is due and someone follows the clock. */
export function tickWithFrame(): void {
  if (listeners.size > 0 && clientNow() - lastTick >= TICK_MS) tick();
}
