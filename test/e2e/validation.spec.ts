import type { LaneId } from '@transport-lab/shared';
import { recordTaskStarts } from '../fixtures/taskStarts.ts';
import { expect, test } from '../fixtures/test.ts';

const LANES_UNDER_TEST = ['request-response', 'websocket'] as const satisfies readonly LaneId[];

test('an out-of-range duration shows an error and starts no task on any lane', async ({ racePage, page }) => {
  const starts = recordTaskStarts(page);
  await racePage.goto();
  // 120 000 ms is the most a task may last (TASK_LIMITS in @transport-lab/shared).
  await racePage.configure({ durationMs: 120_001, steps: 5, lanes: LANES_UNDER_TEST });

  await racePage.pressStart();

  await expect(page.getByRole('alert')).toContainText(/duration/i);
  await expect(racePage.duration).toHaveAttribute('aria-invalid', 'true');
  // The error above is on screen, so the page has handled the press: had it started anything, the
  // recorder would have seen it leave.
  expect(starts.seen).toEqual([]);
  for (const lane of LANES_UNDER_TEST)
    await expect(racePage.card(lane)).toHaveAttribute('data-status', 'idle');

  // Control: once the duration is valid, the same press does start both lanes, and the recorder sees it.
  // Without this, an empty record could mean a blind recorder rather than a page that sent nothing.
  await racePage.duration.fill('200');
  await expect(page.getByRole('alert')).toHaveCount(0);
  await racePage.startButton.click();
  for (const lane of LANES_UNDER_TEST) {
    await expect(racePage.card(lane)).toHaveAttribute('data-status', 'succeeded');
  }
  expect(starts.seen).toEqual(expect.arrayContaining(['POST /api/tasks/run', 'websocket task:start']));
});
