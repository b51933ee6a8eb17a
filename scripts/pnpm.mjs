// Runs the pinned pnpm with the environment every install here needs, so that no newcomer has to
// know either: a fresh machine has only Node and npm, and no prebuilt native binary can be downloaded.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PNPM_VERSION = '12.4.2';
export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The version a node_version.h declares, "v22.23.3", or undefined when the file is not there. */
function headersVersion(prefix) {
  try {
    const text = readFileSync(join(prefix, 'include', 'node', 'node_version.h'), 'utf8');
    const part = (name) => new RegExp(`#define ${name} (\\d+)`).exec(text)?.[1];
    return `v${part('NODE_MAJOR_VERSION')}.${part('NODE_MINOR_VERSION')}.${part('NODE_PATCH_VERSION')}`;
  } catch {
    return undefined;
  }
}

/**
 * The folder holding the headers of the Node that runs this (`include/node/`), for node-gyp's nodedir:
 * Debian's /usr for /usr/bin/node, an official tarball's own folder, or, for the npm registry's `node`
 * package (`npx -p node@24`), the `node-<os>-<arch>` package inside it that holds the binary and its
 * headers. Only headers of exactly this version count: a module compiled against another Node's
 * headers (say Debian's Node 20 ones, while Node 24 runs) is refused at load with "was compiled
 * against a different Node.js version" (NODE_MODULE_VERSION).
 */
export function nodeHeadersDir(execPath = process.execPath, version = process.version) {
  const prefix = dirname(dirname(realpathSync(execPath)));
  const candidates = [prefix];
  try {
    for (const name of readdirSync(join(prefix, 'node_modules'))) {
      if (name.startsWith('node-')) candidates.push(join(prefix, 'node_modules', name));
    }
  } catch {
    // no node_modules beside it: not the npm package
  }
  return candidates.find((dir) => headersVersion(dir) === version);
}

/**
 * The Node whose headers better-sqlite3 is compiled against, when it is not the running one. Node
 * 24.19's headers made node::ObjectWrap's destructor remove an environment cleanup hook, which
 * aborts the process ("Assertion failed: (env) != nullptr", from Statement::~Statement) when the
 * garbage collector finalizes a statement outside JavaScript: nodejs/node#65446, open; better-sqlite3
 * 12 is built on ObjectWrap (13 is not, but needs Node 22). Compiled against 24.18.1's headers, the
 * same module (ABI 137, every 24.x) runs clean on 24.19+: docs/benchmarks.md, "The embedded store's
 * driver", measured both ways. Goes when Node 20 does (better-sqlite3 13 or node:sqlite).
 */
export function headersNodeFor(version = process.version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major === 24 && minor >= 19 ? '24.18.1' : undefined;
}

/**
 * Installs the npm registry's node@<version> (the binary and its headers, ≈ 30 MB) into `prefix`, once,
 * and returns the path of its binary. Not through npx: npx's cache is shared by every user of the
 * machine, and a concurrent `npx -p node@…` reinstalls it under our feet (seen here: the headers gone
 * mid-build, node-gyp fell back to npm's nodedir, another Node's).
 */
export function installRegistryNode(version, prefix) {
  const binary = join(prefix, 'node_modules', 'node', 'bin', 'node');
  const installed = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout?.trim();
  // A major alone (22) takes the newest 22.x, so it is installed again; an exact version only once.
  if (installed && installed === `v${version}`) return binary;
  const result = spawnSync(
    'npm',
    [
      'install',
      '--prefix',
      prefix,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      `node@${version}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (result.status !== 0 || !existsSync(binary)) throw new Error(`npm install node@${version} failed`);
  return binary;
}

const registryHeaders = new Map();
/** The headers folder of the registry's node@<version>, installed once under ~/.cache/transport-lab/. */
function registryNodeHeaders(version) {
  if (!registryHeaders.has(version)) {
    let dir;
    try {
      const binary = installRegistryNode(
        version,
        join(homedir(), '.cache', 'transport-lab', `node-${version}`),
      );
      dir = nodeHeadersDir(binary, `v${version}`);
    } catch {
      dir = undefined;
    }
    registryHeaders.set(version, dir);
  }
  return registryHeaders.get(version);
}

let chosenNodedir;
/** node-gyp's nodedir for this Node (once per process; says so when there is none to give). */
function nodedirForThisNode() {
  if (chosenNodedir !== undefined) return chosenNodedir || undefined;
  const other = headersNodeFor();
  chosenNodedir = (other ? registryNodeHeaders(other) : nodeHeadersDir()) ?? '';
  if (!chosenNodedir) {
    console.warn(
      other
        ? `transport-lab: Node ${other}'s headers could not be had (npm install node@${other}); better-sqlite3 is built as npm's nodedir says, which may abort (nodejs/node#65446).`
        : `transport-lab: no headers of Node ${process.version} beside ${process.execPath}; node-gyp uses npm's nodedir or downloads them (a build against another Node's headers will not load).`,
    );
  }
  return chosenNodedir || undefined;
}

/**
 * Environment for pnpm: better-sqlite3 compiles against this Node's own headers (24.18.1's on Node
 * 24.19+). An npm_config_nodedir already set is kept only when its headers are those: npm's config may
 * name another Node's (this machine's npmrc says nodedir=/usr, Debian's Node 20, and `npm test` hands
 * it down as npm_config_nodedir), which node-gyp would use under Node 22 or 24 without a word.
 */
export function pnpmEnv(extra = {}) {
  const env = { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1', ...extra };
  const wanted = `v${headersNodeFor() ?? process.version.replace(/^v/, '')}`;
  // pnpm ignores nodedir in config files, so it must come through the environment.
  if (!env.npm_config_nodedir || headersVersion(env.npm_config_nodedir) !== wanted) {
    const nodedir = nodedirForThisNode();
    if (nodedir) env.npm_config_nodedir = nodedir;
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

/** What an install was made from: the files pnpm reads, and the Node ABI native modules were built for. */
const INSTALL_INPUTS = [
  'pnpm-lock.yaml',
  'pnpm-workspace.yaml',
  'package.json',
  'server/package.json',
  'client/package.json',
  'shared/package.json',
  'test/package.json',
];
export const INSTALL_STAMP = join('node_modules', '.transport-lab-install.json');

/** { inputs: sha256 of INSTALL_INPUTS, abi: NODE_MODULE_VERSION } of the checkout at `dir` now. */
export function installState(dir = root, abi = process.versions.modules) {
  const hash = createHash('sha256');
  for (const file of INSTALL_INPUTS) {
    hash.update(`${file}\0`);
    hash.update(existsSync(join(dir, file)) ? readFileSync(join(dir, file)) : '(missing)');
    hash.update('\0');
  }
  return { inputs: hash.digest('hex'), abi };
}

/**
 * What the workspace at `dir` needs before it can run: 'install' when it was never installed, or the
 * lockfile (or a package.json, or pnpm-workspace.yaml) changed since the last install, e.g. after a
 * `git pull`; 'rebuild' when only the Node changed to one of another ABI (better-sqlite3's compiled
 * module loads only in the Node ABI it was built for); undefined when nothing changed.
 */
export function installNeeded(dir = root, now = installState(dir)) {
  if (!existsSync(join(dir, 'node_modules', '.modules.yaml'))) return 'install';
  let last;
  try {
    last = JSON.parse(readFileSync(join(dir, INSTALL_STAMP), 'utf8'));
  } catch {
    return 'install';
  }
  if (last.inputs !== now.inputs) return 'install';
  if (last.abi !== now.abi) return 'rebuild';
  return undefined;
}

/** Installs the workspace exactly as the lockfile says and stamps it; exits the process on failure. */
export async function installWorkspace() {
  const code = await runPnpm(['install', '--frozen-lockfile', '--prefer-offline']);
  if (code !== 0) {
    console.error('transport-lab: pnpm install failed (see above).');
    process.exit(code);
  }
  writeFileSync(join(root, INSTALL_STAMP), `${JSON.stringify(installState())}\n`);
}

/**
 * Installs when installNeeded says so, rebuilds better-sqlite3 for this Node when only the Node
 * changed, and does nothing (no pnpm, no npx) when the install is current; says which (`quiet`: only
 * when it does something).
 */
export async function ensureWorkspace({ quiet = false } = {}) {
  const log = (line) => console.log(`\n==> ${line}`);
  const needed = installNeeded();
  if (needed === 'install') {
    log(
      'install: pnpm install --frozen-lockfile (first run, or the lockfile changed since the last install)',
    );
    await installWorkspace();
  } else if (needed === 'rebuild') {
    log(
      `install: Node ${process.version} has another ABI than the last install: pnpm -r rebuild better-sqlite3`,
    );
    const code = await runPnpm(['-r', 'rebuild', 'better-sqlite3']);
    if (code !== 0) {
      console.error('transport-lab: rebuilding better-sqlite3 for this Node failed (see above).');
      process.exit(code);
    }
    writeFileSync(join(root, INSTALL_STAMP), `${JSON.stringify(installState())}\n`);
  } else if (!quiet) {
    log('install: up to date with the lockfile (node_modules/.transport-lab-install.json)');
  }
}
