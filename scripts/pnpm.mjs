// Runs the pinned pnpm with the environment every install here needs, so that no newcomer has to
// know either: a fresh machine has only Node and npm, and no prebuilt native binary can be downloaded.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PNPM_VERSION = '12.4.2';
export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Environment for pnpm: better-sqlite3 compiles against the system's Node headers when they exist. */
export function pnpmEnv(extra = {}) {
  const env = { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1', ...extra };
  // pnpm ignores nodedir in config files, so it must come through the environment.
  if (!env.npm_config_nodedir && existsSync('/usr/include/node/node_version.h')) {
    env.npm_config_nodedir = '/usr';
  }
  return env;
}

function globalPnpmMatches() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 && probe.stdout.trim() === PNPM_VERSION;
}

/** [command, leading args] that invoke the pinned pnpm: a matching global one, else through npx. */
export function pnpmCommand() {
  return globalPnpmMatches() ? ['pnpm', []] : ['npx', ['-y', `pnpm@${PNPM_VERSION}`]];
}

/** Runs pnpm with args in the repository root; resolves with its exit code. */
export function runPnpm(args, { env } = {}) {
  const [cmd, lead] = pnpmCommand();
  return new Promise((resolve) => {
    const child = spawn(cmd, [...lead, ...args], { cwd: root, stdio: 'inherit', env: pnpmEnv(env) });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Installs the workspace exactly as the lockfile says; exits the process on failure. */
export async function installWorkspace() {
  const code = await runPnpm(['install', '--frozen-lockfile', '--prefer-offline']);
  if (code !== 0) {
    console.error('transport-lab: pnpm install failed (see above).');
    process.exit(code);
  }
}
