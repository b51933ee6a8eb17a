import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { API_PATHS, HealthResponse } from '@transport-lab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { killed, spawnSupervisor, tempDataDir } from './harness.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The server process the supervisor runs now: its one child running serve.ts (tsx may have
 *  another, esbuild's). */
function serverPid(supervisorPid: number | undefined): number {
  const pids = execFileSync('pgrep', ['-P', String(supervisorPid), '-f', 'src/serve\\.ts'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(Number);
  expect(pids).toHaveLength(1);
  return pids[0] ?? Number.NaN;
}

async function health(baseUrl: string): Promise<HealthResponse> {
  const res = await fetch(`${baseUrl}${API_PATHS.health}`);
  expect(res.status).toBe(200);
  return HealthResponse.parse(await res.json());
}

describe('the supervisor (main.ts) after a crash', () => {
  it('starts the server again in a new process on the same port, and past SUPERVISOR_MAX_RESTARTS_PER_MINUTE gives up with code 1', {
    timeout: 90_000,
  }, async () => {
    const dataDir = tempDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const supervisor = spawnSupervisor(dataDir, { SUPERVISOR_MAX_RESTARTS_PER_MINUTE: '2' });
    cleanups.push(() => killed(supervisor.child));
    const { baseUrl } = await supervisor.started(1);
    await health(baseUrl);
    const pids = [serverPid(supervisor.child.pid)];

    // Two crashes (SIGKILL: nothing of the server's own runs), each followed by a new server.
    for (const start of [2, 3]) {
      const killedAt = performance.now();
      process.kill(pids.at(-1) ?? Number.NaN, 'SIGKILL');
      expect((await supervisor.started(start)).baseUrl).toBe(baseUrl);
      // Whoever answers now started after the kill: the killed process is gone (reaped).
      expect((await health(baseUrl)).uptimeMs).toBeLessThan(performance.now() - killedAt);
      pids.push(serverPid(supervisor.child.pid));
    }
    expect(new Set(pids).size).toBe(3);
    expect(supervisor.stdout()).toContain(
      `Transport Lab restarting (the server (pid ${pids[0]}) was killed by SIGKILL; restart 1 of at most 2 a minute)…`,
    );
    expect(supervisor.stdout()).toContain(
      `Transport Lab restarting (the server (pid ${pids[1]}) was killed by SIGKILL; restart 2 of at most 2 a minute)…`,
    );

    // The third crash within the minute: no third restart.
    process.kill(pids[2] ?? Number.NaN, 'SIGKILL');
    expect(await supervisor.ended).toEqual({ code: 1, signal: null });
    expect(supervisor.stderr()).toContain(
      `transport-lab: the server (pid ${pids[2]}) was killed by SIGKILL, after 2 restarts within a minute (SUPERVISOR_MAX_RESTARTS_PER_MINUTE=2); giving up.`,
    );
    await expect(fetch(`${baseUrl}${API_PATHS.health}`)).rejects.toThrow();
  });

  it('still stops cleanly on SIGINT: the server shuts down, nothing is restarted, code 0', async () => {
    const dataDir = tempDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const supervisor = spawnSupervisor(dataDir);
    cleanups.push(() => killed(supervisor.child));
    await supervisor.started(1);
    // At once: the lines are printed after the server listens for signals.
    supervisor.child.kill('SIGINT');
    expect(await supervisor.ended).toEqual({ code: 0, signal: null });
    expect(supervisor.stdout()).not.toContain('restarting');
  });
});
