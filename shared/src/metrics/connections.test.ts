import { describe, expect, it } from 'vitest';
import { maxConcurrent } from './connections.ts';

describe('maxConcurrent', () => {
  it('counts the most intervals open at once, an end and a start at one instant not overlapping', () => {
    // A create (0–10), then polls back to back (10–20, 20–30), and a stream held from 5 to 40.
    expect(
      maxConcurrent([
        { start: 0, end: 10 },
        { start: 10, end: 20 },
        { start: 20, end: 30 },
        { start: 5, end: 40 },
      ]),
    ).toBe(2);
  });

  it('counts an interval with no end as still open, and none as zero', () => {
    expect(maxConcurrent([{ start: 0 }, { start: 50, end: 60 }, { start: 55 }])).toBe(3);
    expect(maxConcurrent([])).toBe(0);
  });
});
