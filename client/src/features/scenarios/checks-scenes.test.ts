import { describe, expect, it } from 'vitest';
import type { LaneOutcome, StepOutcome } from './checks.ts';
import { checkBackgroundTab, checkDeadSocket, median } from './checks-scenes.ts';
import { hiddenSpans } from './visibility.ts';

const spec = { durationMs: 8_000, steps: 8 };
/** A lane that ended with every event once (steps + 3), after `totalMs`. */
const whole = (totalMs: number, notes: string[] = []): LaneOutcome => ({
  status: 'succeeded',
  totalPerceivedMs: totalMs,
  requests: 2,
  eventsApplied: spec.steps + 3,
  lastSeq: spec.steps + 3,
  progressUpdates: spec.steps,
  notes,
});
const heartbeat = { pingIntervalMs: 5_000, pingTimeoutMs: 4_000 };

function deadStep(
  deadSocket: NonNullable<StepOutcome['scene']>['deadSocket'],
  ws = whole(14_000),
): StepOutcome {
  return {
    label: 'dead',
    spec,
    lanes: { sse: whole(8_100), websocket: ws },
    faults: [],
    scene: { deadSocket },
  };
}

describe('the dead socket', () => {
  const noticed = {
    deadFromMs: 2_500,
    noticedAtMs: 9_800,
    reason: 'ping timeout',
    framesDownWhileDead: 0,
    reconnectedAtMs: 10_900,
  };

  it('passes a socket its heartbeat closed within interval + timeout, that reconnected with every event', () => {
    const v = checkDeadSocket(
      deadStep(noticed, whole(11_000, ['Reconnected: socket.io recovered the session: …'])),
      heartbeat,
    );
    expect(v.ok, v.because).toBe(true);
    expect(v.because).toContain('7.3 s');
    expect(v.because).toContain('socket.io recovered the session');
    expect(v.why).toContain('ping timeout');
  });

  it('fails a dead socket noticed sooner than a ping timeout (something else closed it) or later than interval + timeout', () => {
    expect(checkDeadSocket(deadStep({ ...noticed, noticedAtMs: 3_000 }), heartbeat).ok).toBe(false);
    expect(checkDeadSocket(deadStep({ ...noticed, noticedAtMs: 2_500 + 9_000 + 1_500 }), heartbeat).ok).toBe(
      false,
    );
  });

  it('fails a socket closed by a FIN that got through ("transport close"), or one that received frames while "dead"', () => {
    expect(checkDeadSocket(deadStep({ ...noticed, reason: 'transport close' }), heartbeat).because).toContain(
      'transport close',
    );
    expect(checkDeadSocket(deadStep({ ...noticed, framesDownWhileDead: 3 }), heartbeat).ok).toBe(false);
  });

  it('fails a socket that never noticed, never reconnected, or lost events; and without the server’s heartbeat', () => {
    expect(checkDeadSocket(deadStep({ deadFromMs: 2_500, framesDownWhileDead: 0 }), heartbeat).ok).toBe(
      false,
    );
    expect(checkDeadSocket(deadStep({ ...noticed, reconnectedAtMs: undefined }), heartbeat).ok).toBe(false);
    expect(
      checkDeadSocket(deadStep(noticed, { ...whole(14_000), eventsApplied: 9, lastSeq: 9 }), heartbeat).ok,
    ).toBe(false);
    expect(checkDeadSocket(deadStep(noticed), undefined).ok).toBe(false);
  });
});

describe('the background tab', () => {
  const lanes = { 'short-polling': whole(20_300), sse: whole(20_050), websocket: whole(20_050) };
  const hidden = (
    overrides: Partial<NonNullable<NonNullable<StepOutcome['scene']>['hidden']>> = {},
  ): StepOutcome => ({
    label: 'hidden',
    spec,
    lanes,
    faults: [],
    scene: {
      hidden: {
        hiddenFromMs: 3_000,
        hiddenToMs: 12_000,
        lanes: {
          'short-polling': {
            gapsVisibleMs: [302, 301, 305],
            gapsHiddenMs: [1_004, 998, 1_001, 2_000],
            receivedHidden: 0,
            shownHidden: 0,
          },
          sse: {
            gapsVisibleMs: [],
            gapsHiddenMs: [],
            receivedHidden: 10,
            shownHidden: 0,
            firstShownAfterMs: 12_020,
          },
          websocket: {
            gapsVisibleMs: [],
            gapsHiddenMs: [],
            receivedHidden: 10,
            shownHidden: 0,
            firstShownAfterMs: 12_020,
          },
        },
        ...overrides,
      },
    },
  });

  it('passes polls slowed to once a second while hidden, and pushes received but not drawn', () => {
    const v = checkBackgroundTab(hidden(), 300);
    expect(v.ok, v.because).toBe(true);
    expect(v.why).toContain('1 001 ms hidden');
  });

  it('says so when the page was never hidden, or too briefly: the person must switch tabs', () => {
    const v = checkBackgroundTab(hidden({ hiddenFromMs: undefined, hiddenToMs: undefined }), 300);
    expect(v.ok).toBe(false);
    expect(v.because).toContain('switch to another tab');
    expect(checkBackgroundTab(hidden({ hiddenFromMs: 3_000, hiddenToMs: 5_000 }), 300).ok).toBe(false);
  });

  it('fails a poll that kept its pace while hidden (no throttling), and a push lane drawn while hidden or silent', () => {
    const base = hidden().scene?.hidden;
    const fast = {
      ...base?.lanes['short-polling'],
      gapsVisibleMs: [300],
      gapsHiddenMs: [301, 300, 302],
      receivedHidden: 0,
      shownHidden: 0,
    };
    expect(checkBackgroundTab(hidden({ lanes: { ...base?.lanes, 'short-polling': fast } }), 300).ok).toBe(
      false,
    );
    const drawn = { gapsVisibleMs: [], gapsHiddenMs: [], receivedHidden: 10, shownHidden: 4 };
    expect(checkBackgroundTab(hidden({ lanes: { ...base?.lanes, sse: drawn } }), 300).ok).toBe(false);
    const silent = { gapsVisibleMs: [], gapsHiddenMs: [], receivedHidden: 0, shownHidden: 0 };
    expect(checkBackgroundTab(hidden({ lanes: { ...base?.lanes, websocket: silent } }), 300).ok).toBe(false);
  });

  it('reads the hidden spans of a race from the page’s visibility record, and takes a lower median', () => {
    const record = [
      { hidden: false, at: 0 },
      { hidden: true, at: 1_000 },
      { hidden: false, at: 4_000 },
      { hidden: true, at: 9_000 },
    ];
    expect(hiddenSpans(record, 2_000, 10_000)).toEqual([
      { from: 2_000, to: 4_000 },
      { from: 9_000, to: 10_000 },
    ]);
    expect(median([3, 1, 2, 4])).toBe(2);
    expect(median([])).toBeUndefined();
  });
});
