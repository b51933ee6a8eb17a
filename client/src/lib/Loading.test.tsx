import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Loading } from './Loading.tsx';

afterEach(cleanup);

describe('Loading', () => {
  it('is a polite status that names what is on its way', () => {
    render(<Loading what="the race page" />);
    const status = screen.getByRole('status');
    expect(status.textContent).toBe('Loading the race page…');
    // role="status" is polite by definition; no aria-live="assertive" may override it.
    expect(status.getAttribute('aria-live')).not.toBe('assertive');
  });
});
