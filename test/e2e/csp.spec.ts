import type { Page } from '@playwright/test';
import { API_PATHS, LANE_IDS, PublicSettings } from '@transport-lab/shared';
import { collectCspViolations } from '../fixtures/csp.ts';
import { RoomParticipantPage, RoomPresenterPage } from '../fixtures/roomPage.ts';
import { expect, test } from '../fixtures/test.ts';

/** A page's console errors and uncaught exceptions, as they come. */
function watchErrors(page: Page, who: string): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${who} console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`${who} uncaught: ${error.message}`));
  return errors;
}

test('under its CSP the page races every lane and a phone joins a room and opens the board: no violation, no console error', async ({
  page,
  racePage,
  browser,
  server,
  cspViolations,
}) => {
  test.setTimeout(60_000);
  const errors = watchErrors(page, 'presenter');

  // The policy is on the page, strict, and names the receiver where the page will reach it.
  const response = await page.goto('/');
  const headers = response?.headers() ?? {};
  const settings = PublicSettings.parse(await (await page.request.get(API_PATHS.settings)).json());
  const csp = headers['content-security-policy'] ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self';");
  expect(csp).toContain("style-src 'self';");
  expect(csp).toContain(`connect-src 'self' 127.0.0.1:${settings.receiver.port};`);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');

  // A short race of every lane: requests, polls, streams, the receiver's relay, socket.io.
  await racePage.startButton.waitFor();
  await racePage.configure({ durationMs: 600, steps: 3, lanes: LANE_IDS });
  await racePage.startButton.click();
  for (const lane of LANE_IDS) {
    await expect(racePage.card(lane), `${lane} finishes`).toHaveAttribute('data-status', 'succeeded', {
      timeout: 20_000,
    });
  }

  // A room: the join QR code (inline SVG) on the presenter's screen, and a phone joining by its link.
  const presenter = new RoomPresenterPage(page);
  await presenter.goto('durationMs=600&steps=3&lanes=sse,websocket');
  await presenter.create();
  await expect(page.getByTestId('room-qr')).toBeVisible();
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    baseURL: server.url,
  });
  try {
    const phoneViolations = await collectCspViolations(context);
    // Every script the phone fetches: a phone in a room never needs the race page or the presenter's
    // view, which load on first need (docs/architecture.md, "What a phone loads first"); their chunks
    // are named after their modules.
    const phoneScripts: string[] = [];
    context.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('.js')) phoneScripts.push(new URL(request.url()).pathname);
    });
    const phone = new RoomParticipantPage(await context.newPage());
    const phoneErrors = watchErrors(phone.page, 'phone');
    await phone.openLink(await page.getByTestId('room-link').inputValue());
    await phone.join('Phone');
    await expect(phone.status).toHaveText('Waiting for the presenter to start the race.');
    await expect(presenter.presenceSummary).toContainText('2 in the room, 2 connected');
    expect(phoneScripts.length).toBeGreaterThan(0);
    expect(phoneScripts.filter((path) => /\/(RacePage|PresenterView|BoardPanel)-/.test(path))).toEqual([]);
    // The shared board loads when opened, with a stylesheet of its own, both within the policy.
    await phone.page.getByRole('button', { name: 'Open the shared board' }).click();
    await expect(phone.page.getByRole('form', { name: 'Add a note' })).toBeVisible();
    expect(phoneScripts.some((path) => /\/BoardPanel-/.test(path))).toBe(true);
    // board.css applied: the panel is a grid there, a block without it.
    await expect(phone.page.locator('.board-panel')).toHaveCSS('display', 'grid');
    expect(phoneScripts.filter((path) => /\/(RacePage|PresenterView)-/.test(path))).toEqual([]);
    expect(phoneViolations).toEqual([]);
    expect(phoneErrors).toEqual([]);
  } finally {
    await context.close();
  }

  expect(cspViolations).toEqual([]);
  expect(errors).toEqual([]);
});
