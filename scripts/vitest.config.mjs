import { defineProject } from 'vitest/config';

// The tests of `npm start`'s and `npm test`'s own scripts (which Chromium, which Node, when to install).
export default defineProject({
  test: {
    name: 'scripts',
    include: ['**/*.test.mjs'],
    // One test runs the real Playwright installer against an unreachable download host: it retries for
    // ≈ 20 s before it gives up.
    testTimeout: 90_000,
  },
});
