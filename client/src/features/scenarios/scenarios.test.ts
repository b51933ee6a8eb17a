import { describe, expect, it } from 'vitest';
import { eventsOf, type LaneOutcome, SCENARIOS, type Scenario, type StepOutcome } from './scenarios.ts';

const byId = (id: string): Scenario => {
  const found = SCENARIOS.find((s) => s.id === id);
  if (!found) throw new Error(`no scenario ${id}`);
  return found;
};
const done = (figures: Partial<LaneOutcome>): LaneOutcome => ({
  status: 'succeeded',
  requests: 1,
  eventsApplied: 0,
  lastSeq: 0,
  progressUpdates: 0,
  ...figures,
});
const step = (scenario: Scenario, lanes: StepOutcome['lanes'], k = 0): StepOutcome => {
  const s = scenario.steps[k];
  if (!s) throw new Error('no step');
  return { label: s.label, spec: s.spec, lanes, faults: [], ...(s.x !== undefined ? { x: s.x } : {}) };
};

describe('guided scenarios', () => {
  it('each has a lesson, a stated expectation, and runnable steps', () => {
    expect(SCENARIOS.map((s) => s.id)).toEqual([
      'blocking-wins',
      'push-wins',
      'interval-sweep',
      'flaky-network',
      'receiver-down',
      '3g-phone',
      'buffering-proxy',
    ]);
    for (const s of SCENARIOS) {
      expect(s.lesson.length).toBeGreaterThan(80);
      expect(s.expectation.length).toBeGreaterThan(40);
      expect(s.steps.length).toBeGreaterThan(0);
    }
  });

  it('blocking-wins: as expected when request/response is within 15 ms of the best with one request', () => {
    const s = byId('blocking-wins');
    const lanes = {
      'request-response': done({ totalPerceivedMs: 60, requests: 1 }),
      'short-polling': done({ totalPerceivedMs: 110, requests: 2 }),
      'long-polling': done({ totalPerceivedMs: 58, requests: 2 }),
      sse: done({ totalPerceivedMs: 62, requests: 2 }),
      websocket: done({ totalPerceivedMs: 55, requests: 1 }),
    };
    expect(s.check([step(s, lanes)]).ok).toBe(true);
    const slow = s.check([
      step(s, { ...lanes, 'request-response': done({ totalPerceivedMs: 90, requests: 1 }) }),
    ]);
    expect(slow.ok).toBe(false);
    expect(slow.because).toMatch(
      /^Not this time, because request\/response took 90 ms, the fastest lane 55 ms/,
    );
  });

  it('push-wins: needs lower lag on both push lanes and at least 10 wasted polls', () => {
    const s = byId('push-wins');
    const lanes = {
      'short-polling': done({ completionLagMs: 520, requests: 22, wastedPolls: 16 }),
      'long-polling': done({ completionLagMs: 5, requests: 6 }),
      sse: done({ completionLagMs: 4, requests: 2 }),
      websocket: done({ completionLagMs: 3, requests: 1 }),
    };
    expect(s.check([step(s, lanes)]).ok).toBe(true);
    const verdict = s.check([
      step(s, { ...lanes, 'short-polling': done({ completionLagMs: 2, wastedPolls: 3 }) }),
    ]);
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain('short polling wasted only 3 polls');
  });

  it('interval-sweep: requests must fall at every step and the age end higher', () => {
    const s = byId('interval-sweep');
    const run = (requests: number[], ages: number[]) =>
      s.check(
        requests.map((r, k) =>
          step(s, { 'short-polling': done({ requests: r, informationAgeMs: ages[k] }) }, k),
        ),
      );
    expect(run([18, 10, 6, 4], [120, 250, 500, 1000]).ok).toBe(true);
    expect(run([18, 10, 10, 4], [120, 250, 500, 1000]).because).toContain(
      'Interval 1000 ms made 10 requests',
    );
    expect(run([18, 10, 6, 4], [900, 250, 500, 800]).ok).toBe(false);
  });

  it('flaky-network: resuming lanes must reach the last event in order; request/response must not have its answer', () => {
    const s = byId('flaky-network');
    const all = eventsOf({ durationMs: 6_000, steps: 12 });
    const lanes = {
      'request-response': done({ status: 'error' }),
      'long-polling': done({ lastSeq: all }),
      sse: done({ lastSeq: all }),
      websocket: done({ lastSeq: all }),
    };
    expect(s.check([step(s, lanes)]).ok).toBe(true);
    // Started over: succeeded a whole task (6 s) after the drop (2 s); an answer sooner means no drop.
    expect(s.check([step(s, { ...lanes, 'request-response': done({ totalPerceivedMs: 8_150 }) })]).ok).toBe(
      true,
    );
    expect(s.check([step(s, { ...lanes, 'request-response': done({ totalPerceivedMs: 6_100 }) })]).ok).toBe(
      false,
    );
    expect(s.check([step(s, { ...lanes, sse: done({ lastSeq: all - 2 }) })]).because).toContain(
      `Server-Sent Events reached event ${all - 2} of ${all}`,
    );
  });

  it('receiver-down, 3g-phone and buffering-proxy read their own figures', () => {
    const receiver = byId('receiver-down');
    const all = eventsOf({ durationMs: 3_000, steps: 3 });
    expect(
      receiver.check([step(receiver, { webhook: done({ eventsApplied: all, failedDeliveries: 3 }) })]).ok,
    ).toBe(true);
    expect(
      receiver.check([step(receiver, { webhook: done({ eventsApplied: all, failedDeliveries: 1 }) })]).ok,
    ).toBe(false);

    const phone = byId('3g-phone');
    const slow = (first: number, total: number) => done({ firstFeedbackMs: first, totalPerceivedMs: total });
    const phoneLanes = {
      'request-response': slow(6_100, 6_100),
      'short-polling': slow(2_100, 7_500),
      sse: slow(4_100, 5_100),
      websocket: slow(4_050, 5_050),
    };
    expect(phone.check([step(phone, phoneLanes)]).ok).toBe(true);
    expect(phone.check([step(phone, { ...phoneLanes, websocket: slow(1_000, 5_000) })]).ok).toBe(false);

    const proxy = byId('buffering-proxy');
    const buffered = done({ firstProgressMs: 5_010, progressUpdates: 1 });
    const pushed = done({ firstProgressMs: 260, progressUpdates: 20, stalenessMedianMs: 12 });
    expect(proxy.check([step(proxy, { sse: buffered, websocket: pushed })]).ok).toBe(true);
    // An unbuffered SSE is not the lesson.
    expect(
      proxy.check([
        step(proxy, { sse: done({ firstProgressMs: 255, progressUpdates: 20 }), websocket: pushed }),
      ]).ok,
    ).toBe(false);
    // A websocket whose bar first moved late because its socket took long to connect still shows the
    // lesson: the values it showed were fresh (the failure of issue 10's scenario loop).
    expect(
      proxy.check([step(proxy, { sse: buffered, websocket: { ...pushed, firstProgressMs: 1_230 } })]).ok,
    ).toBe(true);
    // A websocket held back like the SSE stream (values old on screen) fails, whatever its count.
    expect(
      proxy.check([step(proxy, { sse: buffered, websocket: { ...pushed, stalenessMedianMs: 2_400 } })])
        .because,
    ).toContain("the websocket's progress values were 2400 ms old on screen (median)");
    expect(
      proxy.check([step(proxy, { sse: buffered, websocket: { ...pushed, progressUpdates: 3 } })]).ok,
    ).toBe(false);
  });
});
