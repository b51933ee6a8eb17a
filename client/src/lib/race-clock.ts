import { clientNow } from './time.ts';

/**
 * The clock a race's running figures are read on (the cards' elapsed readouts, the timeline's open
 * exchanges): the page's own clock, or a recording's playback clock while one is replayed, so that a
 * race recorded hours ago does not read as hours long. Epoch ms on the recording's page clock.
 */
let source: (() => number) | undefined;

export function raceNow(): number {
  return source ? source() : clientNow();
}

/** A replay sets its playback clock; undefined goes back to the page's own. */
export function setRaceClock(clock: (() => number) | undefined): void {
  source = clock;
}
