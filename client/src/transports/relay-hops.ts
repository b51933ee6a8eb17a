import { toClientTime } from '@transport-lab/shared';
import type { RelayHop } from './types.ts';

/*
 * A relayed webhook event's hops (the webhook lane reports a `relay` per event): what the cards and
 * the details show of them. Here, not in the lane's folder, because the page reads them and no
 * feature imports a lane.
 */

/** One relayed event's way to the page, cut at the receiver, ms. */
export interface HopTimes {
  /** The event happened → your backend accepted its delivery (server and receiver share a clock). */
  deliveryMs: number;
  /** Accepted → relayed to the page: time it waited at your backend (until the page's stream was there). */
  heldMs: number;
  /** Relayed → shown on this page; needs the clock offset, undefined without it. */
  relayMs?: number;
}

export function hopTimes(hop: RelayHop & { shownAt: number }, clockOffsetMs: number | undefined): HopTimes {
  const times: HopTimes = {
    deliveryMs: hop.receivedAt - hop.eventAt,
    heldMs: hop.relayedAt - hop.receivedAt,
  };
  if (clockOffsetMs !== undefined) times.relayMs = hop.shownAt - toClientTime(hop.relayedAt, clockOffsetMs);
  return times;
}

export interface HopStat {
  meanMs: number;
  maxMs: number;
  count: number;
}

export interface HopSummary {
  delivery: HopStat;
  held: HopStat;
  /** Undefined while the clock offset is unknown. */
  relay?: HopStat;
}

function stat(values: readonly number[]): HopStat {
  let sum = 0;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    sum += value;
    if (value > max) max = value;
  }
  return { meanMs: sum / values.length, maxMs: max, count: values.length };
}

/** Mean and max of each hop over a run's relayed events; undefined before the first. */
export function summarizeHops(
  hops: ReadonlyArray<RelayHop & { shownAt: number }> | undefined,
  clockOffsetMs: number | undefined,
): HopSummary | undefined {
  if (!hops || hops.length === 0) return undefined;
  const times = hops.map((hop) => hopTimes(hop, clockOffsetMs));
  const summary: HopSummary = {
    delivery: stat(times.map((t) => t.deliveryMs)),
    held: stat(times.map((t) => t.heldMs)),
  };
  if (clockOffsetMs !== undefined) summary.relay = stat(times.map((t) => t.relayMs ?? 0));
  return summary;
}
