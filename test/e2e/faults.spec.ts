import { join } from 'node:path';
import { RaceExport } from '@transport-lab/shared';
import { artifactsDir } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

// Long enough, at 200 ms a step, for the drop to land mid-task on a slow machine.
const TASK = { durationMs: 4_000, steps: 20 };

test.describe('faults, one click each during a race', () => {
  test('dropping the SSE lane’s connections mid-race: marked on its timeline row, announced, and the lane resumes to the end', async ({
    racePage,
    page,
  }) => {
    await racePage.goto();
    const faults = page.getByTestId('faults');
    const drop = faults.getByRole('button', { name: 'Drop Server-Sent Events connections' });
    // No race yet: nothing to break.
    await expect(faults.getByRole('button', { name: 'Restart server' })).toBeDisabled();

    await racePage.configure({ ...TASK, lanes: ['sse', 'websocket'] });
    await racePage.startButton.click();
    await expect(drop).toBeEnabled();
    // Once the stream is carrying progress, cut it.
    await expect(racePage.card('sse').getByRole('progressbar')).toHaveAttribute('aria-valuenow', /^[1-9]/);
    await drop.click();

    const list = page.getByTestId('fault-list');
    await expect(list).toContainText(/Dropped [1-9]\d* connections? of Server-Sent Events\./);
    await expect(page.getByTestId('announcer')).toContainText('Fault injected: Dropped');
    // On the SSE row only: the websocket's connections were not touched.
    await expect(page.getByTestId('timeline-row-sse')).toHaveAttribute('data-faults', '1');
    await expect(page.getByTestId('timeline-row-websocket')).toHaveAttribute('data-faults', '0');

    // The lane recovers: EventSource reconnects with Last-Event-ID and the task ends on its card.
    for (const lane of ['sse', 'websocket'] as const) {
      await expect(racePage.card(lane)).toHaveAttribute('data-status', 'succeeded', { timeout: 20_000 });
    }
    const summary = page.getByRole('table', { name: /Timeline summary/ });
    const sseRow = summary.getByRole('row', { name: /Server-Sent Events/ });
    await expect(sseRow).toContainText('Dropped');
    // The reconnect shows in the lane's row of the summary (the column after first shown).
    const reconnects = Number(await sseRow.getByRole('cell').nth(3).textContent());
    expect(reconnects, 'SSE reconnects after the drop').toBeGreaterThanOrEqual(1);
    await expect(drop).toBeDisabled();

    // The fault travels with the race in its JSON export.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export JSON' }).click();
    const file = await (await download).path();
    const { readFile } = await import('node:fs/promises');
    const exported = RaceExport.parse(JSON.parse(await readFile(file, 'utf8')));
    expect(exported.faults?.map((f) => f.fault.kind)).toEqual(['drop-connections']);
    expect(exported.faults?.[0]?.fault).toMatchObject({ lane: 'sse', runId: exported.runId });

    await page.screenshot({ path: join(artifactsDir, 'faults-drop-sse.png'), fullPage: true });
    await page.getByTestId('timeline').screenshot({ path: join(artifactsDir, 'faults-timeline.png') });
  });
});
