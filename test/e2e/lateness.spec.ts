// The server made late on purpose: its event loop (this process: the e2e server runs in the worker)
// is held busy mid-race, so that a step's timer fires late. The race must say so — on the card of
// each lane, above the cards, in the metrics table and in the export — rather than pass the server's
// own queueing off as the transport's delay (issue 10).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LANE_IDS, type LaneId, RaceExport, SERVER_LATE_NOTE_MS } from '@transport-lab/shared';
import { artifactsDir } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

/** The race: 6 steps over 3 s, one due every 500 ms. */
const STEP_MS = 500;
/** How long the server's event loop is held, ms: longer than a step, so that at least one step's
 *  due time falls inside the hold and its timer fires late by at least BLOCK_MS - STEP_MS. */
const BLOCK_MS = STEP_MS + 200;
const LANES: LaneId[] = ['short-polling', 'websocket'];

/** Holds this process's event loop, and with it the in-process server's, for `ms`. */
function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose: no timer, socket or request of the server runs meanwhile
  }
}

test('a server held busy mid-race says on each card, above the cards, in the table and in the export that it ran late', async ({
  racePage,
}) => {
  const page = racePage.page;
  await racePage.goto();
  await racePage.configure({ durationMs: 6 * STEP_MS, steps: 6, lanes: LANES });
  for (const lane of LANE_IDS) if (!LANES.includes(lane)) await racePage.laneToggle(lane).uncheck();
  await racePage.startButton.click();
  // Once the websocket shows its first step, hold the server past the next step's due time. The
  // figures asserted are what the server itself stamped (`at - dueAt`), not BLOCK_MS.
  await expect(racePage.card('websocket').getByRole('progressbar')).not.toHaveAttribute('aria-valuenow', '0');
  blockEventLoop(BLOCK_MS);
  for (const lane of LANES) {
    await expect(racePage.card(lane)).toHaveAttribute('data-status', 'succeeded', { timeout: 15_000 });
  }

  // Each lane's card says how far behind the server fell: on its notes' folded line, and in full once
  // that is opened.
  for (const lane of LANES) {
    const notes = racePage.card(lane).getByTestId('lane-notes-fold');
    await expect(notes.locator('summary')).toContainText(/Server \d+ ms late/);
    await notes.locator('summary').click();
    const note = racePage.card(lane).getByTestId('server-late-note');
    await expect(note).toBeVisible();
    await expect(note).toContainText('behind its own schedule');
    expect(Number(await note.getAttribute('data-lateness-ms'))).toBeGreaterThanOrEqual(SERVER_LATE_NOTE_MS);
  }
  const raceNote = page.getByTestId('race-server-late');
  await expect(raceNote).toContainText('these figures include its queueing');

  // The metrics table carries the figure for each lane, and marks no lane best on it.
  for (const lane of LANES) {
    const cell = page.getByTestId(`metrics-row-${lane}`).locator('[data-metric="serverLate"]');
    await expect(cell).toHaveAttribute('data-value', /\d/);
    expect(Number(await cell.getAttribute('data-value'))).toBeGreaterThanOrEqual(SERVER_LATE_NOTE_MS);
    await expect(cell).not.toHaveAttribute('data-best', /.*/);
  }

  // The export: each lane's lateness, and every event's due time beside its `at`.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export JSON' }).click(),
  ]);
  const file = join(artifactsDir, 'race-export-late-server.json');
  await download.saveAs(file);
  const exported = RaceExport.parse(JSON.parse(await readFile(file, 'utf8')));
  for (const lane of LANES) {
    const record = exported.lanes.find((l) => l.lane === lane);
    expect(record?.measurements.serverLatenessMaxMs, lane).toBeGreaterThanOrEqual(SERVER_LATE_NOTE_MS);
  }
  const wsEvents = exported.lanes.find((l) => l.lane === 'websocket')?.events ?? [];
  expect(wsEvents.length).toBeGreaterThan(0);
  for (const { event } of wsEvents) expect(typeof event.dueAt, `seq ${event.seq}`).toBe('number');
  const late = Math.max(...wsEvents.map(({ event }) => event.at - (event.dueAt ?? event.at)));
  expect(late).toBeCloseTo(
    exported.lanes.find((l) => l.lane === 'websocket')?.measurements.serverLatenessMaxMs ?? 0,
    6,
  );
  await page.screenshot({ path: join(artifactsDir, 'race-late-server.png'), fullPage: true });
});
