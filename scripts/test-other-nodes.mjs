// `node scripts/test-other-nodes.mjs [22 24 …]` (.ci/run, after `npm test` on the machine's Node): for each
// Node major, the server's and the shared package's unit + integration suites and a smoke start
// (`/healthz` answers) under that Node, whose binary comes from the npm registry's `node` package
// (the binary and its headers, for better-sqlite3's native build), installed under the OS's temp folder.
//
// Each version runs in its own copy of the checkout (the tracked and untracked-but-not-ignored files,
// under the OS's temp folder) with its own `pnpm install`: better-sqlite3's compiled module loads in one
// Node ABI only (NODE_MODULE_VERSION), so the checkout's node_modules, built for the machine's Node,
// must not be rebuilt in place. Each copy also has a pnpm store of its own (below), and compiles its
// own better-sqlite3 (≈ 2–5 min on 2 cores).
//
// The last line is `other nodes: 22 passed, 24 passed` (or `failed (unit, smoke)`, naming the steps);
// exit code 1 when any failed. Every step has a time limit, so a hung suite cannot use up CI's 90 minutes.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { installRegistryNode, root } from './pnpm.mjs';

const MINUTE_MS = 60_000;
const LIMITS_MS = { install: 15 * MINUTE_MS, unit: 25 * MINUTE_MS, smoke: 2 * MINUTE_MS };
// `--skip-unit`: install and smoke start only (a quick look at a Node; CI runs everything).
const skipUnit = process.argv.includes('--skip-unit');
const majors = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const versions = majors.length > 0 ? majors : ['22', '24'];

const header = (text) => console.log(`\n==> ${text}`);

/** A copy of the checkout's files (not node_modules, not .git, not what .gitignore ignores) in `dir`. */
function copyCheckout(dir) {
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (files.status !== 0) throw new Error('git ls-files failed');
  // tar keeps the modes and folders; --ignore-failed-read skips a file deleted but not yet committed.
  const pack = spawnSync('tar', ['--null', '--ignore-failed-read', '-T', '-', '-cf', '-'], {
    cwd: root,
    input: files.stdout,
    maxBuffer: 1024 * 1024 * 1024,
  });
  if (pack.status !== 0) throw new Error(`tar failed: ${pack.stderr}`);
  const unpack = spawnSync('tar', ['-xf', '-', '-C', dir], { input: pack.stdout });
  if (unpack.status !== 0) throw new Error(`tar -x failed: ${unpack.stderr}`);
}

/** Runs a command to its end or its time limit; resolves with its exit code (a timeout is 124). */
function run(command, args, { cwd, env, limitMs }) {
  return new Promise((resolve) => {
    // Its own process group, so that a timeout stops the command's children (vitest's workers) too.
    const child = spawn(command, args, { cwd, env, stdio: 'inherit', detached: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(
        `transport-lab: ${command} ${args.join(' ')} passed its ${limitMs / MINUTE_MS} min limit`,
      );
      process.kill(-child.pid, 'SIGKILL');
    }, limitMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(timedOut ? 124 : (code ?? (signal ? 1 : 0)));
    });
  });
}

/** Starts the server (its supervisor, main.ts) on a free port: `/healthz` answers 200, and a task runs. */
async function smokeStart(node, dir, env) {
  const dataDir = mkdtempSync(join(tmpdir(), 'transport-lab-smoke-'));
  const server = spawn(node, ['--import', 'tsx', 'src/main.ts'], {
    cwd: join(dir, 'server'),
    env: { ...env, PORT: '0', RECEIVER_PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let output = '';
  try {
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address printed within 60 s:\n${output}`)), 60_000);
      server.stdout.on('data', (chunk) => {
        process.stdout.write(chunk);
        output += chunk;
        // serve.ts: `Transport Lab listening on http://localhost:<port>`.
        const match = /listening on http:\/\/[^\s:]+:(\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      server.on('exit', (code) => reject(new Error(`the server exited (code ${code}) before listening`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
    console.log(`GET /healthz → ${health.status} ${await health.text()}`);
    if (health.status !== 200) throw new Error(`/healthz answered ${health.status}`);
    // One task run to its end over request/response: the store's writes on this Node's better-sqlite3.
    const run = await fetch(`${base}/api/tasks/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ durationMs: 500, steps: 5 }),
      signal: AbortSignal.timeout(30_000),
    });
    const result = await run.text();
    console.log(`POST /api/tasks/run → ${run.status} ${result.slice(0, 200)}`);
    if (run.status !== 200) throw new Error(`POST /api/tasks/run answered ${run.status}`);
    return 0;
  } catch (error) {
    console.error(`transport-lab: smoke start failed: ${error.message}`);
    return 1;
  } finally {
    if (server.exitCode === null) process.kill(-server.pid, 'SIGTERM');
    await new Promise((resolve) => (server.exitCode === null ? server.on('exit', resolve) : resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function testOn(major) {
  const timings = [];
  const step = async (name, body) => {
    const started = performance.now();
    const code = await body();
    const seconds = (performance.now() - started) / 1000;
    timings.push(`${name} ${seconds.toFixed(0)} s`);
    console.log(
      `node ${major}: ${name} ${code === 0 ? 'passed' : `failed (exit code ${code})`} (${seconds.toFixed(1)} s)`,
    );
    return code;
  };
  header(`Node ${major}: npm install node@${major}`);
  const node = installRegistryNode(major, join(tmpdir(), `transport-lab-node${major}-bin`));
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`${version}: ${node}`);
  const dir = join(tmpdir(), `transport-lab-node${major}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyCheckout(dir);
  // This Node first on PATH: pnpm (through npx), node-gyp and vitest's workers all run on it; the
  // scripts pick the headers for better-sqlite3 (pnpm.mjs: its own, or 24.18.1's on Node 24.19+).
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH}` };
  delete env.npm_config_nodedir;
  const opts = (limitMs) => ({ cwd: dir, env, limitMs });

  // A pnpm store of this Node's own (kept between runs), set in the copy's pnpm-workspace.yaml (pnpm 12
  // reads settings there only): pnpm caches a package's build per Node major, not per set of headers,
  // so a build made here never reaches the checkout's store, nor the reverse.
  const store = join(tmpdir(), `transport-lab-node${major}-store`);
  appendFileSync(join(dir, 'pnpm-workspace.yaml'), `\nstoreDir: ${JSON.stringify(store)}\n`);

  const failed = [];
  header(`Node ${major} [1/3] install: pnpm install --frozen-lockfile (in ${dir}, store ${store})`);
  // installWorkspace stamps the install, so that the later steps' run-pnpm.mjs finds it current.
  const install = "import { installWorkspace } from './scripts/pnpm.mjs'; await installWorkspace();";
  if (
    (await step('install', () =>
      run(node, ['--input-type=module', '-e', install], opts(LIMITS_MS.install)),
    )) !== 0
  ) {
    failed.push('install');
  }
  // After an install, every step runs even when one before failed: the log then says each one's state.
  if (failed.length === 0 && !skipUnit) {
    header(`Node ${major} [2/3] unit + integration: vitest run --project server --project shared`);
    // Under with-redis.sh, as `npm test` runs them: the Redis store's tests need one.
    const vitest = [
      'scripts/with-redis.sh',
      node,
      'scripts/run-pnpm.mjs',
      'exec',
      'vitest',
      'run',
      '--project',
      'server',
      '--project',
      'shared',
    ];
    if ((await step('unit', () => run('bash', vitest, opts(LIMITS_MS.unit)))) !== 0) failed.push('unit');
  }
  if (!failed.includes('install')) {
    header(`Node ${major} [3/3] smoke start: server/src/main.ts, GET /healthz`);
    if ((await step('smoke', () => smokeStart(node, dir, env))) !== 0) failed.push('smoke');
  }
  const outcome = failed.length > 0 ? `failed (${failed.join(', ')})` : 'passed';
  console.log(`node ${major} (${version}): ${outcome}; ${timings.join(', ')}`);
  // A failed version's copy stays, to look into; the next run starts from a fresh one anyway.
  if (failed.length === 0) rmSync(dir, { recursive: true, force: true });
  return `${major} ${outcome}`;
}

const results = [];
for (const major of versions) results.push(await testOn(major));
console.log(`\nother nodes: ${results.join(', ')}`);
process.exit(results.every((result) => result.endsWith('passed')) ? 0 : 1);
