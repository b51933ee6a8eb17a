// Issue 12, item 5: "the show on one screen". During a race the Start/Cancel control and every lane
// card's progress bar must be inside the viewport at the two sizes a room projects (1 366×768, a common
// projector and laptop, and 1 920×1 080), in the desktop and the projector views, without scrolling:
// settings, the network picker, faults and scenarios fold into a bar above the cards.
import { join } from 'node:path';
import { LANE_IDS } from '@transport-lab/shared';
import { artifactsDir } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

const SIZES = [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
] as const;
const VIEWS = ['desktop', 'projector'] as const;
// Long enough that every lane is still running while the page is read on a loaded machine; the test
// cancels the race once it has read it.
const TASK = { durationMs: 90_000, steps: 45 };

for (const size of SIZES) {
  for (const view of VIEWS) {
    test.describe(`one screen at ${size.width}×${size.height}, ${view} view`, () => {
      test.use({ viewport: size });

      test('after Start, the control and every lane’s progress bar are in view without scrolling', async ({
        racePage,
      }) => {
        // Seven lanes on a machine shared with other runs: 22-29 s measured, over the default 30 s once.
        test.setTimeout(60_000);
        const { page } = racePage;
        await racePage.goto(`view=${view}`);
        await racePage.configure({ ...TASK, lanes: LANE_IDS });
        await racePage.startButton.click();

        // The race is on: every card runs (the layout under test is the race's, not the idle page's).
        for (const lane of LANE_IDS) {
          await expect(racePage.card(lane)).toHaveAttribute('data-status', 'running', { timeout: 10_000 });
        }
        expect(await page.evaluate(() => window.scrollY), 'the page did not scroll').toBe(0);
        await expect(racePage.cancelButton).toBeEnabled();
        await expect(racePage.cancelButton).toBeInViewport({ ratio: 1 });
        await expect(racePage.startButton).toBeInViewport({ ratio: 1 });
        for (const lane of LANE_IDS) {
          await expect(racePage.card(lane).getByRole('progressbar'), `${lane} progress`).toBeInViewport({
            ratio: 1,
          });
        }
        await page.screenshot({
          path: join(artifactsDir, `one-screen-${view}-${size.width}x${size.height}.png`),
        });
        await racePage.cancelButton.click();
      });
    });
  }
}
