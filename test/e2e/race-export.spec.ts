import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LANE_IDS, RaceExport } from '@transport-lab/shared';
import { artifactsDir } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

test.use({ viewport: { width: 1280, height: 900 } });

test('an all-lanes race fills the metrics table and the timeline, and exports JSON that the shared schema accepts', async ({
  racePage,
}) => {
  const page = racePage.page;
  await racePage.goto();
  await racePage.configure({ durationMs: 2_000, steps: 10, lanes: LANE_IDS });
  await racePage.startButton.click();
  for (const lane of LANE_IDS) {
    await expect(racePage.card(lane)).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  }

  // The metrics table: one row per lane, each perceived time a number.
  const table = page.getByTestId('metrics-table');
  for (const lane of LANE_IDS) {
    const row = table.getByTestId(`metrics-row-${lane}`);
    await expect(row).toBeVisible();
    for (const metric of ['firstFeedback', 'totalPerceived', 'requests', 'bytesDown']) {
      const value = await row.locator(`[data-metric="${metric}"]`).getAttribute('data-value');
      expect(Number(value), `${lane} ${metric}`).toBeGreaterThan(0);
    }
  }

  // The timeline: a row per lane, each with marks drawn.
  const timeline = page.getByTestId('timeline');
  await expect(timeline).toBeVisible();
  for (const lane of LANE_IDS) {
    const marks = await timeline.getByTestId(`timeline-row-${lane}`).getAttribute('data-marks');
    expect(Number(marks), `${lane} timeline marks`).toBeGreaterThan(0);
  }

  // The server's own count beside the page's arrives once every lane is done.
  for (const lane of LANE_IDS) {
    await expect(page.getByTestId(`wire-compare-${lane}`)).toHaveAttribute('data-server-requests', /\d+/, {
      timeout: 15_000,
    });
  }

  // Export JSON: a real download, validated against the shared schema.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export JSON' }).click(),
  ]);
  const file = join(artifactsDir, 'race-export.json');
  await download.saveAs(file);
  const exported = RaceExport.safeParse(JSON.parse(await readFile(file, 'utf8')));
  expect(exported.error?.issues ?? []).toEqual([]);
  const lanesInExport = JSON.stringify(exported.data);
  for (const lane of LANE_IDS) expect(lanesInExport).toContain(`"${lane}"`);

  // Export CSV: a header with units and one row per lane.
  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  const csvFile = join(artifactsDir, 'race-metrics.csv');
  await csv.saveAs(csvFile);
  const lines = (await readFile(csvFile, 'utf8')).trim().split(/\r?\n/);
  expect(lines).toHaveLength(1 + LANE_IDS.length);
  expect(lines[0]).toMatch(/ms/);

  await page.screenshot({ path: join(artifactsDir, 'race-view-desktop.png'), fullPage: true });
  await timeline.screenshot({ path: join(artifactsDir, 'race-timeline.png') });
});

test('a shared link reproduces the race settings, and a bad value falls back with a note', async ({
  racePage,
}) => {
  const page = racePage.page;
  await racePage.goto();
  await racePage.configure({ durationMs: 1_234, steps: 7, lanes: ['sse', 'websocket'] });
  for (const lane of LANE_IDS)
    if (lane !== 'sse' && lane !== 'websocket') await racePage.laneToggle(lane).uncheck();
  const link = page.url();
  const fresh = await page.context().newPage();
  await fresh.goto(link);
  await expect(fresh.getByLabel('Duration (ms)', { exact: true })).toHaveValue('1234');
  await expect(fresh.getByLabel('Steps', { exact: true })).toHaveValue('7');
  await expect(fresh.getByRole('checkbox', { name: 'WebSocket', exact: true })).toBeChecked();
  await expect(fresh.getByRole('checkbox', { name: 'Request/response', exact: true })).not.toBeChecked();

  const bad = new URL(link);
  bad.searchParams.set('durationMs', 'soon');
  await fresh.goto(bad.href);
  await expect(fresh.getByTestId('link-notes')).toContainText(/duration/i);
  // The bad value was replaced by the default, the rest of the link still applied.
  await expect(fresh.getByLabel('Duration (ms)', { exact: true })).not.toHaveValue('soon');
  await expect(fresh.getByLabel('Steps', { exact: true })).toHaveValue('7');
  await expect(fresh.getByRole('button', { name: 'Start', exact: true })).toBeVisible();
  await fresh.close();
});
