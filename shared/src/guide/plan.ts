import { LANE_IDS, LANES, type LaneId } from '../protocol/lanes.ts';
import type { GuideAnswers } from './answers.ts';
import { seconds } from './format.ts';
import { BLOCKING, CALLBACK, WAIT_PUSH } from './mechanisms.ts';
import type { GuidePlan, LaneAssessment } from './rank.ts';

/** The lane's strongest reason for: what a summary says of it. */
function strongest(assessment: LaneAssessment): string {
  const pros = assessment.reasons.filter((r) => r.weight > 0).sort((x, y) => y.weight - x.weight);
  return pros[0]?.text ?? LANES[assessment.lane].summary;
}

/** One lane, or a combination when the answers are mixed (quick and slow cases; people and servers). */
export function planFor(
  a: GuideAnswers,
  ranked: LaneAssessment[],
  { mixed, hasPeople }: { mixed: boolean; hasPeople: boolean },
): GuidePlan {
  const best = ranked[0];
  if (!best || best.fit === 'unsuitable') {
    return {
      kind: 'none',
      parts: [],
      summary:
        'No lane serves these answers as they stand: two of them contradict each other (read each lane’s reasons) — change what sits between, or where the outcome is received.',
    };
  }
  /** The best-ranked lane of a mechanism that can serve, if any. */
  const bestOf = (lanes: readonly LaneId[]) =>
    ranked.find((r) => lanes.includes(r.lane) && r.fit !== 'unsuitable');
  const blocking = bestOf(BLOCKING);
  const callback = bestOf(CALLBACK);
  const waitThenPush = bestOf(WAIT_PUSH);
  const bestForPeople = bestOf(LANE_IDS.filter((id) => !CALLBACK.includes(id) && !BLOCKING.includes(id)));
  const serverToo = a.consumers.includes('server');
  if (mixed && serverToo && callback && blocking) {
    return {
      kind: 'combination',
      parts: [
        { lane: blocking.lane, role: 'the quick cases: answer in the request when done within the wait' },
        { lane: callback.lane, role: 'the slow cases: 202 at once, then a signed webhook when done' },
      ],
      summary: `A quick blocking path and a webhook for the slow one: typically ${seconds(a.typicalMs)}, the answer comes in the request; past that (up to ${seconds(a.worstMs)}), the server answers 202 and calls back.`,
    };
  }
  // The hybrid, when it ranks among the first three: the quick cases in one request, the rest pushed.
  if (mixed && hasPeople && waitThenPush && ranked.indexOf(waitThenPush) < 3) {
    return {
      kind: 'single',
      parts: [{ lane: waitThenPush.lane, role: 'quick cases answered in the request, slow ones pushed' }],
      summary: `${LANES[waitThenPush.lane].name}: Prefer: respond-async, wait=N with N a little above the typical ${seconds(a.typicalMs)}; the slow cases (up to ${seconds(a.worstMs)}) continue on a push lane.`,
    };
  }
  if (hasPeople && serverToo && !a.offlineForHours && callback && bestForPeople) {
    return {
      kind: 'combination',
      parts: [
        { lane: bestForPeople.lane, role: 'the people: browser and app screens' },
        { lane: callback.lane, role: 'the servers: signed callbacks' },
      ],
      summary: `Two audiences, two lanes: ${LANES[bestForPeople.lane].said} for the screens, webhooks for the servers.`,
    };
  }
  return {
    kind: 'single',
    parts: [{ lane: best.lane, role: 'every case' }],
    summary: `${LANES[best.lane].name}: ${strongest(best)}`,
  };
}
