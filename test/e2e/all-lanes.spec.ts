import { join } from 'node:path';
import { LANE_IDS } from '@transport-lab/shared';
import { toBytes, toCount, toMs } from '../fixtures/racePage.ts';
import { artifactsDir } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

test.use({ viewport: { width: 1280, height: 900 } });

test('every lane runs one 3 s task at once and each finishes with measured figures', async ({ racePage }) => {
  const task = { durationMs: 3_000, steps: 12 };
  await racePage.goto();
  await racePage.configure({ ...task, lanes: LANE_IDS });
  for (const lane of LANE_IDS) await expect(racePage.laneToggle(lane)).toBeChecked();
  await racePage.startButton.click();

  for (const lane of LANE_IDS) {
    await expect(racePage.card(lane), `${lane} finishes`).toHaveAttribute('data-status', 'succeeded', {
      timeout: 30_000,
    });
  }
  for (const lane of LANE_IDS) {
    const text = await racePage.metricTexts(lane);
    // No lane can show the end before the task has run.
    expect(toMs(text['total-perceived']), `${lane}: total perceived`).toBeGreaterThanOrEqual(task.durationMs);
    expect(toMs(text['first-feedback']), `${lane}: first feedback`).toBeLessThanOrEqual(
      toMs(text['total-perceived']),
    );
    expect(toCount(text.requests), `${lane}: requests`).toBeGreaterThanOrEqual(1);
    expect(toBytes(text['bytes-down']), `${lane}: bytes down`).toBeGreaterThan(0);
  }

  // Lane by lane, what makes each one itself.
  const page = racePage.page;
  // Short polling at the server's 1 s Retry-After over a 3 s task: a handful of polls, counted.
  const pollRequests = await racePage.card('short-polling').getByTestId('metric-requests').textContent();
  expect(toCount(pollRequests ?? '')).toBeGreaterThan(2);
  await expect(racePage.card('short-polling').getByTestId('metric-wasted-polls')).toHaveText(/\d/);
  // Hybrid with its default 2 s wait on a 3 s task: the 202 path, then a push lane.
  await expect(racePage.card('hybrid').getByTestId('lane-path')).toHaveAttribute('data-path', 'pushed');
  // Webhook: the delivery log lists attempts, all delivered.
  const deliveries = racePage.card('webhook').getByTestId('lane-deliveries');
  await expect(deliveries).toContainText(/delivered/);
  await expect(deliveries).not.toContainText(/pending/);
  await expect(racePage.card('webhook').getByTestId('metric-delivery-hop')).toHaveText(/\d+(\.\d+)? ms/);

  await page.screenshot({ path: join(artifactsDir, 'all-lanes-desktop.png'), fullPage: true });
});

test('hybrid answers a quick task in one request, without a push lane', async ({ racePage }) => {
  await racePage.goto();
  await racePage.configure({ durationMs: 200, steps: 2, lanes: ['hybrid'] });
  for (const lane of LANE_IDS.filter((id) => id !== 'hybrid')) await racePage.laneToggle(lane).uncheck();
  await racePage.startButton.click();
  await expect(racePage.card('hybrid')).toHaveAttribute('data-status', 'succeeded', { timeout: 15_000 });
  await expect(racePage.card('hybrid').getByTestId('lane-path')).toHaveAttribute('data-path', 'answered');
  const hybridRequests = await racePage.card('hybrid').getByTestId('metric-requests').textContent();
  expect(toCount(hybridRequests ?? '')).toBe(1);
});
