import { LANE_IDS } from '@transport-lab/shared';
import { rankLanes } from '@transport-lab/shared/guide';
import { describe, expect, it } from 'vitest';
import type { LaneOutcome, StepOutcome } from '../scenarios/scenarios.ts';
import { defaultProofSettings, measuredOf, PROOF_SCENARIO_ID, proofScenario } from './proof.ts';

const ANSWERS = {
  typicalMs: 20_000,
  worstMs: 45_000,
  feedbackWithinMs: 1_000,
  runsPerHour: 4,
  consumers: ['browser'],
  progressMatters: true,
  between: [],
  concurrentClients: 200,
  offlineForHours: false,
};

const outcome = (over: Partial<LaneOutcome>): LaneOutcome => ({
  status: 'succeeded',
  firstFeedbackMs: 100,
  totalPerceivedMs: 2_100,
  stalenessMeanMs: 40,
  requests: 2,
  bytesDown: 2_000,
  bytesUp: 300,
  eventsApplied: 8,
  lastSeq: 8,
  progressUpdates: 5,
  ...over,
});

describe('Prove it: the race the answers suggest, and its figures', () => {
  const result = rankLanes(ANSWERS);

  it('races the plan, the next lanes of the ranking and the blocking call, with the typical duration capped', () => {
    const settings = defaultProofSettings(result, LANE_IDS);
    expect(settings.spec).toEqual({ durationMs: 20_000, steps: 10 });
    expect(settings.network).toBe('slow-4g');
    expect(settings.lanes).toContain('request-response');
    expect(settings.lanes).toContain(result.plan.parts[0]?.lane);
    expect(settings.lanes.length).toBeLessThanOrEqual(4);
    const long = defaultProofSettings(
      rankLanes({ ...ANSWERS, typicalMs: 600_000, worstMs: 600_000 }),
      LANE_IDS,
    );
    expect(long.spec.durationMs).toBe(30_000);
    // Steps a screen can show apart: 300 ms gives one, 1 s five.
    const quick = (typicalMs: number) =>
      defaultProofSettings(rankLanes({ ...ANSWERS, typicalMs, worstMs: 60_000 }), LANE_IDS).spec.steps;
    expect([quick(300), quick(1_000)]).toEqual([1, 5]);
  });

  it('lets the hybrid wait 1.5 × the typical case, in whole seconds from 1 to 60', () => {
    expect(defaultProofSettings(result, LANE_IDS).hybridWaitS).toBe(30);
    const quick = rankLanes({ ...ANSWERS, typicalMs: 300, worstMs: 60_000 });
    expect(defaultProofSettings(quick, LANE_IDS).hybridWaitS).toBe(1);
    const slow = rankLanes({ ...ANSWERS, typicalMs: 600_000, worstMs: 600_000 });
    expect(defaultProofSettings(slow, LANE_IDS).hybridWaitS).toBe(60);
  });

  it('races only the lanes this page has', () => {
    const settings = defaultProofSettings(result, ['request-response', 'short-polling']);
    expect(settings.lanes.every((id) => id === 'request-response' || id === 'short-polling')).toBe(true);
  });

  it('is a one-step scenario on the chosen network, judged by the guide’s comparison', () => {
    const settings = {
      spec: { durationMs: 2_000, steps: 5 },
      network: 'fast-4g' as const,
      lanes: ['request-response' as const, 'sse' as const],
      hybridWaitS: 3,
    };
    const scenario = proofScenario(result, settings);
    expect(scenario.id).toBe(PROOF_SCENARIO_ID);
    expect(scenario.network).toEqual({ preset: 'fast-4g' });
    expect(scenario.steps[0]?.laneSettings).toEqual({ hybridWaitS: 3 });
    expect(scenario.steps).toHaveLength(1);
    expect(scenario.steps[0]).toMatchObject({
      spec: { durationMs: 2_000, steps: 5 },
      lanes: ['request-response', 'sse'],
    });
    const step: StepOutcome = {
      label: 'Prove it',
      spec: { durationMs: 2_000, steps: 5 },
      faults: [],
      lanes: {
        'request-response': outcome({
          firstFeedbackMs: 2_100,
          progressUpdates: 0,
          stalenessMeanMs: undefined,
          requests: 1,
        }),
        sse: outcome({}),
      },
    };
    const verdict = scenario.check([step], {});
    expect(verdict.ok).toBe(true);
    // A stream that showed one update in five: the rule of thumb did not hold.
    const buffered = { ...step, lanes: { ...step.lanes, sse: outcome({ progressUpdates: 1 }) } };
    const against = scenario.check([buffered], {});
    expect(against.ok).toBe(false);
    expect(against.why).toContain('1 of 5 updates shown');
  });

  it('reads each raced lane’s figures off the outcome, in the settings’ order, on the network’s name', () => {
    const settings = {
      spec: { durationMs: 2_000, steps: 5 },
      network: 'slow-4g' as const,
      lanes: ['sse' as const, 'websocket' as const, 'hybrid' as const],
      hybridWaitS: 3,
    };
    const race = measuredOf(settings, {
      label: 'Prove it',
      spec: { durationMs: 2_000, steps: 5 },
      faults: [],
      lanes: { sse: outcome({ requests: 1 }), hybrid: outcome({ path: 'answered' }) },
    });
    expect(race?.lanes.map((l) => [l.lane, l.path])).toEqual([
      ['sse', undefined],
      ['hybrid', 'answered'],
    ]);
    expect({ ...race, lanes: race?.lanes.slice(0, 1) }).toEqual({
      durationMs: 2_000,
      steps: 5,
      network: 'Slow 4G',
      waitMs: 3_000,
      lanes: [
        {
          lane: 'sse',
          status: 'succeeded',
          firstFeedbackMs: 100,
          totalPerceivedMs: 2_100,
          stalenessMeanMs: 40,
          progressUpdates: 5,
          requests: 1,
          bytesDown: 2_000,
          bytesUp: 300,
        },
      ],
    });
    expect(measuredOf(settings, undefined)).toBe(undefined);
  });
});
