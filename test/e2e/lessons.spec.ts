// The lessons issue 12 found missing (its item 4), each a guided scenario run from the page in one click,
// beside the first seven (scenarios.spec.ts): the page runs it, checks its stated expectation against
// what it measured, says why in one line, and leaves a screenshot of its end (lesson-<id>.png).
import { join } from 'node:path';
import { runGuidedScenario } from '../fixtures/scenario.ts';
import { artifactsDir } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

// As in scenarios.spec.ts: the lessons teach transports, not admission control.
test.use({ serverEnv: { MAX_EVENT_LOOP_DELAY_MS: '60000' } });

async function runScenario(
  page: import('@playwright/test').Page,
  id: string,
  title: string,
  budgetMs: number,
) {
  const { text, why } = await runGuidedScenario(page, id, title, budgetMs, async () => {
    // Every scenario and lesson lists where to read on (learn-more.ts), before it runs.
    await expect(page.getByTestId('learn-more').getByRole('link').first()).toBeVisible();
  });
  // The panel folds while a scenario runs (the verdict stands above the cards): open it again to read
  // the scenario's text and sources, as a learner would with one click.
  const panel = page.locator('section.scenarios > details.fold');
  if ((await panel.getAttribute('open')) === null) await panel.locator(':scope > summary').click();
  await expect(page.getByTestId('scenario-sources')).toBeVisible();
  return { text, why };
}

test('lesson "A retried POST runs twice: Idempotency-Key" meets its stated expectation', async ({ page }) => {
  test.setTimeout(60_000);
  await runScenario(page, 'retried-post', 'A retried POST runs twice: Idempotency-Key', 30_000);
  // The sources it cites, and the server's own counts of each try, in a table read by column.
  const sources = page.getByTestId('scenario-sources');
  await expect(sources.getByRole('link', { name: /RFC 9110 §9\.2\.2/ })).toBeVisible();
  await expect(sources.getByRole('link', { name: /Idempotency-Key HTTP Header Field/ })).toBeVisible();
  const table = page.getByTestId('retry-trials');
  await expect(table.getByRole('row', { name: /Without a key/ }).getByTestId('tasks-created')).toHaveText(
    '2',
  );
  await expect(
    table.getByRole('row', { name: /With Idempotency-Key/ }).getByTestId('tasks-created'),
  ).toHaveText('1');
  await expect(table.getByRole('row', { name: /With Idempotency-Key/ })).toContainText(
    'Idempotent-Replayed: true',
  );
  await page
    .getByTestId('scenario-result')
    .screenshot({ path: join(artifactsDir, 'lesson-retried-post.png') });
});

test('lesson "A forged or replayed webhook" meets its stated expectation', async ({ page }) => {
  test.setTimeout(60_000);
  await runScenario(
    page,
    'forged-webhook',
    'A forged or replayed webhook: signature, timestamp, webhook-id',
    40_000,
  );
  await expect(
    page.getByTestId('scenario-sources').getByRole('link', { name: /Standard Webhooks/ }),
  ).toBeVisible();
  const table = page.getByTestId('webhook-attacks');
  const answer = (kind: string) => table.locator(`tr[data-kind="${kind}"]`).getByTestId('attack-answer');
  await expect(answer('tampered-body')).toContainText('401');
  await expect(answer('wrong-secret')).toContainText('401');
  await expect(answer('stale-timestamp')).toContainText(/401.*timestamp too old/i);
  await expect(answer('replayed')).toContainText('200, duplicate: not processed again');
  // The race's webhook card is outlined: the check read its events.
  await expect(page.locator('[data-outlined]').first()).toBeVisible();
  await page
    .getByTestId('scenario-result')
    .screenshot({ path: join(artifactsDir, 'lesson-forged-webhook.png') });
});

test('lesson "The hybrid" meets its stated expectation', async ({ page }) => {
  test.setTimeout(90_000);
  await runScenario(
    page,
    'hybrid',
    'The hybrid: a quick task in one request, a slow one handed to push',
    60_000,
  );
  await expect(page.getByTestId('scenario-sources').getByRole('link', { name: /RFC 7240/ })).toBeVisible();
  // The cards show the last race, the slow task: the hybrid's card says it took the push path.
  const cards = page.getByRole('region', { name: 'Lane results' });
  await expect(cards).toContainText('202 → SSE');
  await expect(page.locator('[data-outlined]').first()).toBeVisible();
  await page.getByTestId('scenario-result').screenshot({ path: join(artifactsDir, 'lesson-hybrid.png') });
  await cards.screenshot({ path: join(artifactsDir, 'lesson-hybrid-cards.png') });
});

test('lesson "Cancel: from the page to the task" meets its stated expectation', async ({ page }) => {
  test.setTimeout(90_000);
  const { why } = await runScenario(
    page,
    'cancel',
    'Cancel: from the page to the task, on every lane',
    60_000,
  );
  // Every lane's task, the blocking call's included, is named in the server's account.
  for (const lane of [
    'request/response',
    'short polling',
    'long polling',
    'SSE',
    'the webhook lane',
    'the websocket',
    'the hybrid',
  ])
    expect(why).toContain(`${lane} (`);
  await expect(page.locator('[data-outlined]').first()).toBeVisible();
  await page.getByTestId('scenario-result').screenshot({ path: join(artifactsDir, 'lesson-cancel.png') });
  await page
    .getByRole('region', { name: 'Lane results' })
    .screenshot({ path: join(artifactsDir, 'lesson-cancel-cards.png') });
});

test('lesson "A proxy\'s idle timeout" meets its stated expectation', async ({ page }) => {
  test.setTimeout(90_000);
  await runScenario(
    page,
    'idle-timeout',
    "A proxy's idle timeout: the heartbeat that keeps a quiet stream",
    60_000,
  );
  const sources = page.getByTestId('scenario-sources');
  await expect(sources.getByRole('link', { name: /proxy_read_timeout/ })).toBeVisible();
  await expect(sources.getByRole('link', { name: /WHATWG HTML/ })).toBeVisible();
  await expect(page.locator('[data-outlined]').first()).toBeVisible();
  await page
    .getByTestId('scenario-result')
    .screenshot({ path: join(artifactsDir, 'lesson-idle-timeout.png') });
  await page
    .getByRole('region', { name: 'Lane results' })
    .screenshot({ path: join(artifactsDir, 'lesson-idle-timeout-cards.png') });
});

test('lesson "A token that expires during a long-lived stream" meets its stated expectation', async ({
  page,
}) => {
  test.setTimeout(90_000);
  await runScenario(page, 'expiring-token', 'A token that expires during a long-lived stream', 45_000);
  await expect(page.getByTestId('scenario-sources').getByRole('link', { name: /RFC 6750/ })).toBeVisible();
  await page
    .getByTestId('scenario-result')
    .screenshot({ path: join(artifactsDir, 'lesson-expiring-token.png') });
});
