// How fast a race starts on the page, and what the page's own work adds (issue 10, item 5): the real
// page in Debian's Chromium against a real server (warmed at start, as `npm start` is), every lane at
// once. Per race it reads the page's own export (RaceExport): each lane's first feedback, the
// websocket lane's connect (upgrade sent → open), and each pushed event's receive delay — when the
// page's code got it, against when the server made it (its `at`, on the page clock through the
// page's own offset estimate). On loopback the wire adds well under a millisecond, so that delay is
// the page's main thread. The same races then run under Chromium's 4× CPU slowdown (DevTools'
// "mid-range phone"), the audience's phones.
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { LANE_IDS, type LaneId, RaceExport } from '@transport-lab/shared';
import type { RacePage } from '../fixtures/racePage.ts';
import { openRacePage } from './pageFrames.ts';

export interface RaceStartOptions {
  /** Races per CPU setting; the first of the unthrottled ones is the first after the server's start. */
  races: number;
  durationMs: number;
  steps: number;
  /** Chromium's CPU slowdown for the phone-like runs (DevTools' mid-range phone: 4). */
  slowdown: number;
}

/** Lanes whose first feedback is an HTTP answer (a 202): the "HTTP lanes". Request/response and the
 *  hybrid answer only when the task ends (or its wait is over) by design, so they carry no target. */
const HTTP_LANES: readonly LaneId[] = ['short-polling', 'long-polling', 'sse', 'webhook'];

export interface LaneStart {
  lane: LaneId;
  /** Action → first feedback, ms, one per race. */
  firstFeedbackMs: number[];
  /** Median over the race's pushed events of (received − made), ms, one per race that had any. */
  receiveDelayMedianMs: number[];
}

export interface RaceStartRun {
  slowdown: number;
  lanes: LaneStart[];
  /** The websocket lane's upgrade sent → open, ms, one per race. */
  websocketConnectMs: number[];
  /** The page's longest frame during each race, ms (its own export's `pageBusy`). */
  longestFrameMs: number[];
}

export interface RaceStartResult {
  settings: RaceStartOptions & { lanes: number };
  normal: RaceStartRun;
  slowed: RaceStartRun;
}

const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1] as number;
};

/** The race's export, as the page writes it for a person (a real download). */
async function exportRace(page: Page): Promise<RaceExport> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export JSON' }).click(),
  ]);
  const file = join(tmpdir(), `race-start-${process.pid}-${Date.now()}.json`);
  await download.saveAs(file);
  try {
    return RaceExport.parse(JSON.parse(await readFile(file, 'utf8')));
  } finally {
    await rm(file, { force: true });
  }
}

/** Every lane card's status, read in the page. A string: tsx's helpers do not exist in the page. */
const STATUSES = `[...document.querySelectorAll('[data-testid^="lane-card-"]')].map((c) => c.getAttribute('data-status'))`;
/** After its lanes end, a race settles (byte counts, the page's busyness) before the export has it all. */
const SETTLE_TRIES = 20;
const SETTLE_POLL_MS = 250;

async function runRace(race: RacePage, durationMs: number): Promise<RaceExport> {
  const { page } = race;
  await race.startButton.click();
  await page.waitForFunction(`${STATUSES}.includes('running')`, undefined, { timeout: 10_000 });
  await page.waitForFunction(`!${STATUSES}.includes('running')`, undefined, {
    timeout: durationMs + 30_000,
    polling: SETTLE_POLL_MS,
  });
  for (let tries = 1; ; tries++) {
    const exported = await exportRace(page);
    if (exported.pageBusy || tries >= SETTLE_TRIES) return exported;
    await page.waitForTimeout(SETTLE_POLL_MS);
  }
}

function record(run: RaceStartRun, exported: RaceExport): void {
  const offsetMs = exported.clock?.offsetMs ?? 0;
  for (const lane of exported.lanes) {
    let entry = run.lanes.find((l) => l.lane === lane.lane);
    if (!entry) {
      entry = { lane: lane.lane, firstFeedbackMs: [], receiveDelayMedianMs: [] };
      run.lanes.push(entry);
    }
    if (lane.measurements.firstFeedbackMs !== undefined)
      entry.firstFeedbackMs.push(lane.measurements.firstFeedbackMs);
    const delays = lane.events
      .filter(({ event }) => event.type === 'progress')
      .map(({ event, receivedAt }) => receivedAt - (event.at - offsetMs));
    if (delays.length > 0) entry.receiveDelayMedianMs.push(median(delays));
    if (lane.lane === 'websocket') {
      const upgrade = lane.exchanges.find((x) => x.kind === 'socket' && x.openedAt !== undefined);
      if (upgrade?.openedAt !== undefined) run.websocketConnectMs.push(upgrade.openedAt - upgrade.sentAt);
    }
  }
  if (exported.pageBusy) run.longestFrameMs.push(exported.pageBusy.longestFrameMs);
}

export async function measureRaceStart(
  options: RaceStartOptions,
  log: (line: string) => void = console.log,
): Promise<RaceStartResult> {
  const opened = await openRacePage(options, log);
  try {
    const { race, page } = opened;
    // Playwright evaluates its own script in the page the first time a spec waits on a condition
    // there (about 300 kB, 12 ms of the page's main thread on this machine): in the first race it did
    // so right after the press, inside the window measured, and was counted as the first race's cost.
    // A person's page has no Playwright: it is evaluated here, before any race.
    await page.waitForFunction('true');
    const run = async (slowdown: number): Promise<RaceStartRun> => {
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: slowdown });
      const out: RaceStartRun = { slowdown, lanes: [], websocketConnectMs: [], longestFrameMs: [] };
      for (let k = 0; k < options.races; k++) {
        record(out, await runRace(race, options.durationMs));
        const ws = out.lanes.find((l) => l.lane === 'websocket');
        log(
          `race start: ${slowdown}× CPU, race ${k + 1}/${options.races}: websocket first feedback ${Math.round(ws?.firstFeedbackMs.at(-1) ?? Number.NaN)} ms`,
        );
      }
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
      await cdp.detach();
      return out;
    };
    const normal = await run(1);
    const slowed = await run(options.slowdown);
    return { settings: { ...options, lanes: LANE_IDS.length }, normal, slowed };
  } finally {
    await opened.close();
  }
}

/** The figures the issue names, per lane, and whether each target holds. */
export function raceStartRows(result: RaceStartResult): string[][] {
  const { normal, slowed } = result;
  const rows: string[][] = [];
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '—');
  for (const lane of LANE_IDS) {
    const n = normal.lanes.find((l) => l.lane === lane);
    const s = slowed.lanes.find((l) => l.lane === lane);
    const first = n?.firstFeedbackMs[0] ?? Number.NaN;
    const later = median(n?.firstFeedbackMs.slice(1) ?? []);
    const http = HTTP_LANES.includes(lane);
    const slowFirst = median(s?.firstFeedbackMs ?? []);
    const slowDelay = median(s?.receiveDelayMedianMs ?? []);
    rows.push([
      lane,
      `${fmt(later)}${http ? (later <= 35 ? ' ✓' : ' ✗') : ''}`,
      `${fmt(first)} (${(first / later).toFixed(2)}×${first <= 1.5 * later ? ' ✓' : ' ✗'})`,
      fmt(median(n?.receiveDelayMedianMs ?? [])),
      `${fmt(slowFirst)}${slowFirst <= 100 ? ' ✓' : ' ✗'}`,
      Number.isFinite(slowDelay) ? `${fmt(slowDelay)}${slowDelay <= 16 ? ' ✓' : ' ✗'}` : '— (no events)',
    ]);
  }
  const connect = median(normal.websocketConnectMs);
  rows.push([
    'websocket connect',
    `${fmt(connect)}${connect <= 50 ? ' ✓' : ' ✗'}`,
    '',
    '',
    fmt(median(slowed.websocketConnectMs)),
    '',
  ]);
  rows.push([
    'page longest frame',
    fmt(median(normal.longestFrameMs)),
    '',
    '',
    fmt(median(slowed.longestFrameMs)),
    '',
  ]);
  return rows;
}

export function raceStartHeader(slowdown: number): string[] {
  return [
    'lane',
    'first feedback p50, later races (ms; HTTP ≤ 35)',
    'first race after start (ms; ≤ 1.5× later)',
    'receive delay, median (ms)',
    `first feedback p50, ${slowdown}× CPU (ms; ≤ 100)`,
    `receive delay median, ${slowdown}× CPU (ms; ≤ 16)`,
  ];
}
