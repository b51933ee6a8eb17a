import { join } from 'node:path';
import type { LaneId } from '@transport-lab/shared';
import { RoomParticipantPage, RoomPresenterPage } from '../fixtures/roomPage.ts';
import { artifactsDir } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

const LANES_RACED = ['short-polling', 'sse', 'websocket'] as const satisfies readonly LaneId[];
const SETTINGS = `durationMs=1000&steps=5&lanes=${LANES_RACED.join(',')}`;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } as const;
const PHONES = ['Phone A', 'Phone B'] as const;

test.describe('rooms in Chromium: a presenter (desktop) and phones (390×844, touch)', () => {
  test.setTimeout(120_000);

  test('phones join by code, the presenter starts for everyone, both results reach the aggregate', async ({
    page,
    browser,
    server,
  }) => {
    const presenter = new RoomPresenterPage(page);
    await presenter.goto(SETTINGS);
    const code = await presenter.create();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    await expect(page.getByTestId('room-qr')).toBeVisible();
    await expect(page.getByTestId('room-link')).toHaveValue(`${server.url}/?room=${code.replace('-', '')}`);

    // Two phones of their own (separate contexts: nothing shared but the server).
    const contexts = await Promise.all(
      PHONES.map(() => browser.newContext({ ...PHONE, baseURL: server.url })),
    );
    try {
      const phones = await Promise.all(
        contexts.map(async (context) => new RoomParticipantPage(await context.newPage())),
      );
      const [phoneA, phoneB] = phones as [RoomParticipantPage, RoomParticipantPage];
      // One follows the link (the QR code's), the other types the code, lower case and without the dash.
      const link = await page.getByTestId('room-link').inputValue();
      await phoneA.openLink(link);
      await expect(phoneA.codeField).toHaveValue(code);
      await phoneA.page.screenshot({ path: join(artifactsDir, 'room-phone-join.png') });
      await phoneA.join(PHONES[0]);
      await phoneB.joinByCode(code.replace('-', '').toLowerCase(), PHONES[1]);
      for (const phone of phones)
        await expect(phone.status).toHaveText('Waiting for the presenter to start the race.');

      // Presence: three people, two of them phones, each with the clock its page measured.
      await expect(presenter.presenceSummary).toContainText('3 in the room, 3 connected');
      await expect(presenter.presenceSummary).toContainText('2 phones');
      for (const name of PHONES) {
        const row = page.getByTestId('room-participant').filter({ hasText: name });
        await expect(row).toContainText('Phone');
        await expect(row).toContainText(/[+-]\d+\.\d ms ± \d+\.\d ms/);
      }

      // A presenter who reloads keeps the rights: the secret stayed in this browser, a fresh proof goes out.
      await page.reload();
      await expect(presenter.code).toHaveText(code);
      await expect(presenter.startButton).toBeEnabled();
      await expect(presenter.presenceSummary).toContainText('3 in the room, 3 connected');

      await presenter.startButton.click();

      // Each phone races the room's scenario from its own page, then reports.
      for (const phone of phones) {
        await expect(phone.status).toHaveAttribute('data-state', 'reported', { timeout: 30_000 });
        for (const lane of LANES_RACED)
          await expect(phone.card(lane)).toHaveAttribute('data-status', 'succeeded');
        await expect(phone.progress).toContainText(/of 2 reported/);
      }
      await expect(presenter.reported).toHaveText('2');
      await expect(presenter.expected).toHaveText('2');
      for (const lane of LANES_RACED) await expect(presenter.laneCount(lane)).toHaveText('2');

      // The room's numbers are the phones' own: each phone's table figure appears for it in the aggregate.
      await presenter.openEveryone();
      for (const [i, phone] of phones.entries()) {
        const name = PHONES[i] as string;
        for (const lane of LANES_RACED) {
          const own = await phone.ownTotalPerceived(lane).getAttribute('data-value');
          expect(own, `${name} ${lane}: its own table has a figure`).toMatch(/^\d+\.\d$/);
          await expect(presenter.everyoneValue(name, lane)).toHaveAttribute('data-value', own as string);
        }
      }
      // The median is nearest-rank: one of the phones' own figures, never an average of them.
      for (const lane of LANES_RACED) {
        const figures = await Promise.all(
          phones.map((phone) => phone.ownTotalPerceived(lane).getAttribute('data-value')),
        );
        const median = await presenter.lane(lane).getByTestId('aggregate-median').getAttribute('data-value');
        expect(figures, `${lane}: the median is a phone's figure`).toContain(median);
      }

      await presenter.projectorToggle.click();
      await expect(page.locator('html')).toHaveAttribute('data-view', 'projector');
      await page.setViewportSize({ width: 1920, height: 1080 });
      await page.screenshot({ path: join(artifactsDir, 'room-presenter-projector.png'), fullPage: true });
      await phoneA.page.screenshot({ path: join(artifactsDir, 'room-phone.png'), fullPage: true });
      await phoneA.page.evaluate(() => window.scrollTo(0, 0));
      await phoneA.page.screenshot({ path: join(artifactsDir, 'room-phone-top.png') });
    } finally {
      await Promise.all(contexts.map((context) => context.close()));
    }
  });

  test('a code no room has is refused clearly, in words and with its code', async ({ browser, server }) => {
    const context = await browser.newContext({ ...PHONE, baseURL: server.url });
    try {
      const phone = new RoomParticipantPage(await context.newPage());
      await phone.openLink('/?room=ZZZZ-ZZZZ');
      await phone.joinButton.tap();
      const alert = phone.page.getByRole('alert');
      await expect(alert).toContainText('Could not join: No room has this code.');
      await expect(alert).toContainText('NOT_FOUND');
      // Still on the join form, to correct the code.
      await expect(phone.codeField).toHaveValue('ZZZZ-ZZZZ');
      await expect(phone.joinButton).toBeEnabled();
    } finally {
      await context.close();
    }
  });
});
