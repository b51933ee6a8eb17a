/**
 * What the lab's own busyness did to a race's figures, said in words, so that neither the server's
 * queueing nor the page's own work is ever passed off as the transport's delay (issue 10).
 *
 * - The server's lateness: how far its task clock ran behind its own schedule (`at - dueAt` of an
 *   event, `latenessMs` of a task state). Every lane's figures include it.
 * - The page's busyness: its longest animation frame during the race (Chromium's Long Animation
 *   Frames API, else long tasks). While a frame runs, nothing that arrived can be shown.
 */

/** Server lateness at or above this is said on the card, the table's note and the aggregate, ms:
 *  beyond a timer's usual few ms of slack, and a quarter of the 100 ms a person feels as instant. */
export const SERVER_LATE_NOTE_MS = 25;

/** A page frame this long or longer is said, ms: Nielsen's 0.1 s "instant", spent by the page alone. */
export const PAGE_BUSY_NOTE_MS = 100;

/** How the page's main thread fared during a race: its long animation frames (≥ 50 ms each). */
export interface PageBusy {
  /** The longest frame, ms (0 when none was long). */
  longestFrameMs: number;
  /** How many frames took 50 ms or more. */
  longFrames: number;
  /** Their time past 50 ms each, summed, ms: how long input and new data waited beyond a frame. */
  blockingMs: number;
}

export function serverLateSentence(latenessMs: number): string | undefined {
  if (!(latenessMs >= SERVER_LATE_NOTE_MS)) return undefined;
  return `The server fell ${Math.round(latenessMs)} ms behind its own schedule: these figures include its queueing, not only the transport's delay.`;
}

export function pageBusySentence(busy: PageBusy | undefined): string | undefined {
  if (!busy || !(busy.longestFrameMs >= PAGE_BUSY_NOTE_MS)) return undefined;
  return `This page was busy for up to ${Math.round(busy.longestFrameMs)} ms at a time during the race (its own work, ${busy.longFrames} long ${busy.longFrames === 1 ? 'frame' : 'frames'}): what it showed waited that long, whatever the transport did.`;
}
