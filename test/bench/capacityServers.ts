// The servers the capacity part (capacity.ts) measures: the raw baseline, and the lab in one of three
// topologies (issue 14, item 6), every process of each on the server's core:
//   sqlite      one instance, the embedded default (`npm start` without REDIS_URL);
//   redis       one instance on a Redis of the bench's own (REDIS_URL): its tasks, logs and socket.io
//               adapter on Redis;
//   clusterN    `npm run start:cluster -- --instances N` on that Redis: N instances behind nginx;
//   clusterN-i1 the same cluster, every phone sent to instance i1 directly (nginx idle): what the
//               other instances spend on i1's events alone, through socket.io's Redis adapter.
// The bench starts its own redis-server (Debian's, on a free port, nothing kept on disk) rather than
// the machine's shared one at 6379, so that Redis's CPU is this run's alone and nobody else's keys or
// clients are in it. A server's CPU is read by part (`node`, `nginx`, `redis`) from /proc.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
// The cluster's own helpers: the same free port and PING as `npm run start:cluster` uses.
import { answersPing, freePort } from '../../scripts/cluster/redis.mjs';
import { epochNow, type Side } from './capacityLoad.ts';
import {
  commandName,
  cpuTimeMs,
  peakRssKiB,
  processTree,
  resetPeakRss,
  startChildProcess,
  TASKSET_AVAILABLE,
} from './processes.ts';
import { startChild } from './serverCost.ts';

export type CapacityTopology =
  | { kind: 'sqlite' }
  | { kind: 'redis' }
  | { kind: 'cluster'; instances: number; direct: boolean };

export function topologyLabel(topology: CapacityTopology): string {
  if (topology.kind !== 'cluster') return topology.kind;
  return `cluster${topology.instances}${topology.direct ? '-i1' : ''}`;
}

/** `sqlite`, `redis`, `cluster:N` (N instances, 1–8), `cluster:N:i1` (the phones straight to i1). */
export function parseTopology(raw: string): CapacityTopology {
  if (raw === 'sqlite' || raw === 'redis') return { kind: raw };
  const match = /^cluster:(\d+)(:i1)?$/.exec(raw);
  const instances = Number(match?.[1]);
  if (match && Number.isInteger(instances) && instances >= 1 && instances <= 8) {
    return { kind: 'cluster', instances, direct: match[2] !== undefined };
  }
  throw new Error(
    `--capacity-topology: "${raw}" is not sqlite, redis, cluster:N or cluster:N:i1 (N from 1 to 8)`,
  );
}

/** The parts a CPU figure is summed from, beside the instances: `node` is every other part. */
export const NON_NODE_PARTS: ReadonlySet<string> = new Set(['nginx', 'redis']);

export interface HallServer {
  side: Side;
  /** `baseline`, or the project's topology (`sqlite`, `redis`, `cluster2`). */
  label: string;
  /** When it was asked to start (epoch ms). */
  spawnedAt: number;
  /** The process a CPU profile and its start-up time are of (the lab's server, or the baseline). */
  pid: number;
  url: string;
  pinned: boolean;
  /** CPU ms so far by part: `node` (the lab's instance, or the baseline), or in a cluster each
   *  instance (`i1`, `i2`, …, supervisor and server) and `launcher` (scripts/cluster.mjs); `nginx`;
   *  `redis`. */
  cpuByPartMs(): Record<string, number>;
  /** Resets every process's VmHWM; false when the kernel refused one. */
  resetPeakRss(): boolean;
  /** The sum of its processes' VmHWM, KiB. */
  peakRssKiB(): number;
  stop(): Promise<void>;
}

/** The server's whole CPU so far, ms. */
export const totalCpuMs = (server: HallServer): number =>
  Object.values(server.cpuByPartMs()).reduce((sum, ms) => sum + ms, 0);

/** A server made of processes named by part; `pids()` is read at each call (a tree is read once). */
function partsOf(pidsByPart: () => Record<string, number[]>) {
  const all = () => Object.values(pidsByPart()).flat();
  return {
    cpuByPartMs: () =>
      Object.fromEntries(
        Object.entries(pidsByPart()).map(([part, pids]) => [
          part,
          pids.reduce((sum, pid) => sum + cpuTimeMs(pid), 0),
        ]),
      ),
    resetPeakRss: () => all().every((pid) => resetPeakRss(pid)),
    peakRssKiB: () => all().reduce((sum, pid) => sum + peakRssKiB(pid), 0),
  };
}

// ── The baseline ─────────────────────────────────────────────────────────────────────────────────────

const rawHallScript = fileURLToPath(new URL('./rawHallServer.ts', import.meta.url));

export async function startBaseline(cpuProfDir: string | undefined, core: number): Promise<HallServer> {
  const profile = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${join(cpuProfDir, 'capacity-baseline')}`] : [];
  const spawnedAt = epochNow();
  const started = await startChildProcess({
    label: 'raw hall server',
    nodeArgs: ['--import', 'tsx', ...profile, rawHallScript],
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    pinCore: core,
    ready: (line) => {
      const match = /^listening (\d+)$/.exec(line);
      return match?.[1] ? Number(match[1]) : undefined;
    },
  });
  return {
    side: 'baseline',
    label: 'baseline',
    spawnedAt,
    pid: started.pid,
    url: `http://127.0.0.1:${started.ready}`,
    pinned: started.pinned,
    ...partsOf(() => ({ node: [started.pid] })),
    stop: () => started.stop(),
  };
}

// ── A Redis of the bench's own ───────────────────────────────────────────────────────────────────────

interface BenchRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Whether every port from `first` to `first + count − 1` can be listened on now. */
async function portsFree(first: number, count: number): Promise<boolean> {
  for (let port = first; port < first + count; port += 1) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (!free) return false;
  }
  return true;
}

/** Debian's redis-server on a free port and `core`, keeping nothing on disk; `noeviction` as the
 *  store's README asks. Throws with what to do when redis-server is missing. */
async function startBenchRedis(core: number): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'transport-lab-bench-redis-'));
  const argv = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  argv.push('--dir', dir, '--maxmemory-policy', 'noeviction');
  const [command, args] = TASKSET_AVAILABLE
    ? ['taskset', ['-c', String(core), 'redis-server', ...argv]]
    : ['redis-server', argv];
  const child = spawn(command, args, { stdio: 'ignore' });
  const failed = once(child, 'error').then(([error]) => {
    throw new Error(`redis-server could not start (Debian: apt-get install -y redis-server): ${error}`);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = (async () => {
    for (let tries = 0; tries < 50; tries += 1) {
      if (await answersPing('127.0.0.1', port, 500)) return;
      if (child.exitCode !== null) break;
      await sleep(100);
    }
    throw new Error(`redis-server did not answer on port ${port} within 5 s`);
  })();
  try {
    await Promise.race([ready, failed]);
  } catch (error) {
    await stop();
    throw error;
  }
  // taskset execs redis-server in place: the child's pid is the server's.
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid as number, stop };
}

/** The parent's pid, from /proc/<pid>/stat. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** A cluster's instance by the NETWORK_LINK_PREFIX in its environment (`i2-` → `i2`). */
function instanceOf(pid: number): string {
  const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  const prefix = environ.find((entry) => entry.startsWith('NETWORK_LINK_PREFIX='));
  return prefix?.slice('NETWORK_LINK_PREFIX='.length).replace(/-$/, '') || `pid${pid}`;
}

// ── The project ──────────────────────────────────────────────────────────────────────────────────────

const clusterScript = fileURLToPath(new URL('../../scripts/cluster.mjs', import.meta.url));

export async function startProject(
  topology: CapacityTopology,
  cpuProfDir: string | undefined,
  core: number,
): Promise<HallServer> {
  const label = topologyLabel(topology);
  const spawnedAt = epochNow();
  const redis = topology.kind === 'sqlite' ? undefined : await startBenchRedis(core);
  const redisParts = (): Record<string, number[]> => (redis ? { redis: [redis.pid] } : {});
  const stopRedis = async () => redis?.stop();
  try {
    if (topology.kind !== 'cluster') {
      // Its defaults but for the logs (silent) and the ports: WIRE_ACCOUNTING, NETWORK_SHAPING on.
      const server = await startChild('on', 'on', cpuProfDir, {
        pinCore: core,
        // The default topology keeps the profile folder run.ts reads.
        profileName: label === 'sqlite' ? 'capacity-project' : `capacity-${label}`,
        ...(redis ? { env: { REDIS_URL: redis.url, REDIS_PREFIX: `bench${process.pid}:` } } : {}),
      });
      return {
        side: 'project',
        label,
        spawnedAt,
        pid: server.pid,
        url: server.url,
        pinned: server.pinned,
        ...partsOf(() => ({ node: [server.pid], ...redisParts() })),
        async stop() {
          await server.stop();
          await stopRedis();
        },
      };
    }
    // nginx on `port`, the instances on port+1 … port+N, their receivers on port+N+1 … port+2N.
    let port = 0;
    for (let tries = 0; tries < 20 && port === 0; tries += 1) {
      const candidate = 20_000 + Math.floor(Math.random() * 30_000);
      if (await portsFree(candidate, 2 * topology.instances + 1)) port = candidate;
    }
    if (port === 0) throw new Error('no free run of ports for the cluster');
    const dataDir = mkdtempSync(join(tmpdir(), 'transport-lab-bench-cluster-'));
    const started = await startChildProcess({
      label: `cluster of ${topology.instances}`,
      nodeArgs: [
        clusterScript,
        '--instances',
        String(topology.instances),
        '--port',
        String(port),
        '--no-build',
      ],
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        REDIS_URL: redis?.url ?? '',
        REDIS_PREFIX: `bench${process.pid}:`,
        LOG_LEVEL: process.env.BENCH_SERVER_LOG ?? 'silent',
        STATIC_DIR: join(dataDir, 'no-client'),
      },
      pinCore: core,
      startTimeoutMs: 180_000,
      onStderr(chunk) {
        if (process.env.BENCH_SERVER_LOG) process.stderr.write(`[cluster] ${chunk}`);
      },
      ready: (line) => /^cluster ready: (\S+)/.exec(line)?.[1],
    });
    // Read once, now that every instance and nginx's workers run: the launcher itself (node, which
    // only relays its children's log lines), each instance's supervisor and server (named by the
    // NETWORK_LINK_PREFIX the launcher gave it), nginx's processes.
    const byPart: Record<string, number[]> = { launcher: [started.pid], nginx: [] };
    const launched = processTree(started.pid).filter((pid) => pid !== started.pid);
    for (const top of launched.filter((pid) => parentOf(pid) === started.pid)) {
      const part = commandName(top).startsWith('nginx') ? 'nginx' : instanceOf(top);
      byPart[part] = [...(byPart[part] ?? []), ...processTree(top)];
    }
    return {
      side: 'project',
      label,
      spawnedAt,
      pid: started.pid,
      // nginx's port, or i1's (PORT + 1) when the phones go to it directly.
      url: topology.direct ? `http://127.0.0.1:${port + 1}` : started.ready,
      pinned: started.pinned,
      ...partsOf(() => ({ ...byPart, ...redisParts() })),
      async stop() {
        await started.stop(20_000);
        rmSync(dataDir, { recursive: true, force: true });
        await stopRedis();
      },
    };
  } catch (error) {
    await stopRedis();
    throw error;
  }
}
