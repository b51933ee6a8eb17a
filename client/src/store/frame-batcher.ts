/** Runs a callback once before the next paint. */
export type FrameScheduler = (callback: () => void) => void;

export const animationFrame: FrameScheduler = (callback) => {
  requestAnimationFrame(() => callback());
};

/**
 * The fair start's frame: one `requestAnimationFrame` callback, handed that frame's timestamp on the
 * page clock (epoch ms, like `clientNow()`). A hidden page gets no frames, so it starts at once.
 */
export function startOnAnimationFrame(callback: (frameAt: number) => void): void {
  if (typeof document !== 'undefined' && document.hidden) {
    callback(performance.timeOrigin + performance.now());
    return;
  }
  requestAnimationFrame((timestamp) => callback(performance.timeOrigin + timestamp));
}

/**
 * Collects items and hands them over at most once per animation frame, so that a burst of progress
 * events costs one state update and one render, not one each. Items keep their order.
 */
export function createFrameBatcher<T>(schedule: FrameScheduler, flush: (items: T[]) => void) {
  let queue: T[] = [];
  let scheduled = false;
  const wake = () => {
    if (scheduled) return;
    scheduled = true;
    schedule(() => {
      scheduled = false;
      const items = queue;
      queue = [];
      flush(items);
    });
  };
  return {
    push(item: T) {
      queue.push(item);
      wake();
    },
    /** Asks for a flush in the next frame even if nothing more comes. */
    wake,
  };
}
