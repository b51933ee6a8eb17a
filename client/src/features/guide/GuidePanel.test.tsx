import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { LANE_IDS } from '@transport-lab/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GuideEntry } from '../race/GuideEntry.tsx';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

/** Opens the guide from its place on the race page and waits for its lazily loaded questionnaire. */
async function openGuide() {
  render(<GuideEntry />);
  const open = screen.getByRole('button', { name: 'Open the decision guide' });
  expect(open.getAttribute('aria-expanded')).toBe('false');
  fireEvent.click(open);
  expect(screen.getByRole('button', { name: 'Close the decision guide' }).getAttribute('aria-expanded')).toBe(
    'true',
  );
  // The first import of the lazy view is transformed on demand by vitest: over a second on a loaded
  // machine, past findBy's default wait of 1 s.
  return screen.findByLabelText('Typical duration (s)', {}, { timeout: 10_000 });
}

const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label, { exact: true }), { target: { value } });

describe('the decision guide view', () => {
  it('loads on first need, ranks every lane for the answers, and says the plan', async () => {
    await openGuide();
    type('Typical duration (s)', '0.05');
    type('Worst duration (s)', '0.2');
    fireEvent.click(screen.getByRole('button', { name: 'Rank the lanes' }));
    const ranking = screen.getByTestId('guide-ranking');
    const lanes = within(ranking).getByRole('list', { name: 'Lanes ranked for these answers' });
    expect(lanes.querySelectorAll(':scope > li')).toHaveLength(LANE_IDS.length);
    expect(lanes.querySelector('li')?.getAttribute('data-lane')).toBe('request-response');
    expect(screen.getByTestId('guide-plan').getAttribute('data-kind')).toBe('single');
    // Reasons are marked for and against in words for a screen reader, not by a sign alone.
    expect(within(lanes).getAllByText('For:', { exact: false }).length).toBeGreaterThan(0);
  });

  it('says a bad answer beside its field and ranks nothing', async () => {
    await openGuide();
    type('Typical duration (s)', '10');
    type('Worst duration (s)', '5');
    fireEvent.click(screen.getByRole('button', { name: 'Rank the lanes' }));
    const worst = screen.getByLabelText('Worst duration (s)');
    expect(worst.getAttribute('aria-invalid')).toBe('true');
    const error = document.getElementById(worst.getAttribute('aria-describedby')?.split(' ')[0] ?? '');
    expect(error?.textContent).toBe(
      'The worst duration: the worst case cannot be shorter than the typical one.',
    );
    expect(error?.getAttribute('role')).toBe('alert');
    expect(screen.queryByTestId('guide-ranking')).toBeNull();
  });

  it('exports the decision record as Markdown, saying when Prove it has not run', async () => {
    let saved: Blob | undefined;
    Object.assign(URL, {
      createObjectURL: vi.fn((blob: Blob) => {
        saved = blob;
        return 'blob:record';
      }),
      revokeObjectURL: vi.fn(),
    });
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    await openGuide();
    fireEvent.click(screen.getByLabelText('another server'));
    fireEvent.click(screen.getByLabelText('a browser'));
    fireEvent.click(screen.getByRole('button', { name: 'Rank the lanes' }));
    fireEvent.click(screen.getByRole('button', { name: 'Export decision record (Markdown)' }));
    expect(click).toHaveBeenCalledTimes(1);
    expect(saved?.type).toBe('text/markdown');
    const markdown = await saved?.text();
    expect(markdown).toContain('| consumers | another server |');
    expect(markdown).toContain('Not run: these figures are rules of thumb');
    expect(screen.getByTestId('guide-export-status').textContent).toContain('without measurements');
  });
});
