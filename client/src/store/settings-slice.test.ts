import { describe, expect, it } from 'vitest';
import { DEFAULT_SPEC_INPUT, parseSpecInput } from './settings-slice.ts';

describe('parseSpecInput', () => {
  it('accepts the defaults as a TaskSpec without failAtStep', () => {
    expect(parseSpecInput(DEFAULT_SPEC_INPUT)).toEqual({ ok: true, spec: { durationMs: 3_000, steps: 20 } });
  });

  it('rejects a duration above the shared limit with a message naming the limit', () => {
    const parsed = parseSpecInput({ ...DEFAULT_SPEC_INPUT, durationMs: '120001' });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.errors.durationMs).toMatch(/^Duration must be .* from 0 to 120000/);
      expect(parsed.errors.steps).toBeUndefined();
    }
  });

  it.each(['', 'abc', '1.5', '-3'])('rejects %j as steps', (steps) => {
    const parsed = parseSpecInput({ ...DEFAULT_SPEC_INPUT, steps });
    expect(parsed.ok ? undefined : parsed.errors.steps).toMatch(
      /^Steps must be a whole number from 1 to 1000/,
    );
  });

  it('flags a failAtStep beyond the steps on that field', () => {
    const parsed = parseSpecInput({ durationMs: '100', steps: '5', failAtStep: '6' });
    expect(parsed.ok ? undefined : Object.keys(parsed.errors)).toEqual(['failAtStep']);
  });

  it('passes a valid failAtStep through', () => {
    expect(parseSpecInput({ durationMs: '100', steps: '5', failAtStep: ' 3 ' })).toEqual({
      ok: true,
      spec: { durationMs: 100, steps: 5, failAtStep: 3 },
    });
  });
});
