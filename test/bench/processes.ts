// The benchmark's child processes and what /proc says about them: starting a server as a child (and
// on which core), its CPU time and its peak memory. Shared by serverCost.ts, fanout.ts and
// capacity.ts, so that each reads a process the same way.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

// ── CPU time and memory from /proc ──────────────────────────────────────────────────────────────────

export const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of the process (every thread), in ms; the kernel counts in clock ticks. */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name, in parentheses, may hold spaces: fields are counted after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // proc(5): utime is field 14 and stime field 15; here field 3 (state) is index 0.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}

/** CPU ms of the main thread and of the others (V8's GC helpers, libuv's pool, tsx's loader) by name. */
export function threadCpuMs(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    // Node names its threads alike ("node"): the main thread, whose id is the pid, is told apart.
    const name =
      tid === String(pid) ? 'main' : `other (${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))})`;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    byName.set(name, (byName.get(name) ?? 0) + ms);
  }
  return byName;
}

/** The process's peak resident set (VmHWM, "high water mark"), KiB: since it started, or since the
 *  last resetPeakRss. */
export function peakRssKiB(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match?.[1] ? Number(match[1]) : Number.NaN;
}

/** Sets the process's VmHWM back to its current RSS (proc(5): "5" to /proc/<pid>/clear_refs, Linux
 *  4.0+), so that the next peakRssKiB is the peak of what follows. False when the kernel refused. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The process's command name (`comm`: "node", "nginx", "redis-server"). */
export function commandName(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
}

/** `pid` and every process descending from it now (a launcher's servers: the cluster's supervisors,
 *  their servers, nginx's master and workers), from each process's parent in /proc/<pid>/stat. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it ended between the listing and the read
    }
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  const visit = (id: number) => {
    tree.push(id);
    for (const child of children.get(id) ?? []) visit(child);
  };
  visit(pid);
  return tree;
}

/** Busy time of each core since boot, ms, from /proc/stat (user, nice, system, irq, softirq, steal:
 *  everything but idle and iowait), whoever it was for. */
export function coreBusyMs(): number[] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((line) => /^cpu\d+ /.test(line))
    .map((line) => {
      const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
      const ticks = [user, nice, system, irq, softirq, steal].reduce<number>((sum, v) => sum + (v ?? 0), 0);
      return (ticks * 1000) / CLOCK_TICKS;
    });
}

// ── Cores ───────────────────────────────────────────────────────────────────────────────────────────

/** Whether util-linux's `taskset` is here: without it nothing is pinned, and the reports say so. */
export const TASKSET_AVAILABLE: boolean = (() => {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Moves every thread of a running process (`-a`) onto `cores` ("1", "0-1"); false when it could not. */
export function pinProcess(pid: number, cores: string): boolean {
  if (!TASKSET_AVAILABLE) return false;
  try {
    execFileSync('taskset', ['-a', '-cp', cores, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// ── Child processes ─────────────────────────────────────────────────────────────────────────────────

const live = new Set<ChildProcess>();
// A bench interrupted by an exception still leaves no child behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface ChildOptions<T> {
  /** Named in errors: "lab server", "ws baseline server". */
  label: string;
  /** Arguments of `node` (this process's own binary). */
  nodeArgs: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each line the child prints on stdout until it returns a value: the child is ready. */
  ready(line: string): T | undefined;
  /** Run the child on this core alone (`taskset -c`, which execs node: the pid is node's). */
  pinCore?: number;
  /** Each chunk of the child's stderr as it comes (it is also kept for the error of a failed start). */
  onStderr?(chunk: string): void;
  /** How long to wait for `ready`, ms. */
  startTimeoutMs?: number;
}

export interface StartedChild<T> {
  child: ChildProcess;
  pid: number;
  /** What `ready` returned. */
  ready: T;
  /** Whether `pinCore` was applied (false: asked for, but no taskset here). */
  pinned: boolean;
  /** SIGTERM (a server closes cleanly, and a --cpu-prof profile is written on the way out), then
   *  SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export async function startChildProcess<T>(options: ChildOptions<T>): Promise<StartedChild<T>> {
  const pinned = options.pinCore !== undefined && TASKSET_AVAILABLE;
  const [command, args] = pinned
    ? ['taskset', ['-c', String(options.pinCore), process.execPath, ...options.nodeArgs]]
    : [process.execPath, options.nodeArgs];
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
    options.onStderr?.(String(chunk));
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const ready = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${options.label}: not ready in ${timeoutMs} ms\n${stderr}`)),
      timeoutMs,
    );
    lines.on('line', (line) => {
      const value = options.ready(line);
      if (value !== undefined) {
        clearTimeout(timer);
        resolve(value);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${options.label} exited with ${code} before it was ready:\n${stderr}`));
    });
  });
  return {
    child,
    pid: child.pid as number,
    ready,
    pinned,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      live.delete(child);
    },
  };
}
