import { nearestRank } from './aggregate.ts';
import { toClientTime } from './clock.ts';

/**
 * What a lane observed during one run, on the client's clock (epoch ms, sub-ms precision),
 * except `serverAt`/`serverFinishedAt`, which are the server's clock as stamped on the events.
 */
export interface LaneObservation {
  /** The user's action: when "Start" was pressed. */
  actionAt: number;
  /** First thing on screen that came from the server: an ack, a 202, an event, a final answer. */
  firstFeedbackAt?: number;
  /** Each progress value as it was put on screen. */
  progressShown: ReadonlyArray<{ serverAt: number; shownAt: number }>;
  /** Server time of the terminal event. */
  serverFinishedAt?: number;
  /** When the page showed the task as finished. */
  finishedShownAt?: number;
}

export interface PerceivedMetrics {
  /** Action → first feedback, ms. */
  firstFeedbackMs?: number;
  /** Action → finished on screen, ms. */
  totalPerceivedMs?: number;
  /** Server finished → page shows finished, ms, clocks corrected. */
  completionLagMs?: number;
  /** Age of each progress value when shown, ms, clocks corrected. The median (nearest rank) is the
   *  typical value: one late frame moves the mean, not the median. */
  staleness?: { meanMs: number; medianMs: number; maxMs: number; count: number };
}

export function perceivedMetrics(obs: LaneObservation, clockOffsetMs: number): PerceivedMetrics {
  const out: PerceivedMetrics = {};
  if (obs.firstFeedbackAt !== undefined) out.firstFeedbackMs = obs.firstFeedbackAt - obs.actionAt;
  if (obs.finishedShownAt !== undefined) out.totalPerceivedMs = obs.finishedShownAt - obs.actionAt;
  if (obs.finishedShownAt !== undefined && obs.serverFinishedAt !== undefined) {
    out.completionLagMs = obs.finishedShownAt - toClientTime(obs.serverFinishedAt, clockOffsetMs);
  }
  if (obs.progressShown.length > 0) {
    const ages = obs.progressShown.map((p) => p.shownAt - toClientTime(p.serverAt, clockOffsetMs));
    let sum = 0;
    for (const age of ages) sum += age;
    ages.sort((a, b) => a - b);
    out.staleness = {
      meanMs: sum / ages.length,
      medianMs: nearestRank(ages, 50),
      maxMs: ages[ages.length - 1] as number,
      count: ages.length,
    };
  }
  return out;
}

/**
 * Nielsen's response-time limits (Nielsen 1993, "Usability Engineering", ch. 5): 0.1 s feels
 * instant, 1 s keeps the flow of thought, 10 s keeps attention; beyond that attention is lost.
 */
export const NIELSEN_BANDS = [
  { id: 'instant', upToMs: 100, label: 'instant (≤ 0.1 s)' },
  { id: 'flow', upToMs: 1_000, label: 'flow kept (≤ 1 s)' },
  { id: 'attention', upToMs: 10_000, label: 'attention kept (≤ 10 s)' },
  { id: 'lost', upToMs: Number.POSITIVE_INFINITY, label: 'attention lost (> 10 s)' },
] as const;
export type NielsenBand = (typeof NIELSEN_BANDS)[number]['id'];

export function nielsenBand(ms: number): NielsenBand {
  for (const band of NIELSEN_BANDS) if (ms <= band.upToMs) return band.id;
  return 'lost';
}

/**
 * The screen's mean age of information, ms: averaged over time from the first progress value shown
 * to `untilShownAt` (the finish on screen), how old the information on screen was (now − the server
 * time of the value shown). Where staleness asks how old each value was when it arrived, this asks
 * how far behind the screen stood the whole time: a lane that skips values (a slow poll) shows fresh
 * values rarely, and this grows with the gap. Exact for a step-wise screen:
 * ∫ (t − sᵢ) dt over [shownᵢ, shownᵢ₊₁) = ((shownᵢ₊₁ − sᵢ)² − (shownᵢ − sᵢ)²) / 2.
 * Undefined without a value shown before `untilShownAt`.
 */
export function meanInformationAgeMs(
  progressShown: ReadonlyArray<{ serverAt: number; shownAt: number }>,
  untilShownAt: number,
  clockOffsetMs: number,
): number | undefined {
  const shown = progressShown.filter((p) => p.shownAt < untilShownAt);
  const first = shown[0];
  if (!first) return undefined;
  let area = 0;
  for (const [k, p] of shown.entries()) {
    const s = toClientTime(p.serverAt, clockOffsetMs);
    const end = shown[k + 1]?.shownAt ?? untilShownAt;
    area += ((end - s) ** 2 - (p.shownAt - s) ** 2) / 2;
  }
  return area / (untilShownAt - first.shownAt);
}
