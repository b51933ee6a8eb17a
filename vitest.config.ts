import { defineConfig } from 'vitest/config';

// Each package has its own vitest.config.ts (defineProject); a package without one would inherit
// this file and fail with "Projects definition references a non-existing file".
export default defineConfig({
  test: {
    projects: ['shared', 'server', 'client', 'scripts', 'test'],
  },
});
