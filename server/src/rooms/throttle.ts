/**
 * At most one run per `intervalMs`, with a trailing run: a request inside the interval is not lost
 * but runs when the interval ends, so the last request is always reflected. `flush` runs at once
 * (the race is complete: the presenter should not wait). Timers are unref'd: a pending emission
 * never keeps the process alive.
 */
export class Throttle {
  private lastRunAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly run: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  request(): void {
    if (this.timer) return; // a trailing run is already due and will see this request's state
    this.runWhenDue();
  }

  flush(): void {
    this.runNow();
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs now if the interval has passed, else sets the trailing run. A timer may fire early by
   *  `now()`'s reckoning (libuv starts it from the loop turn's cached time), so a trailing run looks
   *  again rather than trust it: runs stay at least `intervalMs` apart. */
  private runWhenDue(): void {
    const wait = this.lastRunAt + this.intervalMs - this.now();
    if (wait <= 0) {
      this.runNow();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runWhenDue();
    }, wait);
    this.timer.unref();
  }

  private runNow(): void {
    this.cancel();
    this.lastRunAt = this.now();
    this.run();
  }
}
