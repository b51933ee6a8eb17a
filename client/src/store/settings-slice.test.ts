import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../testing/async-fakes.ts';
import {
  DEFAULT_LANE_SETTINGS_INPUT,
  DEFAULT_SPEC_INPUT,
  parseLaneSettings,
  parseSpecInput,
} from './settings-slice.ts';

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

describe('parseLaneSettings', () => {
  it('accepts the defaults, leaving the poll interval to the server’s Retry-After', () => {
    expect(parseLaneSettings(DEFAULT_LANE_SETTINGS_INPUT)).toEqual({
      ok: true,
      settings: { longPollWaitMs: 25_000, hybridWaitS: 2, hybridPushLane: 'sse' },
    });
  });

  it('passes a chosen interval and push lane through', () => {
    expect(
      parseLaneSettings({
        pollIntervalMs: ' 500 ',
        longPollWaitMs: '1000',
        hybridWaitS: '0',
        hybridPushLane: 'long-polling',
      }),
    ).toEqual({
      ok: true,
      settings: {
        pollIntervalMs: 500,
        longPollWaitMs: 1_000,
        hybridWaitS: 0,
        hybridPushLane: 'long-polling',
      },
    });
  });

  it('flags each wrong field with its bounds', () => {
    const parsed = parseLaneSettings({
      ...DEFAULT_LANE_SETTINGS_INPUT,
      pollIntervalMs: '50',
      hybridWaitS: '61',
    });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.errors.pollIntervalMs).toMatch(/from 100 to 60000/);
      expect(parsed.errors.hybridWaitS).toMatch(/from 0 to 60/);
      expect(parsed.errors.longPollWaitMs).toBeUndefined();
    }
  });

  it('holds the long-poll wait to the server’s ceiling when the server has a lower one', () => {
    const parsed = parseLaneSettings(DEFAULT_LANE_SETTINGS_INPUT, { ...SETTINGS, maxLongPollWaitMs: 10_000 });
    expect(parsed.ok ? undefined : parsed.errors.longPollWaitMs).toMatch(/from 1000 to 10000/);
  });

  it.each(['', '2.5', 'abc', '-1'])('rejects %j as the hybrid wait', (hybridWaitS) => {
    expect(parseLaneSettings({ ...DEFAULT_LANE_SETTINGS_INPUT, hybridWaitS }).ok).toBe(false);
  });
});
