/**
 * NTP-style clock offset estimation (RFC 5905 §8, on-wire protocol).
 * t0: client sends, t1: server receives, t2: server sends, t3: client receives; all epoch ms.
 * offset = server clock − client clock. The sample with the smallest round trip wins, because
 * its one-way delays are the least able to be asymmetric; the true offset lies within ±rtt/2.
 */
export interface ClockSample {
  t0: number;
  t1: number;
  t2: number;
  t3: number;
}

export interface ClockEstimate {
  /** Server clock minus client clock, ms. Add it to a client time to get server time. */
  offsetMs: number;
  /** Half the winning sample's round trip, ms: the true offset is within offsetMs ± this. */
  uncertaintyMs: number;
  /** Round trip of the winning sample, ms, server processing excluded. */
  rttMs: number;
  samples: number;
}

export function sampleOffset(s: ClockSample): { offsetMs: number; rttMs: number } {
  return {
    offsetMs: (s.t1 - s.t0 + (s.t2 - s.t3)) / 2,
    rttMs: Math.max(0, s.t3 - s.t0 - (s.t2 - s.t1)),
  };
}

export function estimateClockOffset(samples: readonly ClockSample[]): ClockEstimate {
  if (samples.length === 0) throw new Error('estimateClockOffset needs at least one sample');
  let best: { offsetMs: number; rttMs: number } | undefined;
  for (const sample of samples) {
    const candidate = sampleOffset(sample);
    if (!best || candidate.rttMs < best.rttMs) best = candidate;
  }
  // `best` is set: samples is non-empty.
  const winner = best as { offsetMs: number; rttMs: number };
  return {
    offsetMs: winner.offsetMs,
    uncertaintyMs: winner.rttMs / 2,
    rttMs: winner.rttMs,
    samples: samples.length,
  };
}

/** A server timestamp expressed on the client's clock. */
export function toClientTime(serverAt: number, offsetMs: number): number {
  return serverAt - offsetMs;
}
