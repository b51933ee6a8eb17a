import { join } from 'node:path';
import type { LaneId } from '@transport-lab/shared';
import { toBytes, toCount, toMs } from '../fixtures/racePage.ts';
import { artifactsDir } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

const LANES_UNDER_TEST = ['request-response', 'websocket'] as const satisfies readonly LaneId[];
const TASK = { durationMs: 1_500, steps: 10 };

// The same race in each of the page's three layouts; each leaves a full-page screenshot for review.
const VIEWS = [
  { name: 'desktop', viewport: { width: 1280, height: 800 }, query: '' },
  { name: 'phone', viewport: { width: 390, height: 844 }, query: '' },
  { name: 'projector', viewport: { width: 1920, height: 1080 }, query: 'view=projector' },
] as const;

for (const view of VIEWS) {
  test.describe(`race, ${view.name} layout`, () => {
    test.use({ viewport: view.viewport });

    test('request/response and websocket both finish a 1.5 s task and show measured figures', async ({
      racePage,
    }) => {
      await racePage.goto(view.query);
      await racePage.configure({ ...TASK, lanes: LANES_UNDER_TEST });
      for (const lane of LANES_UNDER_TEST) await expect(racePage.laneToggle(lane)).toBeChecked();

      await racePage.startButton.click();

      // The task alone lasts 1.5 s; the rest of the budget is for the lanes and a slow machine.
      for (const lane of LANES_UNDER_TEST) {
        await expect(racePage.card(lane)).toHaveAttribute('data-status', 'succeeded', { timeout: 15_000 });
      }

      for (const lane of LANES_UNDER_TEST) {
        const text = await racePage.metricTexts(lane);
        const firstFeedbackMs = toMs(text['first-feedback']);
        const totalPerceivedMs = toMs(text['total-perceived']);
        if (lane === 'websocket') {
          // The start is acknowledged and progress pushed long before the task ends.
          expect(firstFeedbackMs, `${lane}: first feedback before the end`).toBeLessThan(totalPerceivedMs);
        } else {
          // One blocking request: the first thing from the server is the final answer, so the person
          // sees nothing until the task has run. Equal figures here are the lane's nature, not a bug.
          expect(firstFeedbackMs, `${lane}: first feedback only at the end`).toBeGreaterThanOrEqual(
            TASK.durationMs,
          );
          expect(firstFeedbackMs, `${lane}: first feedback`).toBeLessThanOrEqual(totalPerceivedMs);
        }
        // Nobody can see the task finish before it has run its 1.5 s.
        expect(totalPerceivedMs, `${lane}: total perceived`).toBeGreaterThanOrEqual(TASK.durationMs);
        expect(Number.isFinite(toMs(text['completion-lag'])), `${lane}: completion lag`).toBe(true);
        expect(toCount(text.requests), `${lane}: requests`).toBeGreaterThanOrEqual(1);
        expect(toBytes(text['bytes-down']), `${lane}: bytes down`).toBeGreaterThan(0);
        expect(toBytes(text['bytes-up']), `${lane}: bytes up`).toBeGreaterThan(0);
      }
      await expect(racePage.clockOffset).toContainText(/\d\s*ms/);

      await racePage.page.screenshot({ path: join(artifactsDir, `race-${view.name}.png`), fullPage: true });
    });
  });
}
