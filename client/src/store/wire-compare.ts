import type { WireCounts as ServerWireCounts } from '@transport-lab/shared';
import type { WireCounts } from '../transports/wire.ts';

/** Counts further apart than this share of the server's are flagged: "a difference is a bug". */
export const WIRE_TOLERANCE = 0.02;

export const WIRE_FIGURES = ['requests', 'bytesUp', 'bytesDown'] as const;
export type WireFigure = (typeof WIRE_FIGURES)[number];

export interface WireComparison {
  page?: number;
  server?: number;
  /** page − server. */
  diff?: number;
  /** |diff| / server (0 when both are 0). */
  relative?: number;
  /** The page marked its own count "at least": some exchange of the lane was not measured. */
  pageLowerBound: boolean;
  /** Further apart than `WIRE_TOLERANCE`, or one side has no figure. */
  flagged: boolean;
  /** Which side misses what, in words. */
  verdict: string;
}

/**
 * What the server counted of the page's own traffic for one lane: the page ↔ app traffic (top level)
 * plus the receiver's relay stream to the page (the webhook lane's). The server → receiver deliveries
 * never pass through the page and are left out, as the page leaves them out.
 */
export function serverPageCounts(
  counts: ServerWireCounts | undefined,
): { requests: number; bytesUp: number; bytesDown: number } | undefined {
  if (!counts) return undefined;
  return {
    requests: counts.requests + counts.receiverToPage.requests,
    bytesUp: counts.bytesUp + counts.receiverToPage.bytesUp,
    bytesDown: counts.bytesDown + counts.receiverToPage.bytesDown,
  };
}

const UNITS: Record<WireFigure, (n: number) => string> = {
  requests: (n) => `${n} ${n === 1 ? 'request' : 'requests'}`,
  bytesUp: (n) => `${n} B up`,
  bytesDown: (n) => `${n} B down`,
};

function pageFigure(page: WireCounts, figure: WireFigure): { value?: number; lowerBound: boolean } {
  switch (figure) {
    case 'requests':
      return { value: page.requests, lowerBound: false };
    case 'bytesUp':
      return { value: page.bytesUp, lowerBound: (page.unmeasuredUp ?? 0) > 0 };
    case 'bytesDown':
      return { value: page.bytesDown, lowerBound: (page.unmeasuredDown ?? 0) > 0 };
  }
}

/** One figure of one lane, the page's count against the server's. */
export function compareFigure(
  figure: WireFigure,
  page: WireCounts,
  server: ServerWireCounts | undefined,
): WireComparison {
  const { value: pageValue, lowerBound } = pageFigure(page, figure);
  const serverValue = serverPageCounts(server)?.[figure];
  const unit = UNITS[figure];
  const base = { pageLowerBound: lowerBound };
  if (serverValue === undefined) {
    const nothing = pageValue === undefined || pageValue === 0;
    return {
      ...base,
      ...(pageValue !== undefined ? { page: pageValue } : {}),
      flagged: !nothing,
      verdict: nothing ? 'neither side counted any' : 'the server counted nothing for this lane',
    };
  }
  if (pageValue === undefined) {
    return {
      ...base,
      server: serverValue,
      flagged: serverValue > 0,
      verdict: serverValue > 0 ? `the page measured none of the server’s ${unit(serverValue)}` : 'agree',
    };
  }
  const diff = pageValue - serverValue;
  const relative =
    serverValue === 0 ? (diff === 0 ? 0 : Number.POSITIVE_INFINITY) : Math.abs(diff) / serverValue;
  const flagged = relative > WIRE_TOLERANCE;
  let verdict: string;
  if (diff === 0) verdict = 'agree';
  else if (!flagged) verdict = `within ${WIRE_TOLERANCE * 100} %`;
  else if (diff < 0 && lowerBound) {
    verdict = `the page misses ${unit(-diff)} it could not measure (its count reads “at least”)`;
  } else if (diff < 0) verdict = `the page missed ${unit(-diff)}: a bug in the page’s count`;
  else verdict = `the server missed ${unit(diff)} the page counted: a bug on one side`;
  return { ...base, page: pageValue, server: serverValue, diff, relative, flagged, verdict };
}

export function compareLane(
  page: WireCounts,
  server: ServerWireCounts | undefined,
): Record<WireFigure, WireComparison> {
  return {
    requests: compareFigure('requests', page, server),
    bytesUp: compareFigure('bytesUp', page, server),
    bytesDown: compareFigure('bytesDown', page, server),
  };
}
