/**
 * A fixed number of workers and the tasks waiting for one, first in, first out (issue 15). A task
 * holds its worker from its `started` event until it settles (its end stored and published); one
 * that finds every worker busy waits in the queue and starts when a worker frees.
 *
 * The engine has one for the whole process (`WORKERS`); a run may have one of its own for its tasks
 * (the busy-backend fault, `faults/`), so that a scenario's four busy workers keep no one else's task
 * waiting. The pool knows task ids only: no lane, no store.
 */
export class WorkerPool {
  private readonly busy = new Set<string>();
  /** Ids waiting, oldest first. An array: a queue is short in a normal race (empty) and bounded by
   *  MAX_QUEUED_TASKS; a place is looked up by a poll of a queued task only. */
  private readonly waiting: string[] = [];

  constructor(readonly workers: number) {}

  /**
   * A new task asks for a worker: it takes one when one is free (undefined), else it joins the end of
   * the queue and its place is returned (1 = next to start).
   */
  enter(id: string): number | undefined {
    if (this.busy.size < this.workers) {
      this.busy.add(id);
      return undefined;
    }
    this.waiting.push(id);
    return this.waiting.length;
  }

  /** A task that was running before a restart takes its worker back, even past `workers` (its work
   *  had begun: it is not made to wait behind tasks that had not). */
  resumeRunning(id: string): void {
    this.busy.add(id);
  }

  /**
   * The task settled (or left the queue, cancelled): its worker, or its place, is freed. Returns the
   * ids that take the freed workers now, oldest first: the caller starts them.
   */
  leave(id: string): string[] {
    if (!this.busy.delete(id)) {
      const at = this.waiting.indexOf(id);
      if (at !== -1) this.waiting.splice(at, 1);
      return [];
    }
    const next: string[] = [];
    while (this.busy.size < this.workers && this.waiting.length > 0) {
      const id = this.waiting.shift() as string;
      this.busy.add(id);
      next.push(id);
    }
    return next;
  }

  /** Its place in the queue, 1 = next; undefined when it is not waiting. */
  position(id: string): number | undefined {
    const at = this.waiting.indexOf(id);
    return at === -1 ? undefined : at + 1;
  }

  get queued(): number {
    return this.waiting.length;
  }

  get running(): number {
    return this.busy.size;
  }
}
