import {
  type LaneId,
  LaneResult,
  type LaneSettings,
  type Participant,
  type RaceId,
  RaceResult,
  RoomScenario,
  type TaskSpec,
} from '@transport-lab/shared';
import { laneQueueMs } from './lane-reducer.ts';
import { laneMetrics } from './metrics.ts';
import type { RoomProblem } from './room-types.ts';
import { parseLaneSettings, parseSpecInput } from './settings-slice.ts';
import type { AppState, LaneSettingsInput, SpecInput } from './types.ts';

/*
 * The room's pure parts: a scenario from the page's settings and back, this page's result for the
 * room, names and refusals in words. No socket, no state: room-slice.ts drives them.
 */

/** How a participant is named on screen: their name, or "Anonymous" and their id's first letters. */
export function participantLabel(p: Pick<Participant, 'id' | 'name'> | undefined, id?: string): string {
  if (p?.name) return p.name;
  const shown = (p?.id ?? id ?? '').slice(0, 4);
  return shown ? `Anonymous ${shown}` : 'Anonymous';
}

/** The race settings form as typed, from a scenario's task. */
export function specInputOf(spec: TaskSpec): SpecInput {
  return {
    durationMs: String(spec.durationMs),
    steps: String(spec.steps),
    failAtStep: spec.failAtStep === undefined ? '' : String(spec.failAtStep),
  };
}

export function laneSettingsInputOf(settings: LaneSettings): LaneSettingsInput {
  return {
    pollIntervalMs: settings.pollIntervalMs === undefined ? '' : String(settings.pollIntervalMs),
    longPollWaitMs: String(settings.longPollWaitMs),
    hybridWaitS: String(settings.hybridWaitS),
    hybridPushLane: settings.hybridPushLane,
  };
}

export type ScenarioFromSettings = { ok: true; scenario: RoomScenario } | { ok: false; reason: string };

/** The page's current race settings as a room scenario, validated by the shared schema. */
export function scenarioFromSettings(
  state: Pick<AppState, 'specInput' | 'laneSettingsInput' | 'selectedLanes' | 'server'>,
): ScenarioFromSettings {
  const spec = parseSpecInput(state.specInput);
  if (!spec.ok) return { ok: false, reason: 'The race settings have an error: fix them on the race page.' };
  const lanes = parseLaneSettings(state.laneSettingsInput, state.server.settings);
  if (!lanes.ok) return { ok: false, reason: 'The lane settings have an error: fix them on the race page.' };
  if (state.selectedLanes.length === 0) return { ok: false, reason: 'Choose at least one lane.' };
  const parsed = RoomScenario.safeParse({
    spec: spec.spec,
    lanes: state.selectedLanes,
    laneSettings: lanes.settings,
  });
  return parsed.success
    ? { ok: true, scenario: parsed.data }
    : { ok: false, reason: 'These settings cannot be a room scenario.' };
}

/** Two scenarios ask for the same race (key order aside). */
export function sameScenario(a: RoomScenario | undefined, b: RoomScenario | undefined): boolean {
  if (!a || !b) return a === b;
  const norm = (s: RoomScenario) =>
    JSON.stringify([
      s.spec.durationMs,
      s.spec.steps,
      s.spec.failAtStep ?? null,
      s.spec.resultBytes ?? null,
      s.lanes,
      s.laneSettings.pollIntervalMs ?? null,
      s.laneSettings.longPollWaitMs,
      s.laneSettings.hybridWaitS,
      s.laneSettings.hybridPushLane,
    ]);
  return norm(a) === norm(b);
}

/** A figure past the schema's bounds (an hour, a gigabyte) is left out, rather than the whole result refused. */
function withinSchema(result: LaneResult): LaneResult {
  const out: Record<string, unknown> = { ...result };
  for (const [key, schema] of Object.entries(LaneResult.shape)) {
    if (out[key] !== undefined && !schema.safeParse(out[key]).success) delete out[key];
  }
  return out as LaneResult;
}

const nonNegative = (value: number | undefined) =>
  value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
const finite = (value: number | undefined) =>
  value !== undefined && Number.isFinite(value) ? value : undefined;
const wholeCount = (value: number | undefined) =>
  value !== undefined && Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;

/**
 * This page's finished race as the room's `RaceResult`: one `LaneResult` per lane of the scenario, with
 * the figures the page's own metrics table shows (the same `laneMetrics` and wire counts).
 *
 * - Times are reported for lanes the server carried to the end of the task (succeeded or failed, as the
 *   table compares them); a lane that errored or was cancelled reports its status and its wire cost only.
 * - A byte total the page knows to be a lower bound ("≥" in the table) is left out: the aggregate
 *   takes every figure as a measurement.
 * - A scenario lane this page cannot run reports `error` with no figures.
 */
export function raceResultOf(
  raceId: RaceId,
  lanes: readonly LaneId[],
  state: Pick<AppState, 'race' | 'clock'>,
): RaceResult {
  const results = lanes.map((id): LaneResult => {
    const lane = state.race.lanes[id];
    if (!lane || lane.status === 'idle' || lane.status === 'running') return { lane: id, status: 'error' };
    const out: LaneResult = { lane: id, status: lane.status };
    if (lane.status === 'succeeded' || lane.status === 'failed') {
      const metrics = laneMetrics(lane, state.race.actionAt, state.clock.estimate);
      const firstFeedbackMs = nonNegative(metrics.firstFeedbackMs);
      const totalPerceivedMs = nonNegative(metrics.totalPerceivedMs);
      const completionLagMs = finite(metrics.completionLagMs);
      if (firstFeedbackMs !== undefined) out.firstFeedbackMs = firstFeedbackMs;
      if (totalPerceivedMs !== undefined) out.totalPerceivedMs = totalPerceivedMs;
      if (completionLagMs !== undefined) out.completionLagMs = completionLagMs;
    }
    const { wire } = lane;
    const requests = wholeCount(wire.requests);
    if (requests !== undefined) out.requests = requests;
    const bytesUp = wire.unmeasuredUp ? undefined : wholeCount(wire.bytesUp);
    const bytesDown = wire.unmeasuredDown ? undefined : wholeCount(wire.bytesDown);
    if (bytesUp !== undefined) out.bytesUp = bytesUp;
    if (bytesDown !== undefined) out.bytesDown = bytesDown;
    const serverLatenessMs = nonNegative(lane.serverLatenessMs);
    if (serverLatenessMs !== undefined) out.serverLatenessMs = serverLatenessMs;
    const queueMs = nonNegative(laneQueueMs(lane));
    if (queueMs !== undefined) out.queueMs = queueMs;
    const pageBusyMs = nonNegative(state.race.pageBusy?.longestFrameMs);
    if (pageBusyMs !== undefined) out.pageBusyMs = pageBusyMs;
    return withinSchema(out);
  });
  return RaceResult.parse({ raceId, lanes: results });
}

/** A refusal's words for a person; the code stays beside them for whoever reports it. */
export function problemText(problem: RoomProblem): string {
  const base: Record<string, string> = {
    FORBIDDEN: 'Only the presenter may do that.',
    ROOM_FULL: 'This room is full.',
    ROOM_ENDED: 'This room has ended.',
    RATE_LIMITED: 'Too many attempts: wait a minute, then try again.',
    VALIDATION_FAILED: 'The server refused the request as not valid.',
    NOT_FOUND: 'No room has this code. Check it with the presenter.',
    TIMEOUT: 'The server did not answer in time. Check the network and try again.',
    BAD_RESPONSE: 'The server answered something this page cannot read.',
    NOT_CONNECTED: 'Not connected to the room.',
  };
  // A bound's refusal says in its own sentence which bound and what to do (docs/security.md, "Limits").
  if (problem.code === 'RATE_LIMITED' && problem.message) return problem.message;
  return base[problem.code] ?? 'Something went wrong.';
}
