import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach } from 'vitest';
import { connectClient, type LabClient, startTestServer, type TestServer } from './harness.ts';
import { deleteTestKeys, redisForTests, requireRedis, TEST_REDIS_URL } from './redisForTests.ts';

/**
 * Servers on one Redis, for the suite that calls it (inside its `describe`): every server it starts
 * shares REDIS_URL and a REDIS_PREFIX of the suite's own, each with its own DATA_DIR, so whatever one
 * knows of another's task came through Redis. Each test requires Redis (it fails in CI without one,
 * `requireRedis`); after each, what the test registered is closed, newest first, and the prefix's keys
 * are deleted.
 */
export function serversOnOneRedis({ redisRequired = true }: { redisRequired?: boolean } = {}) {
  const prefix = `transport-lab-test:${randomUUID()}:`;
  const env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix };
  const cleanups: Array<() => Promise<void> | void> = [];
  // `redisRequired: false`: a suite that runs the same tests on SQLite too (describe.each) uses the
  // cleanups alone there.
  beforeEach(async (context) => {
    if (redisRequired) await requireRedis(context);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    if ((await redisForTests()).available) await deleteTestKeys(prefix);
  });
  return {
    prefix,
    env,
    /** Runs `cleanup` after the test, before the servers started earlier close. */
    cleanup: (cleanup: () => Promise<void> | void) => void cleanups.push(cleanup),
    async server(): Promise<TestServer> {
      const started = await startTestServer(env);
      cleanups.push(() => started.close());
      return started;
    },
    async client(baseUrl: string): Promise<LabClient> {
      const socket = await connectClient(baseUrl);
      cleanups.push(() => void socket.disconnect());
      return socket;
    },
  };
}
