import { describe, expect, it } from 'vitest';
import { summarizeFrames } from './page-busy.ts';

describe('summarizeFrames', () => {
  it('counts the long frames that overlap the race, its longest, and their time past 50 ms', () => {
    const frames = [
      { startAt: 900, durationMs: 120 }, // began before the race, ran into it
      { startAt: 1_500, durationMs: 60 },
      { startAt: 2_000, durationMs: 233 },
      { startAt: 9_000, durationMs: 400 }, // after the race
    ];
    expect(summarizeFrames(frames, 1_000, 5_000)).toEqual({
      longestFrameMs: 233,
      longFrames: 3,
      blockingMs: 70 + 10 + 183,
    });
    expect(summarizeFrames(frames, 5_000, 8_000)).toEqual({
      longestFrameMs: 0,
      longFrames: 0,
      blockingMs: 0,
    });
  });
});
