// Issue 12, item 3: every figure label on the page has a definition, reachable by hover, by keyboard
// and by touch; and the glossary lists every figure. (glossary.test.ts checks that the glossary covers
// every field the JSON and CSV exports write.)
import type { Locator } from '@playwright/test';
import { LANE_IDS } from '@transport-lab/shared';
import { expect, test } from '../fixtures/test.ts';

/** The definition a figure label's ⓘ button points at, by its aria-describedby. */
async function definitionOf(button: Locator): Promise<Locator> {
  const id = await button.getAttribute('aria-describedby');
  expect(id, 'the button is described by its definition').toBeTruthy();
  return button.page().locator(`[id="${id}"]`);
}

test.describe('figure definitions', () => {
  test('every label on a card has a definition, shown on hover and on keyboard focus and Enter', async ({
    racePage,
    page,
  }) => {
    // 8 cards × 10 labels (the queue time the tenth) × 3 ways on a machine shared with other runs.
    test.setTimeout(150_000);
    await racePage.goto('view=desktop');
    for (const lane of LANE_IDS) {
      const labels = racePage.card(lane).locator('.metric dt');
      const count = await labels.count();
      expect(count, `${lane} has figure labels`).toBeGreaterThan(0);
      for (let k = 0; k < count; k++) {
        const button = labels.nth(k).getByRole('button');
        const definition = await definitionOf(button);
        await expect(definition).toBeHidden();
        await expect(definition).toHaveText(/\w.{20,}/);
        // Hover.
        await button.hover();
        await expect(definition).toBeVisible();
        await page.mouse.move(0, 0);
        await expect(definition).toBeHidden();
        // Keyboard: focus it and press Enter; Escape closes it.
        await button.press('Enter');
        await expect(definition).toBeVisible();
        await expect(button).toHaveAttribute('aria-expanded', 'true');
        await button.press('Escape');
        await expect(button).toHaveAttribute('aria-expanded', 'false');
      }
    }
  });

  test('the glossary lists every figure with its definition', async ({ racePage, page }) => {
    await racePage.goto();
    await page.getByText('Glossary: every figure').click();
    const glossary = page.getByTestId('glossary');
    await expect(glossary).toBeVisible();
    for (const term of [
      'First reply shown',
      'Result shown',
      'Completion lag',
      'Delay per update',
      'Wasted polls',
    ]) {
      await expect(glossary.locator('dt', { hasText: term }).first()).toBeVisible();
    }
    await expect(glossary).toContainText('measurements.totalPerceivedMs');
  });
});

test.describe('figure definitions on a touch screen', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });

  test('a tap on a label’s ⓘ opens its definition, another tap closes it', async ({ racePage }) => {
    await racePage.goto('view=phone');
    const labels = racePage.card('sse').locator('.metric dt');
    const count = await labels.count();
    expect(count).toBeGreaterThan(0);
    for (let k = 0; k < count; k++) {
      const button = labels.nth(k).getByRole('button');
      const definition = await definitionOf(button);
      await button.tap();
      await expect(definition, `label ${k}`).toBeVisible();
      await expect(button, `label ${k}`).toHaveAttribute('aria-expanded', 'true');
      await button.tap();
      await expect(button, `label ${k}`).toHaveAttribute('aria-expanded', 'false');
      await expect(definition, `label ${k}`).toBeHidden();
    }
  });
});
