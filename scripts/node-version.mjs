// The first thing `npm start` and `npm test` do (imported first by scripts/start.mjs, test.mjs and
// run-pnpm.mjs): stop at once, saying what to install, when this Node is not one the project is tested
// on. Otherwise an old Node fails much later, in the install or in a test, with an error that does not
// name the cause. The versions are package.json's `engines.node`, the ones CI runs (.ci/run).
import { readFileSync } from 'node:fs';

/** The Node line to install when this one will not do: the active LTS. */
export const RECOMMENDED_MAJOR = 24;

/**
 * Whether `version` ("v24.1.0" or "24.1.0") satisfies `range`, a `||` list of caret ranges
 * (`^22.12.0`): the same major, and at least that minor.patch. The only form engines uses here;
 * anything else throws, so that a new form cannot silently pass every version.
 */
export function satisfies(version, range) {
  const [major, minor, patch] = version.replace(/^v/, '').split('.').map(Number);
  return range.split('||').some((part) => {
    const match = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(part.trim());
    if (!match) throw new Error(`scripts/node-version.mjs reads only ^X.Y.Z ranges, not "${part.trim()}"`);
    const [want, wantMinor, wantPatch] = match.slice(1).map(Number);
    if (major !== want) return false;
    return minor > wantMinor || (minor === wantMinor && patch >= wantPatch);
  });
}

/** The message for a Node outside `range`; undefined when `version` is inside it. */
export function nodeVersionProblem(version, range, execPath = process.execPath) {
  if (satisfies(version, range)) return undefined;
  return [
    `transport-lab: this is Node ${version} (${execPath}); it is tested on Node ${range.split('||').join('or')}.`,
    `Install Node ${RECOMMENDED_MAJOR} (the LTS) from https://nodejs.org/ or with a version manager (nvm install ${RECOMMENDED_MAJOR}),`,
    `or run one command under it without installing: npx -y -p node@${RECOMMENDED_MAJOR} -c 'npm test'`,
  ].join('\n');
}

/** Exits the process (code 1) with the message when this Node is not a tested one. */
export function checkNodeVersion() {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const problem = nodeVersionProblem(process.version, pkg.engines.node);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}

checkNodeVersion();
