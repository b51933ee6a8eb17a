import { describe, expect, it } from 'vitest';
import { serverLatenessMs } from '../protocol/events.ts';
import { PAGE_BUSY_NOTE_MS, pageBusySentence, SERVER_LATE_NOTE_MS, serverLateSentence } from './lateness.ts';

describe('lateness', () => {
  it('measures an event against its due time, never below zero, and not at all without one', () => {
    expect(serverLatenessMs({ at: 1_140, dueAt: 1_000 })).toBe(140);
    expect(serverLatenessMs({ at: 1_000, dueAt: 1_000.4 })).toBe(0);
    expect(serverLatenessMs({ at: 1_000 })).toBe(0);
  });

  it('says the server fell behind only from the threshold on, with the figure', () => {
    expect(serverLateSentence(SERVER_LATE_NOTE_MS - 1)).toBeUndefined();
    expect(serverLateSentence(140.4)).toBe(
      "The server fell 140 ms behind its own schedule: these figures include its queueing, not only the transport's delay.",
    );
  });

  it("says the page's own busyness only when a frame reached the threshold", () => {
    expect(pageBusySentence(undefined)).toBeUndefined();
    expect(pageBusySentence({ longestFrameMs: PAGE_BUSY_NOTE_MS - 1, longFrames: 3, blockingMs: 80 })).toBe(
      undefined,
    );
    expect(pageBusySentence({ longestFrameMs: 233.6, longFrames: 1, blockingMs: 183.6 })).toContain(
      'busy for up to 234 ms at a time during the race (its own work, 1 long frame)',
    );
  });
});
