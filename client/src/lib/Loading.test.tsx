import { cleanup, render, screen } from '@testing-library/preact';
import { lazy } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Loading, OnFirstNeed } from './Loading.tsx';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('Loading', () => {
  it('is a polite status that names what is on its way', () => {
    render(<Loading what="the race page" />);
    const status = screen.getByRole('status');
    expect(status.textContent).toBe('Loading the race page…');
    // role="status" is polite by definition; no aria-live="assertive" may override it.
    expect(status.getAttribute('aria-live')).not.toBe('assertive');
  });
});

describe('OnFirstNeed', () => {
  it('says it is loading until the part arrives, then shows the part', async () => {
    let arrive: (module: { default: () => React.JSX.Element }) => void = () => {};
    const Part = lazy(
      () =>
        new Promise<{ default: () => React.JSX.Element }>((resolve) => {
          arrive = resolve;
        }),
    );
    render(
      <OnFirstNeed what="the board">
        <Part />
      </OnFirstNeed>,
    );
    expect((await screen.findByRole('status')).textContent).toBe('Loading the board…');
    arrive({ default: () => <p>the board itself</p> });
    expect(await screen.findByText('the board itself')).toBeTruthy();
    expect(screen.queryByRole('status')).toBeNull();
  });

  it('says in an alert that the part could not be loaded, and keeps the rest of the page', async () => {
    // React reports the caught error on the console; it is the expected one here.
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const Part = lazy(() => Promise.reject(new Error('Failed to fetch dynamically imported module')));
    render(
      <main>
        <h1>Room</h1>
        <OnFirstNeed what="the shared board">
          <Part />
        </OnFirstNeed>
      </main>,
    );
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe(
      'Could not load the shared board (Failed to fetch dynamically imported module). Reload the page to try again.',
    );
    expect(screen.getByRole('heading', { name: 'Room' })).toBeTruthy();
  });
});
