import { defineProject } from 'vitest/config';

// The benchmark's own arithmetic (bench/*.test.ts): how its figures are summarised. The end-to-end
// specs (e2e/*.spec.ts) are Playwright's, not vitest's.
export default defineProject({
  test: {
    name: 'bench',
    include: ['bench/**/*.test.ts'],
  },
});
