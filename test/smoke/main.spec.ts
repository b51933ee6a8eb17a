// The server's entry point as `npm start` runs it (node --import tsx src/main.ts): it must print the URL
// it listens on, serve a task, and exit 0 on SIGTERM. The e2e specs use createServer in-process and
// would not notice if main.ts broke.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, test } from '@playwright/test';
import { API_PATHS, RunResponse } from '@transport-lab/shared';
import { repoRoot } from '../fixtures/server.ts';

const URL_LINE = /Transport Lab listening on (http:\/\/localhost:\d+)/;

/** Resolves with the URL from the server's first matching stdout line; rejects if it exits first. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) throw new Error('the server has no stdout pipe');
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = URL_LINE.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`server exited (${code ?? signal}) before listening`)),
    );
  });
}

test('main.ts prints its URL, runs a task over HTTP and exits 0 on SIGTERM', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'transport-lab-smoke-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: join(repoRoot, 'server'),
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group, so that a failed test can take down anything it started.
    detached: true,
  });
  try {
    const url = await listeningUrl(child);

    const response = await fetch(`${url}${API_PATHS.run}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ durationMs: 500, steps: 5 }),
    });
    expect(response.status).toBe(200);
    const { task } = RunResponse.parse(await response.json());
    expect(task.status).toBe('succeeded');
    expect(task.step).toBe(5);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  } finally {
    if (child.exitCode === null && child.signalCode === null && child.pid)
      process.kill(-child.pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});
