// Which Chromium the end-to-end specs and the benchmark drive, found (or installed) before `npm test`'s
// e2e stage. In this order:
//   1. CHROMIUM_PATH, when set: any installed Chromium or Chrome; it must exist (a typo stops here, it
//      is not silently replaced by another browser);
//   2. Debian's Chromium: `chromium` on PATH (the `chromium` package's /usr/bin/chromium);
//   3. Debian's Chromium installed now, when apt-get can be run (as root, or through `sudo -n`);
//   4. Playwright's own Chromium, already downloaded, or downloaded now (`playwright install chromium`,
//      the Playwright of test/package.json, into its usual cache or PLAYWRIGHT_BROWSERS_PATH);
//   5. none of these: stop with a message that names both ways to get one, and CHROMIUM_PATH.
// `resolveChromium` takes its probes as arguments, so that its tests can play a machine without
// Chromium or apt-get (scripts/chromium.test.mjs); `node scripts/chromium.mjs` runs it on this machine
// and prints the path (exit code 1 and the message when there is none).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { root } from './pnpm.mjs';

export const DEBIAN_INSTALL = 'sudo apt-get install -y chromium';
export const PLAYWRIGHT_INSTALL = 'cd test && npx playwright install chromium';

/** The message when no Chromium can be had: both ways to get one, and the setting. */
export function missingMessage(reasons) {
  return [
    'transport-lab: no Chromium for the end-to-end tests, and none could be installed here:',
    ...reasons.map((reason) => `  - ${reason}`),
    'Get one either way, then run npm test again:',
    `  - Debian's Chromium (Debian, or an image built on it): ${DEBIAN_INSTALL}`,
    `  - Playwright's own Chromium (any OS; needs to reach its download host): ${PLAYWRIGHT_INSTALL}`,
    '    (on Linux it may also need system libraries: cd test && sudo npx playwright install-deps chromium)',
    'or point CHROMIUM_PATH at any installed Chromium or Chrome: CHROMIUM_PATH=/path/to/chromium npm test',
  ].join('\n');
}

/**
 * Finds a Chromium. Probes (all required; the real ones are `machineProbes()`):
 * - env: the environment (reads CHROMIUM_PATH);
 * - exists(path), which(command) → absolute path or undefined;
 * - canInstallWithApt() → boolean; installWithApt() → boolean (true once installed);
 * - playwrightExecutable() → where Playwright's Chromium is (or would be), or undefined when the
 *   Playwright package itself is missing; installPlaywright() → boolean (true once downloaded);
 * - log(line).
 * Resolves { path, source } with source 'CHROMIUM_PATH' | 'debian' | 'debian-installed' |
 * 'playwright' | 'playwright-installed', or { error } with the message to print.
 */
export async function resolveChromium(probes) {
  const {
    env,
    exists,
    which,
    canInstallWithApt,
    installWithApt,
    playwrightExecutable,
    installPlaywright,
    log,
  } = probes;
  if (env.CHROMIUM_PATH) {
    if (exists(env.CHROMIUM_PATH)) return { path: env.CHROMIUM_PATH, source: 'CHROMIUM_PATH' };
    return {
      error: `transport-lab: CHROMIUM_PATH is ${env.CHROMIUM_PATH}, which does not exist. Point it at an installed Chromium, or unset it to use Debian's (${DEBIAN_INSTALL}) or Playwright's (${PLAYWRIGHT_INSTALL}).`,
    };
  }
  const reasons = [];
  const debian = which('chromium');
  if (debian) return { path: debian, source: 'debian' };
  if (await canInstallWithApt()) {
    log("Chromium: Debian's is missing; apt-get install -y chromium");
    if ((await installWithApt()) && which('chromium')) {
      return { path: which('chromium'), source: 'debian-installed' };
    }
    reasons.push("Debian's chromium package: apt-get could not install it (see above)");
  } else {
    reasons.push(
      "Debian's chromium package: not installed, and apt-get cannot be run here (no apt-get, or not root and no sudo -n)",
    );
  }
  const playwright = playwrightExecutable();
  if (!playwright) {
    reasons.push("Playwright's Chromium: the Playwright package is not installed (test/node_modules)");
    return { error: missingMessage(reasons) };
  }
  if (exists(playwright)) return { path: playwright, source: 'playwright' };
  log(`Chromium: Debian's cannot be had here; Playwright's own instead: playwright install chromium`);
  if ((await installPlaywright()) && exists(playwright))
    return { path: playwright, source: 'playwright-installed' };
  reasons.push("Playwright's Chromium: playwright install chromium could not download it (see above)");
  return { error: missingMessage(reasons) };
}

/** The first executable `command` on PATH, like `command -v`, without a shell. */
export function whichOnPath(command, path = process.env.PATH ?? '') {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; next directory
    }
  }
  return undefined;
}

/** The Playwright CLI of the e2e package (test/), resolved from there as its own specs would. */
function playwrightPackage() {
  try {
    const require = createRequire(join(root, 'test', 'package.json'));
    return { cli: require.resolve('@playwright/test/cli'), main: require.resolve('@playwright/test') };
  } catch {
    return undefined;
  }
}

/** The real probes of this machine, with `env` (process.env by default) as its environment. */
export function machineProbes(env = process.env) {
  const which = (command) => whichOnPath(command, env.PATH ?? '');
  const isRoot = process.getuid?.() === 0;
  const sudo = () =>
    !isRoot && which('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore', env }).status === 0;
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  const pw = playwrightPackage();
  return {
    env,
    exists: existsSync,
    which,
    canInstallWithApt: () => Boolean(which('apt-get')) && (isRoot || sudo()),
    installWithApt: () => {
      const lead = isRoot ? [] : ['sudo', '-n'];
      for (const args of [['update'], ['install', '-y', 'chromium']]) {
        const [cmd, ...rest] = [...lead, 'apt-get', ...args];
        if (spawnSync(cmd, rest, { stdio: 'inherit', env: aptEnv }).status !== 0) return false;
      }
      return true;
    },
    playwrightExecutable: () => {
      if (!pw) return undefined;
      // Playwright knows where its own Chromium lives (PLAYWRIGHT_BROWSERS_PATH included); asked in a
      // child so that this environment's PLAYWRIGHT_BROWSERS_PATH is the one that counts.
      const probe = spawnSync(
        process.execPath,
        ['-e', `process.stdout.write(require(${JSON.stringify(pw.main)}).chromium.executablePath())`],
        { encoding: 'utf8', env },
      );
      return probe.status === 0 && probe.stdout ? probe.stdout : undefined;
    },
    installPlaywright: () => {
      // pnpm.mjs sets PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD for installs; a download is wanted here.
      const { PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: _skip, ...rest } = env;
      const result = spawnSync(process.execPath, [pw.cli, 'install', 'chromium'], {
        cwd: join(root, 'test'),
        stdio: 'inherit',
        env: rest,
      });
      return result.status === 0;
    },
    log: (line) => console.log(`\n==> ${line}`),
  };
}

/** `npm test`'s browser step: the Chromium to use, or the process ends with the message (exit code 1). */
export async function ensureChromium(env = process.env) {
  const found = await resolveChromium(machineProbes(env));
  if (found.error) {
    console.error(found.error);
    process.exit(1);
  }
  return found;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const found = await ensureChromium();
  console.log(`Chromium (${found.source}): ${found.path}`);
}
