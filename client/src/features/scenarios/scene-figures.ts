import { type LaneId, toClientTime } from '@transport-lab/shared';
import type { LaneLog, RaceLog } from '../../store/race-log.ts';
import { hiddenSpans, type VisibilityChange } from './visibility.ts';

/**
 * The figures the production scenes (`scenes.ts`) read from the race's own timeline log, beyond a
 * lane's card: when a dead socket was noticed, and what each lane did while the page was hidden. All
 * times are ms after the race's action, on the page's clock.
 */

/** A socket whose network path died (the blackhole-connections fault) and the heartbeat that noticed. */
export interface DeadSocketFigures {
  /** When the path died: the fault's server time on the page's clock (or, without a clock offset,
   *  when the page heard the fault was applied). */
  deadFromMs?: number;
  /** The lane's first "Connection lost" after that: when a heartbeat noticed, and socket.io's reason. */
  noticedAtMs?: number;
  reason?: string;
  /** Frames the page received on the socket between the death (`IN_FLIGHT_MS` after) and the notice. */
  framesDownWhileDead: number;
  /** The lane's next connection after the notice. */
  reconnectedAtMs?: number;
}

/** What one lane did while the page was hidden (the background-tab scene). */
export interface HiddenLaneFigures {
  /** Gaps between the lane's successive requests sent while the page was hidden, ms. */
  gapsHiddenMs: number[];
  /** The same while it was visible, before it was hidden. */
  gapsVisibleMs: number[];
  /** Task events the page received while hidden. */
  receivedHidden: number;
  /** Of all the updates it received (events or states), those applied (put on screen) while hidden. */
  shownHidden: number;
  /** The first update applied once the page was visible again, of those received while hidden. */
  firstShownAfterMs?: number;
}

export interface HiddenFigures {
  /** The longest span the page was hidden during the race. */
  hiddenFromMs?: number;
  hiddenToMs?: number;
  lanes: Partial<Record<LaneId, HiddenLaneFigures>>;
}

export interface SceneFigures {
  deadSocket?: DeadSocketFigures;
  hidden?: HiddenFigures;
}

/** Frames arriving this soon after the death were on their way before it (loopback, or the clock
 *  offset's error: a frame sent in the same millisecond as the fault arrived 0.4 ms after it), ms. */
export const IN_FLIGHT_MS = 100;

/** What a lost connection's link line starts with (the websocket lane's "Connection lost (ping timeout), …"). */
const LOST = 'Connection lost (';

export function deadSocketFigures(
  log: RaceLog,
  lane: LaneId,
  offsetMs: number | undefined,
): DeadSocketFigures {
  const action = log.actionAt ?? 0;
  const fault = log.faults.find(
    ({ record }) => record.fault.kind === 'blackhole-connections' && record.fault.lane === lane,
  );
  const deadFrom =
    fault === undefined
      ? undefined
      : offsetMs === undefined
        ? fault.receivedAt
        : toClientTime(fault.record.at, offsetMs);
  const laneLog: LaneLog | undefined = log.lanes[lane];
  const lost = laneLog?.links?.find(
    (l) => deadFrom !== undefined && l.at >= deadFrom && l.detail.startsWith(LOST),
  );
  const back = laneLog?.links?.find(
    (l) => lost !== undefined && l.at > lost.at && l.detail.startsWith('Reconnected'),
  );
  // A frame written just before the fault may land a moment after the fault's time on the page's clock
  // (it was on its way; the clock offset has an error of its own): counted only past IN_FLIGHT_MS.
  const dead =
    deadFrom === undefined
      ? []
      : (laneLog?.frames ?? []).filter(
          (f) =>
            f.direction === 'down' &&
            f.at > deadFrom + IN_FLIGHT_MS &&
            f.at < (lost?.at ?? Number.POSITIVE_INFINITY),
        );
  const framesDownWhileDead = dead.length;
  return {
    ...(deadFrom !== undefined ? { deadFromMs: deadFrom - action } : {}),
    ...(lost ? { noticedAtMs: lost.at - action, reason: lost.detail.slice(LOST.length).split(')')[0] } : {}),
    framesDownWhileDead,
    ...(back ? { reconnectedAtMs: back.at - action } : {}),
  };
}

const gaps = (times: number[]) => times.slice(1).map((t, k) => t - (times[k] ?? t));

export function hiddenFigures(
  log: RaceLog,
  lanes: readonly LaneId[],
  visibility: readonly VisibilityChange[],
  endAt: number,
): HiddenFigures {
  const action = log.actionAt ?? 0;
  const spans = hiddenSpans(visibility, action, endAt);
  const longest = spans.reduce<{ from: number; to: number } | undefined>(
    (best, s) => (best === undefined || s.to - s.from > best.to - best.from ? s : best),
    undefined,
  );
  const figures: HiddenFigures = { lanes: {} };
  if (!longest) return figures;
  figures.hiddenFromMs = longest.from - action;
  figures.hiddenToMs = longest.to - action;
  const inHidden = (t: number) => t >= longest.from && t < longest.to;
  for (const lane of lanes) {
    const laneLog = log.lanes[lane];
    if (!laneLog) continue;
    const sent = laneLog.exchanges.map((e) => e.sentAt);
    const hiddenSent = sent.filter(inHidden);
    const visibleSent = sent.filter((t) => t < longest.from);
    const receivedHidden = laneLog.updates.filter((u) => inHidden(u.receivedAt));
    const after = receivedHidden.map((u) => u.shownAt).filter((t) => t >= longest.to);
    figures.lanes[lane] = {
      gapsHiddenMs: gaps(hiddenSent),
      gapsVisibleMs: gaps(visibleSent),
      receivedHidden: receivedHidden.filter((u) => u.event !== undefined).length,
      shownHidden: laneLog.updates.filter((u) => inHidden(u.shownAt)).length,
      ...(after.length > 0 ? { firstShownAfterMs: Math.min(...after) - action } : {}),
    };
  }
  return figures;
}
