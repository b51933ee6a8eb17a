import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'client',
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    // Stylesheets are read, not ignored: a test checks what the stylesheet promises (no easing).
    css: true,
  },
});
