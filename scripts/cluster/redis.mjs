// `npm run start:cluster`'s Redis, chosen as scripts/with-redis.sh chooses the tests': REDIS_URL as set;
// else the Redis at 127.0.0.1:6379 when it answers PING; else Debian's redis-server (installed with
// apt-get when missing, as root or through `sudo -n`) started on a free port, keeping nothing on disk,
// and stopped with the cluster.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { whichOnPath } from '../chromium.mjs';

/** Whether a Redis at host:port answers PING within `timeoutMs`. */
export function answersPing(host, port, timeoutMs = 2_000) {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let reply = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** A port nothing listens on now on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function ensureRedisServer() {
  if (whichOnPath('redis-server', process.env.PATH ?? '')) return true;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !whichOnPath('apt-get', process.env.PATH ?? '')) return false;
  console.log('\n==> redis-server is missing: apt-get install -y redis-server');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'redis-server']]) {
    if (spawnSync('apt-get', args, { stdio: 'inherit', env }).status !== 0) return false;
  }
  return Boolean(whichOnPath('redis-server', process.env.PATH ?? ''));
}

/**
 * The Redis for the cluster: `{url, source, stop()}`. `stop` ends a redis-server started here (and is
 * a no-op for one that was running already). Throws with what to do when there is none.
 */
export async function ensureRedis(env = process.env) {
  if (env.REDIS_URL) return { url: env.REDIS_URL, source: 'REDIS_URL', stop: async () => {} };
  if (await answersPing('127.0.0.1', 6379)) {
    return { url: 'redis://127.0.0.1:6379', source: 'running', stop: async () => {} };
  }
  if (!ensureRedisServer()) {
    throw new Error(
      'transport-lab: the cluster needs Redis: none answers at 127.0.0.1:6379 and redis-server is missing. Install it (Debian: sudo apt-get install -y redis-server) or set REDIS_URL.',
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'transport-lab-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    // Its own process group: a terminal's Ctrl-C is ours to pass on, after the instances are down.
    { stdio: 'ignore', detached: true },
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let tries = 0; tries < 50; tries += 1) {
    if (await answersPing('127.0.0.1', port, 500)) {
      return { url: `redis://127.0.0.1:${port}`, source: 'started', stop };
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  await stop();
  throw new Error(`transport-lab: redis-server did not answer on port ${port} within 5 s.`);
}
