import type { TaskEvent } from '@transport-lab/shared';

/**
 * Puts one task's events back in `seq` order: a lane may see an event twice (a re-subscribe replays
 * stored events that were also pushed live) or out of order (a replay racing live pushes). Events
 * already applied are dropped; an event ahead of a gap waits until the gap fills, then everything
 * contiguous is released at once, in order.
 */
export interface SeqOrderer {
  /** Offers one event; returns the events that may now be applied, in seq order (often none). */
  push(event: TaskEvent): TaskEvent[];
  /** Seq of the newest event released; 0 before any. Resume from here (`afterSeq`). */
  readonly lastSeq: number;
  /** How many events wait behind a gap. */
  readonly pending: number;
}

export function createSeqOrderer(afterSeq = 0): SeqOrderer {
  let lastSeq = afterSeq;
  const waiting = new Map<number, TaskEvent>();
  return {
    push(event) {
      if (event.seq <= lastSeq || waiting.has(event.seq)) return [];
      waiting.set(event.seq, event);
      const released: TaskEvent[] = [];
      for (let next = waiting.get(lastSeq + 1); next; next = waiting.get(lastSeq + 1)) {
        waiting.delete(next.seq);
        lastSeq = next.seq;
        released.push(next);
      }
      return released;
    },
    get lastSeq() {
      return lastSeq;
    },
    get pending() {
      return waiting.size;
    },
  };
}
