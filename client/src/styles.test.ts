import { describe, expect, it } from 'vitest';
import css from './styles.css?raw';

describe('styles.css', () => {
  it('animates no progress: every transition is none', () => {
    const transitions = [...css.matchAll(/transition:\s*([^;]+);/g)].map((m) => m[1]?.trim());
    expect(transitions.length).toBeGreaterThan(0);
    expect(transitions.every((value) => value === 'none')).toBe(true);
    expect(css).toMatch(/\.progress-fill\s*\{[^}]*transition:\s*none/);
  });

  it('plays its one animation only when reduced motion was not asked for', () => {
    const animations = [...css.matchAll(/animation:\s*[^;]+;/g)];
    expect(animations).toHaveLength(1);
    const guarded = css.slice(css.indexOf('@media (prefers-reduced-motion: no-preference)'));
    expect(guarded).toMatch(/animation:\s*pulse/);
  });
});
