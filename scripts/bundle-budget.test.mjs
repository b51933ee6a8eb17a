import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  budgetReport,
  FIRST_LOAD_BUDGET_BYTES,
  FIRST_LOAD_TARGET_BYTES,
  firstLoadFiles,
  gzippedBytes,
  MANIFEST_PATH,
  measureBuild,
} from './bundle-budget.mjs';

const script = join(dirname(fileURLToPath(import.meta.url)), 'bundle-budget.mjs');

/** A manifest shaped as Vite writes it: an HTML entry, a shared chunk, and lazy chunks behind import(). */
const MANIFEST = {
  'index.html': {
    file: 'assets/index.js',
    isEntry: true,
    imports: ['_vendor.js'],
    dynamicImports: ['src/Presenter.tsx'],
    css: ['assets/index.css'],
  },
  '_vendor.js': { file: 'assets/vendor.js', imports: ['_runtime.js'] },
  '_runtime.js': { file: 'assets/runtime.js' },
  'src/Presenter.tsx': {
    file: 'assets/Presenter.js',
    isDynamicEntry: true,
    imports: ['_vendor.js', '_qr.js'],
  },
  '_qr.js': { file: 'assets/qr.js' },
};

/** A fake client/dist with that manifest; random bytes do not compress, so gzip keeps about their size. */
function fakeDist(sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-budget-'));
  mkdirSync(join(dir, 'assets'));
  mkdirSync(join(dir, '.vite'));
  writeFileSync(join(dir, MANIFEST_PATH), JSON.stringify(MANIFEST));
  for (const [file, bytes] of Object.entries(sizes)) writeFileSync(join(dir, file), randomBytes(bytes));
  writeFileSync(join(dir, 'assets', 'index.css'), 'body{}');
  return dir;
}

const dirs = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('firstLoadFiles', () => {
  it('follows static imports from the entry, and not dynamic imports', () => {
    expect(firstLoadFiles(MANIFEST)).toEqual(['assets/index.js', 'assets/vendor.js', 'assets/runtime.js']);
  });

  it('refuses a manifest without an entry rather than measuring nothing', () => {
    expect(() => firstLoadFiles({ '_a.js': { file: 'assets/a.js' } })).toThrow('no entry');
  });
});

describe('the budget', () => {
  it('is issue 16’s aim, 100 kB, enforced', () => {
    expect(FIRST_LOAD_TARGET_BYTES).toBe(100_000);
    expect(FIRST_LOAD_BUDGET_BYTES).toBe(FIRST_LOAD_TARGET_BYTES);
  });

  it('sums the gzipped first-load set and leaves the lazy chunks out of it', () => {
    const dir = fakeDist({
      'assets/index.js': 20_000,
      'assets/vendor.js': 30_000,
      'assets/runtime.js': 1_000,
      'assets/Presenter.js': 50_000,
      'assets/qr.js': 40_000,
    });
    dirs.push(dir);
    const measured = measureBuild(dir);
    expect(measured.entry.file).toBe('assets/index.js');
    expect(measured.firstLoad.map((f) => f.file)).toEqual([
      'assets/index.js',
      'assets/vendor.js',
      'assets/runtime.js',
    ]);
    // Incompressible bytes gzip to a little more than themselves (headers and stored blocks).
    expect(measured.firstLoadGzipBytes).toBeGreaterThan(51_000);
    expect(measured.firstLoadGzipBytes).toBeLessThan(52_000);
    expect(measured.later.map((f) => f.file).sort()).toEqual(['assets/Presenter.js', 'assets/qr.js']);
    expect(measured.totalGzipBytes).toBeGreaterThan(141_000);
  });

  it('passes at the budget and fails one byte above it', () => {
    const measured = { firstLoadGzipBytes: 1_000, firstLoad: [], later: [], totalGzipBytes: 1_000 };
    expect(budgetReport(measured, 1_000).ok).toBe(true);
    const over = budgetReport({ ...measured, firstLoadGzipBytes: 1_001 }, 1_000);
    expect(over.ok).toBe(false);
    expect(over.lines.join('\n')).toContain('over budget by 0.0 kB');
  });

  it('exits 1 from the command line when a build is over the budget, and 0 within it', () => {
    const over = fakeDist({
      'assets/index.js': FIRST_LOAD_BUDGET_BYTES,
      'assets/vendor.js': 1_000,
      'assets/runtime.js': 100,
      'assets/Presenter.js': 100,
      'assets/qr.js': 100,
    });
    const within = fakeDist({
      'assets/index.js': 10_000,
      'assets/vendor.js': 1_000,
      'assets/runtime.js': 100,
      'assets/Presenter.js': FIRST_LOAD_BUDGET_BYTES,
      'assets/qr.js': 100,
    });
    dirs.push(over, within);
    const failed = spawnSync(process.execPath, [script, over], { encoding: 'utf8' });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('over budget');
    const passed = spawnSync(process.execPath, [script, within], { encoding: 'utf8' });
    expect(passed.status).toBe(0);
    expect(passed.stdout).toContain('first load (entry + static imports), gzipped: 11.');
  });

  it('exits 2 when the build has no manifest (built without build.manifest)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-budget-'));
    dirs.push(dir);
    const result = spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('cannot read the build');
  });

  it('gzips as a server would: repeated text shrinks', () => {
    expect(gzippedBytes(Buffer.from('a'.repeat(10_000)))).toBeLessThan(100);
  });
});
