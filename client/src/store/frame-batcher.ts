/** Runs a callback once before the next paint. */
export type FrameScheduler = (callback: () => void) => void;

export const animationFrame: FrameScheduler = (callback) => {
  requestAnimationFrame(() => callback());
};

/**
 * Collects items and hands them over at most once per animation frame, so that a burst of progress
 * events costs one state update and one render, not one each. Items keep their order.
 */
export function createFrameBatcher<T>(schedule: FrameScheduler, flush: (items: T[]) => void) {
  let queue: T[] = [];
  let scheduled = false;
  return {
    push(item: T) {
      queue.push(item);
      if (scheduled) return;
      scheduled = true;
      schedule(() => {
        scheduled = false;
        const items = queue;
        queue = [];
        flush(items);
      });
    },
  };
}
