import { describe, expect, it } from 'vitest';
import { faultedCountsNote, faultedVerdict } from './WireCompare.tsx';

describe('the server’s count beside the page’s, in a race with faults (issue 12)', () => {
  it('says why a fault makes the counts differ, and nothing without one', () => {
    expect(faultedCountsNote([])).toBeUndefined();
    expect(faultedCountsNote(['receiver'])).toBeUndefined();
    expect(faultedCountsNote(['drop-connections'])).toContain('re-sends a request by itself');
    expect(faultedCountsNote(['buffer-streams'])).toContain('fewer chunk headers');
    expect(faultedCountsNote(['buffer-streams'])).toMatch(/not a bug\.$/);
  });

  it('calls a flagged difference the fault’s, not a bug on one side', () => {
    expect(faultedVerdict('the server missed 135 B down the page counted: a bug on one side')).toBe(
      'the server missed 135 B down the page counted: the fault’s, as said above',
    );
    expect(faultedVerdict('the page missed 1 request: a bug in the page’s count')).toBe(
      'the page missed 1 request: the fault’s, as said above',
    );
    // A blocking call cut before its answer: the page measured nothing of what it sent.
    expect(faultedVerdict('the page measured none of the server’s 687 B up')).toBe(
      'the page measured none of the server’s 687 B up: the fault’s, as said above',
    );
  });
});
