import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './fixtures/chromium.ts';

export default defineConfig({
  testDir: '.',
  testMatch: ['e2e/**/*.spec.ts', 'smoke/**/*.spec.ts'],
  // Everything a run leaves behind lives under test/artifacts/ (git-ignored).
  outputDir: 'artifacts/test-results',
  // One in-process server per worker (fixtures/test.ts); one worker keeps the machine quiet for the
  // perceived-latency numbers the specs read, and the run is short anyway.
  workers: 1,
  fullyParallel: false,
  // A retry would turn a real failure into "flaky" and hide it; `.only` must never reach a run.
  retries: 0,
  forbidOnly: true,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  // scripts/test.mjs reads artifacts/playwright.json for its `tests: N passed, N failed` line.
  reporter: [['list'], ['json', { outputFile: 'artifacts/playwright.json' }]],
  use: {
    browserName: 'chromium',
    headless: true,
    locale: 'en-US',
    viewport: { width: 1280, height: 800 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: chromiumLaunchOptions,
  },
});
