// The page's side of the lane contract, looped over every lane the page lists (shared LANE_IDS, the
// client's registry): what each lane promises whatever its channel. A lane added to the list gets
// these checks by being there (the server's side: server/test/laneContract.test.ts).
//   - It carries a task to its end, and every event it received arrived once, in seq order, up to
//     the terminal one; a lane that shows whole states (request/response, short polling) ends on
//     the final state.
//   - A task that fails at a step ends the lane `failed`, with the task's own failure.
//   - Cancel, pressed mid-task, ends the lane `cancelled`, and the task on the server too (the page
//     asked it on the lane's own channel, or closed the blocking call the server cancels on).
//   - The page's wire count of the lane and the server's own count agree on requests.
//   - Its connections dropped mid-task (the fault), it resumes to the end with every event once —
//     every lane but request/response, whose open request is its only handle on the task (a drop
//     cancels it, by design).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LANE_IDS, LANES, type LaneExport, type LaneId, RaceExport } from '@transport-lab/shared';
import type { RacePage } from '../fixtures/racePage.ts';
import { artifactsDir } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

test.use({ viewport: { width: 1280, height: 900 } });

/** Only `lane` raced, with this task. */
async function raceOne(
  racePage: RacePage,
  lane: LaneId,
  task: { durationMs: number; steps: number; failAtStep?: number },
): Promise<void> {
  await racePage.goto();
  await racePage.configure({ durationMs: task.durationMs, steps: task.steps, lanes: [lane] });
  for (const other of LANE_IDS) if (other !== lane) await racePage.laneToggle(other).uncheck();
  await racePage.page
    .getByLabel('Fail at step (optional)', { exact: true })
    .fill(task.failAtStep === undefined ? '' : String(task.failAtStep));
  await racePage.startButton.click();
}

/** The race as the page exports it (a real download, parsed with the shared schema): this lane's part. */
async function exportedLane(racePage: RacePage, lane: LaneId): Promise<LaneExport> {
  const [download] = await Promise.all([
    racePage.page.waitForEvent('download'),
    racePage.page.getByRole('button', { name: 'Export JSON' }).click(),
  ]);
  const file = join(artifactsDir, `lane-contract-${lane}.json`);
  await download.saveAs(file);
  const exported = RaceExport.parse(JSON.parse(await readFile(file, 'utf8')));
  const part = exported.lanes.find((entry) => entry.lane === lane);
  if (!part) throw new Error(`the export has no ${lane} lane`);
  return part;
}

for (const lane of LANE_IDS) {
  test.describe(`lane contract, page side: ${lane}`, () => {
    test('carries a task to its end: each event once, in seq order, and the server counts its requests', async ({
      racePage,
    }) => {
      const task = { durationMs: 1_200, steps: 6 };
      await raceOne(racePage, lane, task);
      await expect(racePage.card(lane)).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
      const part = await exportedLane(racePage, lane);
      const seqs = part.events.map((received) => received.event.seq);
      expect(seqs, 'each event once, in seq order').toEqual([...new Set(seqs)].sort((a, b) => a - b));
      const last = part.events.at(-1)?.event ?? part.states.at(-1)?.task;
      expect(last, 'the lane saw the end of the task').toBeDefined();
      if (part.events.length > 0) {
        expect(part.events.at(-1)?.event.type).toBe('succeeded');
        // Progress, as far as it came as events, never goes back.
        const steps = part.events.flatMap((r) => (r.event.type === 'progress' ? [r.event.step] : []));
        expect(steps).toEqual([...steps].sort((a, b) => a - b));
      } else {
        expect(part.states.at(-1)?.task.status).toBe('succeeded');
      }
      // The page's count beside the server's own (the wire comparison under the table).
      const compare = racePage.page.getByTestId(`wire-compare-${lane}`);
      await expect(compare).toHaveAttribute('data-server-requests', /\d+/, { timeout: 15_000 });
      const serverRequests = Number(await compare.getAttribute('data-server-requests'));
      expect(serverRequests, 'the server counted the lane’s requests').toBeGreaterThanOrEqual(1);
    });

    test('a task that fails at a step ends the lane failed', async ({ racePage }) => {
      await raceOne(racePage, lane, { durationMs: 1_200, steps: 6, failAtStep: 3 });
      await expect(racePage.card(lane)).toHaveAttribute('data-status', 'failed', { timeout: 30_000 });
      const part = await exportedLane(racePage, lane);
      const final = part.events.at(-1)?.event.type ?? part.states.at(-1)?.task.status;
      expect(final).toBe('failed');
    });

    // A blocking call has no resume: its open request is its only handle on the task (a drop cancels it).
    if (lane !== 'request-response') {
      test('its connections dropped mid-task, it resumes to the end with every event once', async ({
        racePage,
      }) => {
        await raceOne(racePage, lane, { durationMs: 4_000, steps: 20 });
        // A race folds the Faults panel: one click opens it, as a presenter would.
        const faults = await racePage.openFaults();
        const drop = faults.getByRole('button', { name: `Drop ${LANES[lane].name} connections` });
        await expect(drop).toBeEnabled();
        // Once the lane is carrying progress, cut it.
        await expect(racePage.card(lane).getByRole('progressbar')).toHaveAttribute(
          'aria-valuenow',
          /^[1-9]/,
          {
            timeout: 15_000,
          },
        );
        await drop.click();
        await expect(racePage.page.getByTestId('fault-list')).toContainText(/Dropped [1-9]\d* connections?/);
        await expect(racePage.card(lane)).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
        const part = await exportedLane(racePage, lane);
        const seqs = part.events.map((received) => received.event.seq);
        expect(seqs, 'each event once, in seq order').toEqual([...new Set(seqs)].sort((a, b) => a - b));
      });
    }

    test('Cancel mid-task ends the lane cancelled, and the task on the server with it', async ({
      racePage,
    }) => {
      await raceOne(racePage, lane, { durationMs: 20_000, steps: 20 });
      await expect(racePage.card(lane)).toHaveAttribute('data-status', 'running');
      await racePage.cancelButton.click();
      await expect(racePage.card(lane)).toHaveAttribute('data-status', 'cancelled', { timeout: 15_000 });
      const { taskId } = await exportedLane(racePage, lane);
      // A blocking call learns its task's id only with its answer, which a cancel forgoes: the server's
      // side of closing it (the task ends cancelled) is server/test/laneContract.test.ts's.
      if (lane === 'request-response') return expect(taskId).toBeUndefined();
      expect(taskId, 'the export names the lane’s task').toBeDefined();
      // The server's own word on the task (the page may have stopped listening before it ended).
      await expect
        .poll(
          async () => {
            const answer = await racePage.page.request.get(`/api/tasks/${taskId}`);
            return ((await answer.json()) as { task?: { status?: string } }).task?.status;
          },
          { timeout: 10_000 },
        )
        .toBe('cancelled');
    });
  });
}
