import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'server',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests start real servers and child processes; 2 cores, so keep it modest.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
