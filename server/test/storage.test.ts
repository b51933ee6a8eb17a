import { rmSync, statSync } from 'node:fs';
import { API_PATHS } from '@transport-lab/shared';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { PREVIOUS_RELEASE, writePreviousReleaseDatabase } from '../src/store/fixtures/previousRelease.ts';
import { SCHEMA_VERSION } from '../src/store/migrations.ts';
import { startTestServer, tempDataDir } from './harness.ts';
import { until } from './wireHarness.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const mode = (path: string) => statSync(path).mode & 0o777;

describe('a server started on the previous release’s data folder', () => {
  it('migrates the file, makes it private, resumes its running task, and its first sweep deletes only what ended before RETENTION_HOURS', async () => {
    const dataDir = tempDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const file = writePreviousReleaseDatabase(dataDir);
    // 36 s: every task of the fixture ended long before that.
    const server = await startTestServer({ DATA_DIR: dataDir, RETENTION_HOURS: '0.01' });
    cleanups.push(() => server.close());

    expect(mode(dataDir)).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    const reader = new Database(file, { readonly: true });
    cleanups.push(() => void reader.close());
    expect(reader.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);

    const status = async (taskId: string) =>
      (await fetch(`${server.baseUrl}${API_PATHS.task(taskId)}`)).status;
    await until(
      () => status(PREVIOUS_RELEASE.succeededTask),
      (code) => code === 404,
      'the sweep at start has deleted a task that ended before RETENTION_HOURS',
    );
    // Resumed at start (engine.recover): not ended then, so never the sweep's.
    expect(await status(PREVIOUS_RELEASE.runningTask)).toBe(200);
  });
});
