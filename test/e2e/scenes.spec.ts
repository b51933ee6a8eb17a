// The scenes people hit in production (issue 15, item 5) that need a server or a browser of their own,
// apart from scenarios.spec.ts. The dead socket runs on a short heartbeat (SOCKET_PING_INTERVAL_MS,
// SOCKET_PING_TIMEOUT_MS: server settings, which the server hands each client in its handshake and the
// page reads from GET /api/settings), so that it notices in seconds rather than socket.io's 20–45 s.
//
// The background tab must be hidden for real, which a Playwright page never is (Playwright's focus
// emulation keeps its pages visible, whichever tab is in front): it runs in a Chromium driven over the
// DevTools protocol alone (fixtures/rawChromium.ts), where bringing another tab to the front hides it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchRawChromium } from '../fixtures/rawChromium.ts';
import { runGuidedScenario } from '../fixtures/scenario.ts';
import { artifactsDir } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

test.use({
  serverEnv: {
    MAX_EVENT_LOOP_DELAY_MS: '60000',
    SOCKET_PING_INTERVAL_MS: '4000',
    SOCKET_PING_TIMEOUT_MS: '3000',
  },
});

async function runScenario(
  page: import('@playwright/test').Page,
  id: string,
  title: string,
  budgetMs: number,
) {
  const result = await runGuidedScenario(page, id, title, budgetMs, async () => {
    await expect(page.getByTestId('learn-more').getByRole('link').first()).toBeVisible();
  });
  await page.getByTestId('scenario-result').screenshot({ path: join(artifactsDir, `scenario-${id}.png`) });
  await page
    .getByRole('region', { name: 'Lane results' })
    .screenshot({ path: join(artifactsDir, `scenario-${id}-cards.png`) });
  return result;
}

test('scenario "dead socket": connected but dead until the heartbeat notices, then resumed without loss', async ({
  page,
}) => {
  test.setTimeout(90_000);
  // runGuidedScenario has checked the verdict: "As expected", with a why line of figures.
  const { why } = await runScenario(
    page,
    'dead-socket',
    'A network switch: the socket still says "connected", the heartbeat notices',
    60_000,
  );
  // The why line names the heartbeat the server set here and socket.io's reason.
  expect(why).toContain('a ping every 4 000 ms, 3 000 ms to answer');
  expect(why).toContain('(ping timeout)');
  await expect(page.locator('[data-outlined]').first()).toBeVisible();
});

test('scenario "background tab": hidden for real, short polling slows to once a second, pushes arrive undrawn', async ({
  baseURL,
}) => {
  test.setTimeout(120_000);
  const chromium = await launchRawChromium();
  try {
    const tab = await chromium.open(`${baseURL}/`);
    const until = async (what: string, expression: string, timeoutMs: number) => {
      for (const started = Date.now(); ; ) {
        if (await chromium.evaluate<boolean>(tab, expression).catch(() => false)) return;
        if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    await until('the scenario picker', `!!document.getElementById('scenario-choice')`, 30_000);
    await chromium.evaluate(
      tab,
      `(() => {
        const select = document.getElementById('scenario-choice');
        select.value = 'background-tab';
        select.dispatchEvent(new Event('change', { bubbles: true }));
        return true;
      })()`,
    );
    await until(
      'the scenario chosen',
      `document.querySelector('[data-testid=scenario-text]').textContent.includes('switch to another tab')`,
      5_000,
    );
    await chromium.evaluate(
      tab,
      `[...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Run scenario').click() ?? true`,
    );
    // The measured race (after the page's unmeasured warm-up), then 2.5 s of it visible: its polls' pace.
    await until(
      'the race',
      `document.querySelector('[data-testid=scenario-status]').textContent.startsWith('Step 1 of 1')`,
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    // Another tab in front: the scenario's page is hidden, as a person switching tabs hides it.
    const other = await chromium.open('about:blank');
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expect(await chromium.evaluate<string>(tab, 'document.visibilityState')).toBe('hidden');
    await chromium.activate(tab);
    expect(await chromium.evaluate<string>(tab, 'document.visibilityState')).toBe('visible');
    expect(other).not.toBe(tab);
    await until('the verdict', `!!document.querySelector('[data-testid=scenario-verdict]')`, 60_000);
    const verdict = await chromium.evaluate<{
      ok: string;
      text: string;
      why: string;
      box: { x: number; y: number; width: number; height: number };
    }>(
      tab,
      `(() => {
        const result = document.querySelector('[data-testid=scenario-result]');
        result.scrollIntoView();
        const r = result.getBoundingClientRect();
        return {
          ok: document.querySelector('[data-testid=scenario-verdict]').getAttribute('data-ok'),
          text: document.querySelector('[data-testid=scenario-verdict]').textContent,
          why: document.querySelector('[data-testid=scenario-why]').textContent,
          box: { x: r.x + window.scrollX, y: r.y + window.scrollY, width: r.width, height: r.height },
        };
      })()`,
    );
    console.log(`VERDICT background-tab: ${verdict.text}`);
    console.log(`WHY background-tab: ${verdict.why}`);
    writeFileSync(
      join(artifactsDir, 'scenario-background-tab.png'),
      await chromium.screenshot(tab, verdict.box),
    );
    expect(verdict.ok, `${verdict.text}\n${verdict.why}`).toBe('true');
    expect(verdict.text).toContain('As expected');
    expect(verdict.why).toMatch(/hidden from \d/);
  } finally {
    await chromium.close();
  }
});
