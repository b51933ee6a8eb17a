import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LANE_IDS, RaceExport } from '@transport-lab/shared';
import { artifactsDir, clientDist, repoRoot } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

/** `npm start`'s server: main.ts, the supervisor, in a child process of its own group, serving the built page. */
async function supervisedServer(): Promise<{ url: string; starts: () => number; stop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'transport-lab-faults-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: join(repoRoot, 'server'),
    env: {
      ...process.env,
      // The embedded store, whatever the shell says (CI exports REDIS_URL for the Redis tests).
      REDIS_URL: '',
      PORT: '0',
      RECEIVER_PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      STATIC_DIR: clientDist,
      WEBHOOK_SCHEDULE_SCALE: '0.0005',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let starts = 0;
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const match = /Transport Lab listening on (http:\/\/\S+)/.exec(line);
      if (!match?.[1]) return;
      starts += 1;
      resolve(match[1].replace('localhost', '127.0.0.1'));
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
  });
  return {
    url,
    starts: () => starts,
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid)
        process.kill(-child.pid, 'SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

// Long enough, at 200 ms a step, for the drop to land mid-task on a slow machine (8 s: at 4 s, on a
// machine shared with other runs, the task once ended before the Faults panel had been opened).
const TASK = { durationMs: 8_000, steps: 40 };

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
    for (const lane of LANE_IDS.filter((id) => id !== 'sse' && id !== 'websocket')) {
      await racePage.laneToggle(lane).uncheck();
    }
    await racePage.startButton.click();
    await racePage.openFaults();
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
    // And on the card it hit, not on the other.
    await expect(racePage.card('sse').getByTestId('lane-faults')).toContainText('Dropped');
    await expect(racePage.card('websocket').getByTestId('lane-faults')).toHaveCount(0);

    // The lane recovers: EventSource reconnects with Last-Event-ID and the task ends on its card.
    for (const lane of ['sse', 'websocket'] as const) {
      await expect(racePage.card(lane)).toHaveAttribute('data-status', 'succeeded', { timeout: 20_000 });
    }
    const summary = page.getByRole('table', { name: /Timeline summary/ });
    const sseRow = summary.getByRole('row', { name: /Server-Sent Events/ });
    await expect(sseRow).toContainText('Dropped');
    // The reconnect shows in the lane's row of the summary, in its "Reconnects" column, found by its
    // header: a row's first column is its header (a th), so its cells start at the second column.
    const headers = await summary.getByRole('columnheader').allTextContents();
    expect(headers).toContain('Reconnects');
    const reconnectsCell = headers.indexOf('Reconnects') - 1;
    const reconnects = Number(await sseRow.getByRole('cell').nth(reconnectsCell).textContent());
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

test.describe('restart-server from the page, under npm start’s supervisor', () => {
  test('every lane carries its task to the real end through the restart; the blocking call is told where its task went', async ({
    racePage,
    page,
  }) => {
    test.setTimeout(90_000);
    const server = await supervisedServer();
    try {
      await page.goto(server.url);
      await racePage.startButton.waitFor();
      // 300 ms steps: every lane is mid-task when the server goes.
      await racePage.configure({ durationMs: 6_000, steps: 20, lanes: LANE_IDS });
      await racePage.startButton.click();
      for (const lane of ['sse', 'websocket'] as const) {
        await expect(racePage.card(lane).getByRole('progressbar')).toHaveAttribute('aria-valuenow', /^[1-9]/);
      }
      await (await racePage.openFaults()).getByRole('button', { name: 'Restart server' }).click();
      await expect(page.getByTestId('fault-list')).toContainText('Server restarted with');
      await expect.poll(server.starts, { timeout: 30_000 }).toBe(2);

      // Every lane that follows its task ends with the task's real outcome.
      for (const lane of LANE_IDS.filter((id) => id !== 'request-response')) {
        await expect(racePage.card(lane), lane).toHaveAttribute('data-status', 'succeeded', {
          timeout: 45_000,
        });
      }
      // The blocking call was answered 503 with the task's Location before the process went; fetching
      // it now (the task has ended: the other lanes say so) shows how it really ended.
      const blocking = racePage.card('request-response');
      await expect(blocking).toHaveAttribute('data-status', 'error');
      await expect(blocking).toContainText('HTTP 503');
      await blocking.getByRole('button', { name: 'Follow the task to its end' }).click();
      await expect(blocking.getByTestId('lane-recovered')).toContainText('succeeded, step 20 of 20');
      await expect(page.getByTestId('timeline-row-websocket')).toHaveAttribute('data-faults', '1');

      await page.screenshot({ path: join(artifactsDir, 'faults-restart.png'), fullPage: true });
    } finally {
      await server.stop();
    }
  });
});
