import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEBIAN_INSTALL, PLAYWRIGHT_INSTALL, resolveChromium, whichOnPath } from './chromium.mjs';

const PLAYWRIGHT_CHROME = '/cache/ms-playwright/chromium-1/chrome-linux64/chrome';

/** A machine where nothing is installed and nothing can be; each test gives it what it needs. */
function machine(overrides = {}) {
  const calls = [];
  const files = new Set(overrides.files ?? []);
  const onPath = new Map(Object.entries(overrides.onPath ?? {}));
  const probes = {
    env: overrides.env ?? {},
    exists: (path) => files.has(path),
    which: (command) => onPath.get(command),
    canInstallWithApt: () => {
      calls.push('canInstallWithApt');
      return overrides.aptUsable ?? false;
    },
    installWithApt: () => {
      calls.push('installWithApt');
      if (overrides.aptWorks) onPath.set('chromium', '/usr/bin/chromium');
      return overrides.aptWorks ?? false;
    },
    playwrightExecutable: () => (overrides.noPlaywrightPackage ? undefined : PLAYWRIGHT_CHROME),
    installPlaywright: () => {
      calls.push('installPlaywright');
      if (overrides.downloadWorks) files.add(PLAYWRIGHT_CHROME);
      return overrides.downloadWorks ?? false;
    },
    log: () => {},
  };
  return { probes, calls };
}

describe('resolveChromium', () => {
  it('uses CHROMIUM_PATH when it exists, before Debian or Playwright', async () => {
    const { probes, calls } = machine({
      env: { CHROMIUM_PATH: '/opt/chrome/chrome' },
      files: ['/opt/chrome/chrome'],
      onPath: { chromium: '/usr/bin/chromium' },
    });
    expect(await resolveChromium(probes)).toEqual({ path: '/opt/chrome/chrome', source: 'CHROMIUM_PATH' });
    expect(calls).toEqual([]);
  });

  it('stops on a CHROMIUM_PATH that does not exist, naming it, rather than using another browser', async () => {
    const { probes, calls } = machine({
      env: { CHROMIUM_PATH: '/nowhere/chromium' },
      onPath: { chromium: '/usr/bin/chromium' },
    });
    const found = await resolveChromium(probes);
    expect(found.path).toBeUndefined();
    expect(found.error).toContain('CHROMIUM_PATH is /nowhere/chromium, which does not exist');
    expect(calls).toEqual([]);
  });

  it("uses Debian's Chromium on PATH without installing anything", async () => {
    const { probes, calls } = machine({ onPath: { chromium: '/usr/bin/chromium' } });
    expect(await resolveChromium(probes)).toEqual({ path: '/usr/bin/chromium', source: 'debian' });
    expect(calls).toEqual([]);
  });

  it("installs Debian's Chromium with apt-get when it can, before trying Playwright's", async () => {
    const { probes, calls } = machine({ aptUsable: true, aptWorks: true, files: [PLAYWRIGHT_CHROME] });
    expect(await resolveChromium(probes)).toEqual({ path: '/usr/bin/chromium', source: 'debian-installed' });
    expect(calls).toEqual(['canInstallWithApt', 'installWithApt']);
  });

  it("uses Playwright's Chromium already downloaded when apt-get cannot be run", async () => {
    const { probes, calls } = machine({ files: [PLAYWRIGHT_CHROME] });
    expect(await resolveChromium(probes)).toEqual({ path: PLAYWRIGHT_CHROME, source: 'playwright' });
    expect(calls).toEqual(['canInstallWithApt']);
  });

  it("downloads Playwright's Chromium when apt-get fails", async () => {
    const { probes, calls } = machine({ aptUsable: true, aptWorks: false, downloadWorks: true });
    expect(await resolveChromium(probes)).toEqual({
      path: PLAYWRIGHT_CHROME,
      source: 'playwright-installed',
    });
    expect(calls).toEqual(['canInstallWithApt', 'installWithApt', 'installPlaywright']);
  });

  it('stops with a message naming both ways and CHROMIUM_PATH when neither can be had', async () => {
    const { probes, calls } = machine({ aptUsable: false, downloadWorks: false });
    const found = await resolveChromium(probes);
    expect(found.path).toBeUndefined();
    expect(calls).toEqual(['canInstallWithApt', 'installPlaywright']);
    expect(found.error).toContain(DEBIAN_INSTALL);
    expect(found.error).toContain(PLAYWRIGHT_INSTALL);
    expect(found.error).toContain('CHROMIUM_PATH=');
    expect(found.error).toContain('apt-get cannot be run here');
    expect(found.error).toContain('could not download it');
  });

  it('says the Playwright package is missing rather than trying to run it', async () => {
    const { probes, calls } = machine({ noPlaywrightPackage: true });
    const found = await resolveChromium(probes);
    expect(calls).toEqual(['canInstallWithApt']);
    expect(found.error).toContain('the Playwright package is not installed');
    expect(found.error).toContain(PLAYWRIGHT_INSTALL);
  });
});

describe('whichOnPath', () => {
  let dir;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the first executable of that name on PATH and skips a file that is not executable', () => {
    dir = mkdtempSync(join(tmpdir(), 'which-'));
    for (const sub of ['a', 'b']) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, 'a', 'chromium'), 'not executable');
    writeFileSync(join(dir, 'b', 'chromium'), '#!/bin/sh\n');
    chmodSync(join(dir, 'b', 'chromium'), 0o755);
    expect(whichOnPath('chromium', `${join(dir, 'a')}:${join(dir, 'b')}`)).toBe(join(dir, 'b', 'chromium'));
    expect(whichOnPath('chromium', join(dir, 'a'))).toBeUndefined();
  });
});

describe('node scripts/chromium.mjs on a machine without Debian Chromium or apt-get', () => {
  let dir;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("takes the Playwright path, and stops naming both ways when Playwright's cannot be downloaded", () => {
    dir = mkdtempSync(join(tmpdir(), 'no-chromium-'));
    // PATH holds only this folder: no chromium, no apt-get, no sudo (node runs by its absolute path).
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const browsers = join(dir, 'ms-playwright');
    const result = spawnSync(process.execPath, [fileURLToPath(new URL('./chromium.mjs', import.meta.url))], {
      encoding: 'utf8',
      env: {
        HOME: dir,
        PATH: bin,
        // Playwright's cache: an empty folder of this test's, so no browser is found or left behind;
        // its download host: a closed local port, so nothing is downloaded on any machine.
        PLAYWRIGHT_BROWSERS_PATH: browsers,
        PLAYWRIGHT_DOWNLOAD_HOST: 'http://127.0.0.1:9',
      },
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("Playwright's own instead: playwright install chromium");
    // Playwright's own report of the failed download (it prints to both streams).
    expect(`${result.stdout}${result.stderr}`).toContain('Failed to install browsers');
    expect(result.stderr).toContain('playwright install chromium could not download it');
    expect(result.stderr).toContain(DEBIAN_INSTALL);
    expect(result.stderr).toContain(PLAYWRIGHT_INSTALL);
    expect(result.stderr).toContain('CHROMIUM_PATH=');
  });
});
