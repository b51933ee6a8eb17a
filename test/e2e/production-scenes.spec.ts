// Two scenes people hit in production (issue 15, item 5), each a guided scenario run from the page in
// one click: a reconnect storm after a restart, with and without jitter (the storm's server counts the
// connections it accepts; the page plots them), and seven event streams over HTTP/1.1 then over HTTP/2
// (the seventh waits on HTTP/1.1 only). The spec checks that the page says "As expected" with a why
// line of figures, checks the stated expectation again from what the page shows, and leaves screenshots
// of each scenario's end (scene-<id>.png).
import { join } from 'node:path';
import { runGuidedScenario } from '../fixtures/scenario.ts';
import { artifactsDir } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

// The HTTP/2 demo port on a free port, with its certificate made at start: Chromium cannot trust it,
// so the context ignores certificate errors (as a person does by accepting it once). The scenes teach
// transports, not admission control (as in scenarios.spec.ts).
test.use({
  serverEnv: { MAX_EVENT_LOOP_DELAY_MS: '60000', H2_PORT: '0' },
  ignoreHTTPSErrors: true,
});

/** The production scenes cite their sources and further reading before they run. */
async function runScene(page: import('@playwright/test').Page, id: string, title: string, budgetMs: number) {
  return runGuidedScenario(page, id, title, budgetMs, async () => {
    await expect(page.getByTestId('scenario-sources').getByRole('link').first()).toBeVisible();
    await expect(page.getByTestId('learn-more').getByRole('link').first()).toBeVisible();
  });
}

test('scene "A reconnect storm after a restart" peaks higher without jitter than with it', async ({
  page,
}) => {
  test.setTimeout(60_000);
  const { why } = await runScene(
    page,
    'reconnect-storm',
    'A reconnect storm after a restart: with and without jitter',
    30_000,
  );
  // The stated expectation, read again from the why line: the ratio of the two peaks.
  const ratio = Number(/ratio (\d+(?:\.\d+)?)/.exec(why)?.[1]);
  expect(ratio).toBeGreaterThanOrEqual(2);
  const plot = page.getByTestId('storm-plot');
  await expect(plot).toBeVisible();
  await expect(plot.getByRole('img')).toHaveAccessibleName(/without jitter a peak of \d+/);
  await page
    .getByTestId('scenario-result')
    .screenshot({ path: join(artifactsDir, 'scene-reconnect-storm.png') });
});

test('scene "Six event streams" makes the seventh wait over HTTP/1.1 and not over HTTP/2', async ({
  page,
}) => {
  test.setTimeout(60_000);
  await runScene(
    page,
    'six-streams',
    'Six event streams over HTTP/1.1, the seventh waits; over HTTP/2 it does not',
    30_000,
  );
  // The stated expectation, read again from the table: stream 7 waited on HTTP/1.1, none did on h2.
  const table = page.getByTestId('streams-table');
  const seventh = table.getByRole('row', { name: /^7 / });
  await expect(seventh.getByRole('cell').nth(0)).toContainText('waited for a connection');
  await expect(table.locator('td[data-waited="true"]')).toHaveCount(1);
  await page.getByTestId('scenario-result').screenshot({ path: join(artifactsDir, 'scene-six-streams.png') });
});
