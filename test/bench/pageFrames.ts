// The page's smoothness during a race (issue 4: "no frame over 50 ms with seven lanes at 20 events per
// second"): the real page in Debian's Chromium, a real server, every lane at once on a task of
// `steps` steps over `durationMs` (100 over 5 000 ms is 20 events per second per lane).
//
// A frame's length is the time between two `requestAnimationFrame` callbacks, as the page's own main
// thread paces them; Chromium's Long Animation Frame entries (LoAF, over 50 ms by definition) are kept
// beside them with the script that ran longest. The baseline, measured in the same run on the same
// page, is the page idle for as long as one race: what this machine gives an untouched page.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { chromium } from '@playwright/test';
import { LANE_IDS } from '@transport-lab/shared';
import { chromiumLaunchOptions } from '../fixtures/chromium.ts';
import { RacePage } from '../fixtures/racePage.ts';
import { clientDist, repoRoot, startServer } from '../fixtures/server.ts';

export interface PageFramesOptions {
  races: number;
  durationMs: number;
  steps: number;
}

export interface FrameStats {
  frames: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Frames longer than 50 ms: the limit. */
  over50: number;
  /** Long Animation Frame entries, and the longest one's longest script. */
  longAnimationFrames: number;
  worstScript?: string;
}

export interface PageFramesResult {
  settings: PageFramesOptions & { lanes: number; eventsPerSecond: number };
  idle: FrameStats;
  race: FrameStats;
  /** Each race's own frames, to show the spread. */
  perRace: FrameStats[];
}

interface Recorded {
  frames: number[];
  loafs: Array<{ duration: number; script?: string }>;
}

/** Starts recording frame lengths and LoAF entries in the page; `collect` hands them over and resets. */
// A string, not a function: tsx compiles functions with a `__name` helper the page does not have.
const RECORDER = `(() => {
  const fresh = () => ({ frames: [], loafs: [] });
  window.__rec = fresh();
  let last = 0;
  function tick(at) {
    if (last > 0) window.__rec.frames.push(at - last);
    last = at;
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const worst = [...(entry.scripts || [])].sort((a, b) => b.duration - a.duration)[0];
        window.__rec.loafs.push({
          duration: entry.duration,
          script: worst ? (worst.invoker || '?') + ' ' + (worst.sourceFunctionName || '') + ' ' + Math.round(worst.duration) + ' ms' : undefined,
        });
      }
    }).observe({ type: 'long-animation-frame', buffered: false });
  } catch {
    // No LoAF in this Chromium: the rAF frame lengths still stand.
  }
  window.__collect = () => {
    const out = window.__rec;
    window.__rec = fresh();
    return out;
  };
})()`;

/** Starts recording frame lengths and LoAF entries in the page; `collect` hands them over and resets. */
async function installRecorder(page: Page): Promise<void> {
  await page.evaluate(RECORDER);
}

function collect(page: Page): Promise<Recorded> {
  return page.evaluate('window.__collect()') as Promise<Recorded>;
}

function stats(recorded: Recorded[]): FrameStats {
  const frames = recorded.flatMap((r) => r.frames).sort((a, b) => a - b);
  const loafs = recorded.flatMap((r) => r.loafs).sort((a, b) => b.duration - a.duration);
  const at = (p: number) =>
    frames[Math.min(frames.length - 1, Math.max(0, Math.ceil(p * frames.length) - 1))] ?? Number.NaN;
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    frames: frames.length,
    p50Ms: round(at(0.5)),
    p99Ms: round(at(0.99)),
    maxMs: round(frames.at(-1) ?? Number.NaN),
    over50: frames.filter((f) => f > 50).length,
    longAnimationFrames: loafs.length,
    ...(loafs[0]?.script ? { worstScript: loafs[0].script } : {}),
  };
}

/** The page is served from client/dist: built here when missing, as `npm start` would. */
export function ensureClientBuilt(log: (line: string) => void): void {
  if (existsSync(join(clientDist, 'index.html'))) return;
  log('frames: client/dist is missing, building the client');
  const built = spawnSync(
    process.execPath,
    ['scripts/run-pnpm.mjs', '--filter', '@transport-lab/client', 'run', 'build'],
    {
      cwd: repoRoot,
      stdio: 'inherit',
    },
  );
  if (built.status !== 0) throw new Error('the client build failed');
}

/**
 * The race page in Chromium against a real server, every lane selected for `spec`, for the benches
 * that drive the page; `close` ends both. The page bypasses its CSP: the benches' probes are strings
 * evaluated in the page, which the page's own policy refuses.
 */
export async function openRacePage(
  spec: { durationMs: number; steps: number },
  log: (line: string) => void,
): Promise<{ race: RacePage; page: Page; close(): Promise<void> }> {
  ensureClientBuilt(log);
  const server = await startServer();
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch(chromiumLaunchOptions);
    const page = await browser.newPage({
      viewport: { width: 1280, height: 800 },
      baseURL: server.url,
      bypassCSP: true,
    });
    const race = new RacePage(page);
    await race.goto();
    await race.configure({ durationMs: spec.durationMs, steps: spec.steps, lanes: LANE_IDS });
    const opened = browser;
    return {
      race,
      page,
      async close() {
        await opened.close();
        await server.close();
      },
    };
  } catch (error) {
    await browser?.close();
    await server.close();
    throw error;
  }
}

export async function measurePageFrames(
  options: PageFramesOptions,
  log: (line: string) => void = console.log,
): Promise<PageFramesResult> {
  const opened = await openRacePage(options, log);
  try {
    const { race, page } = opened;
    await installRecorder(page);

    // One race first, not counted: the page's code is compiled and its caches warm.
    const runOne = async () => {
      await race.startButton.click();
      const statuses = `[...document.querySelectorAll('[data-testid^="lane-card-"]')].map((c) => c.getAttribute('data-status'))`;
      await page.waitForFunction(`${statuses}.includes('running')`, undefined, { timeout: 10_000 });
      await page.waitForFunction(`!${statuses}.includes('running')`, undefined, {
        timeout: options.durationMs + 30_000,
        polling: 500,
      });
    };
    await runOne();
    await collect(page);

    const idle: Recorded[] = [];
    const raced: Recorded[] = [];
    for (let k = 0; k < options.races; k++) {
      // The baseline is a stretch of time with nothing to do, not a wait for something to happen.
      await page.waitForTimeout(options.durationMs);
      idle.push(await collect(page));
      await runOne();
      raced.push(await collect(page));
      log(`frames: race ${k + 1}/${options.races}: longest frame ${stats([raced[k] as Recorded]).maxMs} ms`);
    }
    return {
      settings: {
        ...options,
        lanes: LANE_IDS.length,
        eventsPerSecond: Math.round(
          (LANE_IDS.length * options.steps * 1000) / Math.max(1, options.durationMs),
        ),
      },
      idle: stats(idle),
      race: stats(raced),
      perRace: raced.map((r) => stats([r])),
    };
  } finally {
    await opened.close();
  }
}
