import { LANES, type LaneId, type LaneMechanism } from '../protocol/lanes.ts';
import type { GuideResult } from './rank.ts';

/**
 * "Prove it" (issue 15, item 4): the page races the lanes with the team's own numbers, and this compares
 * what it measured with what the ranking's rules of thumb said. Pure, so that each comparison is tested
 * without a browser; the figures are the ones the cards and the metrics table show.
 */

/** One lane's figures from the race, as the page measured them (ms, counts, bytes). */
export interface MeasuredLane {
  lane: LaneId;
  /** 'succeeded', 'failed', 'cancelled', 'error', … as the card ended. */
  status: string;
  firstFeedbackMs?: number;
  totalPerceivedMs?: number;
  /** Delay per update shown, mean, ms. */
  stalenessMeanMs?: number;
  progressUpdates: number;
  requests: number;
  bytesDown?: number;
  bytesUp?: number;
}

export interface ProofRace {
  /** The task raced: its duration, ms, and its steps. */
  durationMs: number;
  steps: number;
  /** The network it ran on, as the picker names it ("Slow 4G"). */
  network: string;
  lanes: MeasuredLane[];
}

export interface Finding {
  /** What the rule of thumb says. */
  claim: string;
  /** What the race measured, with its figures. */
  measured: string;
  agrees: boolean;
  lanes: LaneId[];
}

/** Mechanisms that show each step as it happens. */
const PUSH_MECHANISMS: LaneMechanism[] = ['held-poll', 'event-stream', 'fetch-stream', 'socket'];
/** One connection for the whole task: a request or two, whatever the steps. */
const STREAM_MECHANISMS: LaneMechanism[] = ['event-stream', 'fetch-stream', 'socket'];

/** Two times closer than this share a rank, ms or share: a page's frame and a clock's uncertainty. */
const SAME_TIME_MS = 50;
const SAME_TIME_SHARE = 0.1;

const ms = (n: number | undefined) =>
  n === undefined ? 'not measured' : `${Math.round(n).toLocaleString('en-US')} ms`;
const said = (id: LaneId) => LANES[id].said;

/**
 * Where the measurement agrees with the rules of thumb, and where it does not. Claims are made only for
 * what was raced: a lane not in the race, or a figure not measured, makes no finding.
 */
export function compareWithMeasurement(result: GuideResult, race: ProofRace): Finding[] {
  const { answers } = result;
  const findings: Finding[] = [];
  const raced = new Map(race.lanes.map((l) => [l.lane, l]));
  const fitOf = (id: LaneId) => result.ranked.find((r) => r.lane === id)?.fit ?? 'unsuitable';
  const finished = race.lanes.filter((l) => l.status === 'succeeded');

  // 1. Every lane the guide did not rule out finishes the task.
  for (const lane of race.lanes) {
    if (lane.status === 'succeeded') continue;
    const expectedToServe = fitOf(lane.lane) !== 'unsuitable';
    findings.push({
      claim: expectedToServe
        ? `${LANES[lane.lane].name} can carry this task to its end.`
        : `${LANES[lane.lane].name} is unsuitable for these answers.`,
      measured: `It ended ${lane.status}.`,
      agrees: !expectedToServe,
      lanes: [lane.lane],
    });
  }

  // 2. Something on screen within the time asked: a blocking call only at the end, the others at once.
  if (answers.feedbackWithinMs !== undefined) {
    const within = answers.feedbackWithinMs;
    for (const lane of finished) {
      if (lane.firstFeedbackMs === undefined) continue;
      const blocking = LANES[lane.lane].mechanism === 'blocking';
      const predicted = blocking ? race.durationMs <= within : true;
      const met = lane.firstFeedbackMs <= within;
      findings.push({
        claim: `${LANES[lane.lane].name} ${predicted ? 'shows' : 'cannot show'} something within ${ms(within)}${
          blocking ? ` (it shows the answer at the end of a ${ms(race.durationMs)} task)` : ''
        }.`,
        measured: `First feedback after ${ms(lane.firstFeedbackMs)}.`,
        agrees: predicted === met,
        lanes: [lane.lane],
      });
    }
  }

  // 3. Progress: a blocking call shows none, a push lane shows the steps.
  if (answers.progressMatters && race.steps > 1) {
    for (const lane of finished) {
      const { mechanism } = LANES[lane.lane];
      const predicted = mechanism === 'blocking' ? 'none' : 'some';
      const shown = lane.progressUpdates;
      const pushLane = PUSH_MECHANISMS.includes(mechanism);
      // A push lane should show most steps; a buffered stream shows one lump.
      const agrees =
        predicted === 'none' ? shown === 0 : pushLane ? shown >= Math.ceil(race.steps / 2) : shown > 0;
      findings.push({
        claim:
          predicted === 'none'
            ? `${LANES[lane.lane].name} shows no progress.`
            : pushLane
              ? `${LANES[lane.lane].name} shows the steps as they happen (at least half of ${race.steps}).`
              : `${LANES[lane.lane].name} shows some of the progress.`,
        measured: `${shown} of ${race.steps} updates shown.`,
        agrees,
        lanes: [lane.lane],
      });
    }
  }

  // 4. The ranking's order on the figure these answers weigh most.
  const figure = answers.progressMatters && race.steps > 1 ? 'stalenessMeanMs' : 'totalPerceivedMs';
  const figureName = figure === 'stalenessMeanMs' ? 'delay per update' : 'time to the result on screen';
  const withFigure = finished.filter((l) => l[figure] !== undefined);
  const pick = result.ranked.find((r) => withFigure.some((l) => l.lane === r.lane));
  if (pick && withFigure.length > 1) {
    const best = withFigure.reduce((x, y) => ((y[figure] as number) < (x[figure] as number) ? y : x));
    const pickValue = raced.get(pick.lane)?.[figure] as number;
    const bestValue = best[figure] as number;
    const close = pickValue - bestValue <= Math.max(SAME_TIME_MS, bestValue * SAME_TIME_SHARE);
    findings.push({
      claim: `Of the lanes raced, ${said(pick.lane)} ranks first: it should be best, or as good as best, on ${figureName}.`,
      measured: close
        ? `${LANES[pick.lane].name} ${ms(pickValue)}${best.lane === pick.lane ? ', the best' : `, ${LANES[best.lane].name} ${ms(bestValue)}: within a frame or 10 %`}.`
        : `${LANES[best.lane].name} was best with ${ms(bestValue)}; ${said(pick.lane)} took ${ms(pickValue)}.`,
      agrees: close,
      lanes: close ? [pick.lane] : [pick.lane, best.lane],
    });
  }

  // 5. Requests: a push lane sends a couple, short polling one per interval.
  const polling = finished.find((l) => LANES[l.lane].mechanism === 'polling');
  const streams = finished.filter((l) => STREAM_MECHANISMS.includes(LANES[l.lane].mechanism));
  if (polling?.status === 'succeeded' && streams.length > 0) {
    const most = Math.max(...streams.map((l) => l.requests));
    findings.push({
      claim: `${LANES[polling.lane].name} sends more requests than the streams and the socket, which send one or two.`,
      measured: `${LANES[polling.lane].name} ${polling.requests}; ${streams.map((l) => `${said(l.lane)} ${l.requests}`).join(', ')}.`,
      agrees: polling.requests > most,
      lanes: [polling.lane, ...streams.map((l) => l.lane)],
    });
  }
  return findings;
}
