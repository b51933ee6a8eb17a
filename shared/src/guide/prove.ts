import { LANES, type LaneId } from '../protocol/lanes.ts';
import { PUSH, SOCKET, STREAMS } from './mechanisms.ts';
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
  /** A lane that waits then pushes: whether the answer came in the request or was pushed. */
  path?: 'answered' | 'pushed';
}

export interface ProofRace {
  /** The task raced: its duration, ms, and its steps. */
  durationMs: number;
  steps: number;
  /** The network it ran on, as the picker names it ("Slow 4G"). */
  network: string;
  /** How long a wait-then-push lane waited for the answer (`Prefer: wait=N`), ms. */
  waitMs?: number;
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

/** One connection for the whole task: a request or two, whatever the steps. */
const ONE_CONNECTION = [...STREAMS, ...SOCKET];

/** A task ending this close to the wait may go either way, ms: a round trip and the page's frame. */
const WAIT_MARGIN_MS = 500;

/** Steps closer than this, ms, a screen may show in one frame or two: no claim that most are shown. */
const DISTINCT_STEP_MS = 100;

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
      const { mechanism } = LANES[lane.lane];
      // A blocking call shows the answer at the end; a lane that waits shows its first thing at the end
      // or at its wait, whichever is sooner; the others a 202 or an acknowledgement a round trip after.
      const firstAtMs =
        mechanism === 'blocking'
          ? race.durationMs
          : mechanism === 'wait-then-push' && race.waitMs !== undefined
            ? Math.min(race.durationMs, race.waitMs)
            : undefined;
      const predicted = firstAtMs === undefined || firstAtMs <= within;
      const met = lane.firstFeedbackMs <= within;
      findings.push({
        claim: `${LANES[lane.lane].name} ${predicted ? 'shows' : 'cannot show'} something within ${ms(within)}${
          firstAtMs === undefined ? '' : ` (its first thing comes at ${ms(firstAtMs)}, plus the trip)`
        }.`,
        measured: `First feedback after ${ms(lane.firstFeedbackMs)}.`,
        agrees: predicted === met,
        lanes: [lane.lane],
      });
    }
  }

  // 3. Progress: a blocking call shows none (nor a quick path answered in the request), a push lane
  // shows most steps (a buffered stream shows one lump), polling skips the steps between its polls.
  // Steps closer than a screen can tell apart make no claim of "most".
  const stepMs = race.durationMs / race.steps;
  const answeredInTime = race.waitMs !== undefined && race.durationMs + WAIT_MARGIN_MS <= race.waitMs;
  if (answers.progressMatters && race.steps > 1) {
    const pushed = finished.filter((l) => PUSH.includes(l.lane));
    const mostPushed = Math.max(0, ...pushed.map((l) => l.progressUpdates));
    for (const lane of finished) {
      const { mechanism } = LANES[lane.lane];
      const name = LANES[lane.lane].name;
      const shown = lane.progressUpdates;
      const measured = `${shown} of ${race.steps} updates shown.`;
      if (mechanism === 'blocking' || (mechanism === 'wait-then-push' && answeredInTime)) {
        const why = mechanism === 'blocking' ? '' : ' (it answers this task within its wait)';
        findings.push({
          claim: `${name} shows no progress${why}.`,
          measured,
          agrees: shown === 0,
          lanes: [lane.lane],
        });
      } else if (PUSH.includes(lane.lane) && stepMs >= DISTINCT_STEP_MS) {
        findings.push({
          claim: `${name} shows the steps as they happen (at least half of ${race.steps}).`,
          measured,
          agrees: shown >= Math.ceil(race.steps / 2),
          lanes: [lane.lane],
        });
      } else if (mechanism === 'polling' && pushed.length > 0) {
        findings.push({
          claim: `${name} shows no more steps than the push lanes: it skips those between its polls.`,
          measured: `${measured} The push lanes showed at most ${mostPushed}.`,
          agrees: shown <= mostPushed,
          lanes: [lane.lane],
        });
      }
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

  // 5. The quick path: a lane that waits then pushes answers in the request when the task ends in time.
  const waitMs = race.waitMs;
  for (const lane of finished) {
    if (LANES[lane.lane].mechanism !== 'wait-then-push' || !lane.path || waitMs === undefined) continue;
    if (Math.abs(race.durationMs - waitMs) < WAIT_MARGIN_MS) continue;
    const predicted = race.durationMs < waitMs ? 'answered' : 'pushed';
    findings.push({
      claim:
        predicted === 'answered'
          ? `${LANES[lane.lane].name} answers a ${ms(race.durationMs)} task in the request itself (it waits ${ms(waitMs)}).`
          : `${LANES[lane.lane].name} hands a ${ms(race.durationMs)} task to its push lane after waiting ${ms(waitMs)}.`,
      measured: lane.path === 'answered' ? 'It answered in the request.' : 'It answered 202 and pushed.',
      agrees: lane.path === predicted,
      lanes: [lane.lane],
    });
  }

  // 6. Requests: a stream or a socket sends a couple, polling one per interval.
  const polling = finished.find((l) => LANES[l.lane].mechanism === 'polling');
  const streams = finished.filter((l) => ONE_CONNECTION.includes(l.lane));
  if (polling?.status === 'succeeded' && streams.length > 0) {
    const most = Math.max(...streams.map((l) => l.requests));
    findings.push({
      claim: `${LANES[polling.lane].name} sends at least as many requests as the streams and the socket (one or two each), and more as the task outlasts its interval.`,
      measured: `${LANES[polling.lane].name} ${polling.requests}; ${streams.map((l) => `${said(l.lane)} ${l.requests}`).join(', ')}.`,
      agrees: polling.requests >= most,
      lanes: [polling.lane, ...streams.map((l) => l.lane)],
    });
  }
  return findings;
}
