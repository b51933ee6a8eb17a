import {
  LANE_IDS,
  LANES,
  type LaneId,
  MAX_PREFER_WAIT_S,
  NETWORK_PRESETS,
  type NetworkPresetId,
  type TaskSpec,
} from '@transport-lab/shared';
import {
  compareWithMeasurement,
  type Finding,
  type GuideResult,
  type MeasuredLane,
  type ProofRace,
} from '@transport-lab/shared/guide';
import type { Scenario, StepOutcome } from '../scenarios/scenarios.ts';

/**
 * "Prove it": the guide's answers raced on the page's own machinery. The race is a one-step guided
 * scenario (scenario-runner.ts): it sets the network, warms a fresh page up, presses Start (the fair
 * start), waits for every lane to end and its counts to settle, and reads each lane's figures as the
 * cards show them. Its check is the comparison with the rules of thumb (`compareWithMeasurement`).
 */

export const PROOF_SCENARIO_ID = 'decision-guide-proof';

/** The longest race "Prove it" runs by default, ms: a person waits for it; up to the task limit by hand. */
export const PROOF_DEFAULT_MAX_MS = 30_000;

export interface ProofSettings {
  /** The task raced, parsed with the shared `TaskSpec` (the race form's `parseSpecInput`). */
  spec: TaskSpec;
  network: NetworkPresetId;
  lanes: LaneId[];
  /** The hybrid's `Prefer: wait=N`, s (`hybridWaitSFor`). */
  hybridWaitS: number;
}

/**
 * The hybrid waits a little longer than the typical case, so that the typical case is answered in the
 * request (what the guide recommends it for): 1.5 × typical, in whole seconds as Prefer: wait=N counts,
 * from 1 to 60 s (`MAX_PREFER_WAIT_S`).
 */
export function hybridWaitSFor(result: GuideResult): number {
  return Math.min(Math.max(Math.ceil((result.answers.typicalMs * 1.5) / 1_000), 1), MAX_PREFER_WAIT_S);
}

/**
 * The race the answers suggest: the typical duration (at most 30 s by default), up to 10 steps when
 * progress matters (1 otherwise), the plan's lanes, the next lanes of the ranking and the blocking call as a
 * baseline, on the network a phone on Slow 4G has (a browser or app) or none (servers on one network).
 */
export function defaultProofSettings(result: GuideResult, available: readonly LaneId[]): ProofSettings {
  const { answers, ranked, plan } = result;
  const wanted = new Set<LaneId>([
    ...plan.parts.map((p) => p.lane),
    ...ranked.filter((r) => r.fit !== 'unsuitable').map((r) => r.lane),
  ]);
  const top = [...wanted].slice(0, 3);
  const lanes = LANE_IDS.filter(
    (id) => (top.includes(id) || LANES[id].mechanism === 'blocking') && available.includes(id),
  );
  const people = answers.consumers.some((c) => c !== 'server');
  const durationMs = Math.min(Math.max(answers.typicalMs, 50), PROOF_DEFAULT_MAX_MS);
  return {
    spec: {
      durationMs,
      // Steps at least 200 ms apart, so that a screen can show each: at most 10, 1 when only the end matters.
      steps: answers.progressMatters ? Math.min(Math.max(Math.floor(durationMs / 200), 1), 10) : 1,
    },
    network: people ? 'slow-4g' : 'none',
    lanes,
    hybridWaitS: hybridWaitSFor(result),
  };
}

/** The one race's figures, as the scenario runner read them off the cards. */
export function measuredOf(settings: ProofSettings, outcome: StepOutcome | undefined): ProofRace | undefined {
  if (!outcome) return undefined;
  const lanes: MeasuredLane[] = [];
  for (const id of settings.lanes) {
    const lane = outcome.lanes[id];
    if (!lane) continue;
    lanes.push({
      lane: id,
      status: lane.status,
      ...(lane.firstFeedbackMs !== undefined ? { firstFeedbackMs: lane.firstFeedbackMs } : {}),
      ...(lane.totalPerceivedMs !== undefined ? { totalPerceivedMs: lane.totalPerceivedMs } : {}),
      ...(lane.stalenessMeanMs !== undefined ? { stalenessMeanMs: lane.stalenessMeanMs } : {}),
      progressUpdates: lane.progressUpdates,
      requests: lane.requests,
      ...(lane.bytesDown !== undefined ? { bytesDown: lane.bytesDown } : {}),
      ...(lane.bytesUp !== undefined ? { bytesUp: lane.bytesUp } : {}),
      ...(lane.path ? { path: lane.path } : {}),
    });
  }
  return {
    durationMs: settings.spec.durationMs,
    steps: settings.spec.steps,
    network: NETWORK_PRESETS[settings.network].label,
    waitMs: settings.hybridWaitS * 1_000,
    lanes,
  };
}

/** The guided scenario that races the settings, judged by the guide's rules of thumb. */
export function proofScenario(result: GuideResult, settings: ProofSettings): Scenario {
  return {
    id: PROOF_SCENARIO_ID,
    title: 'Prove it: the decision guide’s answers, raced',
    lesson: 'The guide’s rules of thumb, checked against a race with these numbers.',
    expectation: 'The ranking holds on the figures the answers weigh most.',
    sources: [],
    network: { preset: settings.network },
    steps: [
      {
        label: 'Prove it',
        spec: settings.spec,
        lanes: settings.lanes,
        laneSettings: { hybridWaitS: settings.hybridWaitS },
      },
    ],
    check(outcomes) {
      const race = measuredOf(settings, outcomes[0]);
      const findings: Finding[] = race ? compareWithMeasurement(result, race) : [];
      const against = findings.filter((f) => !f.agrees);
      return {
        ok: against.length === 0,
        because:
          against.length === 0
            ? 'As expected: the measurement agrees with the rules of thumb.'
            : `Not this time, because ${against.length} of ${findings.length} rules of thumb did not hold.`,
        why: against.map((f) => `${f.claim} ${f.measured}`).join(' '),
        figures: [],
      };
    },
  };
}
