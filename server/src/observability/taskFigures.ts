import type { IncomingMessage } from 'node:http';
import type { TaskEvent } from '@transport-lab/shared';
import { SERVER_VIEW_QUANTILES, type ServerViewLaneKey } from '@transport-lab/shared/server-view';
import { tagOf } from './wireLedger.ts';

/** Each lane's latest tasks kept for its percentiles: enough for a hall's races, bounded memory
 *  (2 numbers × 1 000 × 9 lanes). */
export const TASK_FIGURES_WINDOW = 1_000;

/** Tags of tasks being created kept at most (a create that failed leaves one behind). */
const MAX_TAGGED = 10_000;

type Outcome = 'succeeded' | 'failed' | 'cancelled';

/** A bounded list of the latest durations, ms: oldest overwritten first. */
class Window {
  private readonly values: number[] = [];
  private next = 0;
  constructor(private readonly size: number) {}
  push(value: number): void {
    if (this.values.length < this.size) this.values.push(value);
    else this.values[this.next] = value;
    this.next = (this.next + 1) % this.size;
  }
  /** Nearest-rank quantiles (every one a measured value, none interpolated), sorted once per call. */
  quantiles(qs: readonly number[]): Array<{ q: number; value: number }> {
    if (this.values.length === 0) return [];
    const sorted = [...this.values].sort((a, b) => a - b);
    return qs.map((q) => ({ q, value: sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0 }));
  }
  get count(): number {
    return this.values.length;
  }
}

interface LaneFigures {
  ended: Record<Outcome, number>;
  queueMs: Window;
  latencyMs: Window;
}

/**
 * What the server knows of its own tasks per lane, for `/metrics` and the server's view: how many
 * ended and how, and each lane's queue time (accepted → started) and end to end (accepted → ended)
 * over its latest tasks. Work is done at a task's creation, start and end only (a `progress` event is
 * one comparison); percentiles are computed when a scrape asks for them.
 */
export function createTaskFigures(window = TASK_FIGURES_WINDOW) {
  /** Tasks accepted here and not yet ended: their lane and when they were accepted (server ms). */
  const live = new Map<string, { lane: ServerViewLaneKey; acceptedAt: number; started: boolean }>();
  /** The lane tag of a task being created, read from its request before its `queued` event. */
  const tagged = new Map<string, ServerViewLaneKey>();
  const lanes = new Map<ServerViewLaneKey, LaneFigures>();
  const figuresOf = (lane: ServerViewLaneKey): LaneFigures => {
    let figures = lanes.get(lane);
    if (!figures) {
      figures = {
        ended: { succeeded: 0, failed: 0, cancelled: 0 },
        queueMs: new Window(window),
        latencyMs: new Window(window),
      };
      lanes.set(lane, figures);
    }
    return figures;
  };

  return {
    /** Called as a lane creates a task (beside the wire ledger's tagTask): its lane, from its tag. */
    tagTask(taskId: string, req: IncomingMessage): void {
      tagged.set(taskId, tagOf(req)?.lane ?? 'other');
      // A create that failed before its `queued` event leaves its tag: the oldest go first.
      if (tagged.size > MAX_TAGGED) tagged.delete(tagged.keys().next().value as string);
    },

    /** Every event of this process's tasks; only `queued`, `started` and the end do any work. */
    observe(event: TaskEvent): void {
      switch (event.type) {
        case 'progress':
          return;
        case 'queued': {
          const lane = tagged.get(event.taskId) ?? 'other';
          tagged.delete(event.taskId);
          live.set(event.taskId, { lane, acceptedAt: event.at, started: false });
          return;
        }
        case 'started': {
          const task = live.get(event.taskId);
          if (!task || task.started) return;
          task.started = true;
          figuresOf(task.lane).queueMs.push(Math.max(0, event.at - task.acceptedAt));
          return;
        }
        default: {
          // succeeded, failed, cancelled. A task resumed after a restart was not accepted here: it is
          // counted under `other`, with no durations (its acceptance is the previous process's).
          const task = live.get(event.taskId);
          live.delete(event.taskId);
          tagged.delete(event.taskId);
          const figures = figuresOf(task?.lane ?? 'other');
          figures.ended[event.type] += 1;
          if (task) figures.latencyMs.push(Math.max(0, event.at - task.acceptedAt));
        }
      }
    },

    /** Accepted and not yet started. */
    queuedCount(): number {
      let queued = 0;
      for (const task of live.values()) if (!task.started) queued++;
      return queued;
    },

    /** Per lane: the ended counts, and the quantiles (SERVER_VIEW_QUANTILES) of each duration. */
    snapshot() {
      return [...lanes].map(([lane, figures]) => ({
        lane,
        ended: { ...figures.ended },
        queueMs: figures.queueMs.quantiles(SERVER_VIEW_QUANTILES),
        latencyMs: figures.latencyMs.quantiles(SERVER_VIEW_QUANTILES),
        queueCount: figures.queueMs.count,
        latencyCount: figures.latencyMs.count,
      }));
    },

    window,
  };
}

export type TaskFigures = ReturnType<typeof createTaskFigures>;
