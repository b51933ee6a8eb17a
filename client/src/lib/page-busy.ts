import type { PageBusy } from '@transport-lab/shared';

/**
 * Watches the page's own main thread: every long animation frame (Chromium's Long Animation Frames
 * API, `long-animation-frame`; where it is missing, `longtask`), kept with its time on the page clock,
 * so that a race can say how busy the page itself was while it ran. A frame counts as long from 50 ms,
 * the API's own threshold.
 */
export interface PageBusyMonitor {
  /** The long frames that overlapped [fromMs, toMs] (client epoch ms). */
  between(fromMs: number, toMs: number): PageBusy;
}

/** Long frames kept, newest last: a race of 120 s at one long frame per 100 ms fits. */
const KEPT_FRAMES = 1_200;
const LONG_FRAME_MS = 50;

interface Frame {
  startAt: number;
  durationMs: number;
}

export function summarizeFrames(frames: readonly Frame[], fromMs: number, toMs: number): PageBusy {
  let longestFrameMs = 0;
  let longFrames = 0;
  let blockingMs = 0;
  for (const frame of frames) {
    if (frame.startAt > toMs || frame.startAt + frame.durationMs < fromMs) continue;
    longFrames += 1;
    longestFrameMs = Math.max(longestFrameMs, frame.durationMs);
    blockingMs += Math.max(0, frame.durationMs - LONG_FRAME_MS);
  }
  return { longestFrameMs, longFrames, blockingMs };
}

export function createPageBusyMonitor(): PageBusyMonitor | undefined {
  if (typeof PerformanceObserver === 'undefined') return undefined;
  const supported = PerformanceObserver.supportedEntryTypes ?? [];
  const type = supported.includes('long-animation-frame')
    ? 'long-animation-frame'
    : supported.includes('longtask')
      ? 'longtask'
      : undefined;
  if (!type) return undefined;
  const frames: Frame[] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      frames.push({ startAt: performance.timeOrigin + entry.startTime, durationMs: entry.duration });
    }
    if (frames.length > KEPT_FRAMES) frames.splice(0, frames.length - KEPT_FRAMES);
  }).observe({ type, buffered: true });
  return { between: (fromMs, toMs) => summarizeFrames(frames, fromMs, toMs) };
}
