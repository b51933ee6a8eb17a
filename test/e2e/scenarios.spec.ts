// Each guided scenario, run from the page in one click: the page sets the task, the lanes, the network
// and the faults, runs the race(s), and checks its stated expectation against what it measured. The
// spec checks that the page says "As expected", and leaves screenshots of the 3G race and the sweep.
import { join } from 'node:path';
import { artifactsDir } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

const SCENARIOS = [
  { id: 'blocking-wins', title: 'A 50 ms operation: the blocking call wins', budgetMs: 30_000 },
  { id: 'push-wins', title: 'A 20 s report: push wins, polling wastes requests', budgetMs: 60_000 },
  { id: 'interval-sweep', title: 'The polling interval sweep: freshness against requests', budgetMs: 60_000 },
  { id: 'flaky-network', title: 'A flaky network: who resumes and who starts over', budgetMs: 45_000 },
  { id: 'receiver-down', title: 'The receiver is down: webhooks retry, nothing is lost', budgetMs: 45_000 },
  { id: '3g-phone', title: 'A 3G phone: headers and round trips dominate', budgetMs: 60_000 },
  {
    id: 'buffering-proxy',
    title: 'A proxy that buffers: why SSE needs X-Accel-Buffering: no',
    budgetMs: 45_000,
  },
] as const;

const SCREENSHOTS: Partial<Record<(typeof SCENARIOS)[number]['id'], string>> = {
  '3g-phone': 'scenario-3g-race.png',
  'interval-sweep': 'scenario-interval-sweep.png',
};

for (const scenario of SCENARIOS) {
  test(`scenario "${scenario.title}" meets its stated expectation`, async ({ page }) => {
    test.setTimeout(scenario.budgetMs + 30_000);
    await page.goto('/');
    await page.getByLabel('Scenario', { exact: true }).selectOption(scenario.id);
    await expect(page.getByTestId('scenario-text')).toContainText('Expected:');
    await page.getByRole('button', { name: 'Run scenario' }).click();
    const verdict = page.getByTestId('scenario-verdict');
    await expect(verdict).toBeVisible({ timeout: scenario.budgetMs });
    const text = (await verdict.textContent()) ?? '';
    console.log(`VERDICT ${scenario.id}: ${text}`);
    expect(await verdict.getAttribute('data-ok'), text).toBe('true');
    expect(text).toContain('As expected');
    const shot = SCREENSHOTS[scenario.id];
    if (shot) {
      if (scenario.id === 'interval-sweep') await expect(page.getByTestId('sweep-plot')).toBeVisible();
      await page.screenshot({ path: join(artifactsDir, shot), fullPage: true });
    }
  });
}
