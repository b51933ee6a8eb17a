// `npm test`: the one command that takes a machine with only Node and npm to a full check of the project.
// It checks the Node version, installs the workspace when the lockfile changed since the last install,
// finds (or installs) a Chromium and nginx when e2e runs (scripts/chromium.mjs, scripts/cluster/nginx.mjs),
// then runs the stages below in order, stopping at the first that fails (with its exit code). The last
// line is always `tests: N passed, N failed` (`, N skipped` when some were), counted from vitest's and
// Playwright's JSON reports.
//
// Select stages by name after `--`, e.g. `npm test -- e2e` or `npm test -- typecheck lint`; they still run
// in the order below. `e2e` brings `build` with it, because the specs load the built client/dist.
// Stages: typecheck, lint, unit (vitest: shared, server, client, scripts, and the bench's arithmetic in test/), build, e2e (Playwright in test/).
// The build stage ends with scripts/bundle-budget.mjs: it fails when a phone's first load of scripts
// (the entry and its static imports, gzipped) is over the budget set there.
// First: it stops with what to install when this Node is not a tested one.
import './node-version.mjs';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureChromium } from './chromium.mjs';
import { ensureNginx } from './cluster/nginx.mjs';
import { ensureWorkspace, root, runPnpm } from './pnpm.mjs';

const artifacts = join(root, 'test', 'artifacts');
const vitestReport = join(artifacts, 'vitest.json');
// The same path is set for Playwright's JSON reporter in test/playwright.config.ts.
const playwrightReport = join(artifacts, 'playwright.json');

const STAGES = [
  { name: 'typecheck', title: 'typecheck: pnpm -r run typecheck', args: ['-r', 'run', 'typecheck'] },
  { name: 'lint', title: 'lint: biome check .', args: ['exec', 'biome', 'check', '.'] },
  {
    name: 'unit',
    title: 'unit + integration: vitest run (shared, server, client, scripts, bench)',
    args: [
      'exec',
      'vitest',
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${vitestReport}`,
    ],
  },
  {
    name: 'build',
    title: 'client build: vite build → client/dist, then the first load within its budget',
    args: ['--filter', '@transport-lab/client', 'run', 'build'],
    // Then, on the build just made: the audience's first load within its budget.
    after: join(root, 'scripts', 'bundle-budget.mjs'),
  },
  {
    name: 'e2e',
    title: 'e2e: playwright test (test/, in Chromium)',
    args: ['--filter', '@transport-lab/e2e', 'run', 'e2e'],
  },
];

function selectStages(argv) {
  const wanted = new Set(argv);
  const unknown = [...wanted].filter((name) => !STAGES.some((stage) => stage.name === name));
  if (unknown.length > 0) {
    console.error(
      `transport-lab: unknown stage ${unknown.join(', ')}; choose from ${STAGES.map((s) => s.name).join(', ')}.`,
    );
    process.exit(2);
  }
  if (wanted.size === 0) return STAGES;
  if (wanted.has('e2e')) wanted.add('build');
  return STAGES.filter((stage) => wanted.has(stage.name));
}

/** Runs a Node script of this repository with this Node; resolves to its exit code. */
function runNode(script) {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [script], { stdio: 'inherit' });
    child.on('error', () => resolvePromise(1));
    child.on('close', (code) => resolvePromise(code ?? 1));
  });
}

function header(text) {
  console.log(`\n==> ${text}`);
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Totals from the JSON reports of the runners that ran; a runner that wrote no report counts nothing. */
function countTests() {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const vitest = readJson(vitestReport);
  if (vitest) {
    totals.passed += vitest.numPassedTests ?? 0;
    totals.failed += vitest.numFailedTests ?? 0;
    totals.skipped += (vitest.numPendingTests ?? 0) + (vitest.numTodoTests ?? 0);
  }
  const playwright = readJson(playwrightReport)?.stats;
  if (playwright) {
    // `flaky` passed on a retry; retries are off (test/playwright.config.ts), so it stays 0.
    totals.passed += (playwright.expected ?? 0) + (playwright.flaky ?? 0);
    totals.failed += playwright.unexpected ?? 0;
    totals.skipped += playwright.skipped ?? 0;
  }
  return totals;
}

function summary() {
  const { passed, failed, skipped } = countTests();
  return `tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

const stages = selectStages(process.argv.slice(2));

// The Redis store's tests need a Redis (server/test/redisForTests.ts): run the whole of this under
// scripts/with-redis.sh, which uses REDIS_URL, else the one on 6379, else starts Debian's redis-server
// for this run (installed with apt-get as root) and stops it after. Once.
if (
  stages.some((stage) => stage.name === 'unit') &&
  !process.env.REDIS_URL &&
  !process.env.TRANSPORT_LAB_WITH_REDIS &&
  process.platform !== 'win32' &&
  spawnSync('sh', ['-c', 'command -v bash'], { stdio: 'ignore' }).status === 0
) {
  const wrapped = spawnSync(
    'bash',
    [join(root, 'scripts', 'with-redis.sh'), process.execPath, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, TRANSPORT_LAB_WITH_REDIS: '1' } },
  );
  process.exit(wrapped.status ?? 1);
}

await ensureWorkspace();
// The stages see the Chromium found here as CHROMIUM_PATH (test/fixtures/chromium.ts launches it).
const stageEnv = {};
if (stages.some((stage) => stage.name === 'e2e')) {
  const chromium = await ensureChromium();
  header(`Chromium (${chromium.source}): ${chromium.path}`);
  stageEnv.CHROMIUM_PATH = chromium.path;
  // e2e/cluster.spec.ts runs the lab behind a real nginx: Debian's, installed here when missing (as
  // Chromium is); without one, and no way to install it, stop now with what to install.
  try {
    header(`nginx: ${ensureNginx()}`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}

// Reports from an earlier run must not be counted as this run's.
mkdirSync(artifacts, { recursive: true });
rmSync(vitestReport, { force: true });
rmSync(playwrightReport, { force: true });

let exitCode = 0;
for (const [index, stage] of stages.entries()) {
  header(`[${index + 1}/${stages.length}] ${stage.title}`);
  const started = performance.now();
  let code = await runPnpm(stage.args, { env: stageEnv });
  if (code === 0 && stage.after) code = await runNode(stage.after);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (code !== 0) {
    const skipped = stages.length - index - 1;
    const rest = skipped > 0 ? `; ${skipped} later stage${skipped === 1 ? ' was' : 's were'} not run` : '';
    console.log(`\n${stage.name} failed (exit code ${code}, ${seconds} s)${rest}.`);
    exitCode = code;
    break;
  }
  console.log(`${stage.name} passed (${seconds} s)`);
}

console.log(`\n${summary()}`);
process.exit(exitCode);
