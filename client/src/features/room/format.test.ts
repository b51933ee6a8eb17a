import { describe, expect, it } from 'vitest';
import { clockText, exactMs, roundMs } from './format.ts';

describe('room figures', () => {
  it('writes a clock offset signed, to 0.1 ms, with its uncertainty; never a negative zero', () => {
    expect(clockText({ offsetMs: -3.21, uncertaintyMs: 1.5, rttMs: 3 })).toBe('-3.2 ms ± 1.5 ms');
    expect(clockText({ offsetMs: 12, uncertaintyMs: 0.25, rttMs: 0.5 })).toBe('+12.0 ms ± 0.3 ms');
    expect(clockText({ offsetMs: -0.04, uncertaintyMs: 3.6, rttMs: 7.2 })).toBe('+0.0 ms ± 3.6 ms');
    expect(clockText(null)).toBe('not measured yet');
  });

  it('writes ms exactly to 0.1 as the race table does, or rounded for a hall; a dash when not measured', () => {
    expect(exactMs(1_210.25)).toBe('1210.3 ms');
    expect(roundMs(1_210.5)).toBe('1211 ms');
    expect(exactMs(undefined)).toBe('—');
    expect(roundMs(Number.NaN)).toBe('—');
  });
});
