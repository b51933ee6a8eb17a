import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeVersionProblem, RECOMMENDED_MAJOR, satisfies } from './node-version.mjs';

const engines = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node;

describe('satisfies', () => {
  it('takes the same major at or above the minor.patch of each caret range', () => {
    const range = '^20.19.0 || ^22.12.0 || ^24.0.0';
    for (const version of ['v20.19.0', 'v20.20.2', 'v22.12.0', 'v22.23.3', 'v24.0.0', 'v24.21.0']) {
      expect(satisfies(version, range), version).toBe(true);
    }
    for (const version of ['v18.20.4', 'v20.18.9', 'v21.7.0', 'v22.11.9', 'v23.11.0', 'v25.0.0', 'v26.1.0']) {
      expect(satisfies(version, range), version).toBe(false);
    }
  });

  it('refuses a range form it does not read, rather than passing every version', () => {
    expect(() => satisfies('v24.0.0', '>=20')).toThrow('reads only ^X.Y.Z ranges');
  });

  it("reads package.json's engines, and this Node (the one running the tests) is in it", () => {
    expect(satisfies(process.version, engines)).toBe(true);
  });
});

describe('nodeVersionProblem', () => {
  it('names the Node found, the tested versions and what to install', () => {
    const message = nodeVersionProblem('v18.20.4', engines, '/usr/bin/node');
    expect(message).toContain('this is Node v18.20.4 (/usr/bin/node)');
    expect(message).toContain(`Install Node ${RECOMMENDED_MAJOR}`);
    expect(message).toContain(`npx -y -p node@${RECOMMENDED_MAJOR} -c 'npm test'`);
    expect(nodeVersionProblem(process.version, engines)).toBeUndefined();
  });
});
