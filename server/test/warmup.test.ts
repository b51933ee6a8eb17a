import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, listen, loadConfig } from '../src/app.ts';
import { tempDataDir } from './harness.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the warm start', () => {
  it('has run a task to its end through every lane before listen() resolves', async () => {
    const dataDir = tempDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      STATIC_DIR: join(dataDir, 'no-client'),
      DATA_DIR: dataDir,
      PORT: '0',
    });
    const app = await createServer(config);
    cleanups.push(() => app.close());
    const created: string[] = [];
    app.engine.onEvent((event) => {
      if (event.type === 'queued') created.push(event.taskId);
    });
    await listen(app, { port: 0, receiverPort: 0, host: '127.0.0.1', warm: true });
    // Request/response, the async create (polled, long-polled, streamed), the hybrid, the socket.
    expect(created).toHaveLength(4);
    for (const id of created) {
      const task = await app.engine.get(id);
      expect(task?.status, id).toBe('succeeded');
    }
  });
});
