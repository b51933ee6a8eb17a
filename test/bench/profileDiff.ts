// Where the on-server's extra CPU goes: the two servers' V8 CPU profiles (`--cpu-prof`), their
// main threads' self time grouped by source, set side by side. Sampling adds its own cost to every
// function call, so the absolute figures run high; the ranking is what this is for.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Accounting } from './serverCost.ts';

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber?: number };
  children?: number[];
}
/** A V8 CPU profile as `--cpu-prof` writes it: sampled node ids, each with the µs since the last. */
export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileGroup {
  /** A server source file, an npm package, a `node:` module, or V8's own (`(garbage collector)`). */
  group: string;
  onMs: number;
  offMs: number;
  /** (on − off) per event, µs. */
  differenceUsPerEvent: number;
}

export interface ProfileDiff {
  /** Main-thread time not idle, ms. */
  busyMs: Record<Accounting, number>;
  /** The largest differences first. */
  groups: ProfileGroup[];
}

const repoRoot = new URL('../../', import.meta.url).href;

/** Where a function comes from: its npm package, its file in this repository, or V8's own name. */
export function groupOf(url: string, functionName: string): string {
  if (url === '') return functionName || '(native)';
  const inPackage = url.split('/node_modules/').at(-1) as string;
  if (inPackage !== url) {
    const parts = inPackage.split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
  }
  return url.startsWith(repoRoot) ? url.slice(repoRoot.length) : url;
}

/** The main thread's profile in `dir` (file `CPU.<date>.<time>.<pid>.0.<n>.cpuprofile`). */
export function readMainThreadProfile(dir: string): CpuProfile {
  const file = readdirSync(dir).find((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name));
  if (!file) throw new Error(`no main-thread CPU profile in ${dir}`);
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
}

/** Self time by group of the main thread's profile. */
function selfTimeByGroup(dir: string): Map<string, number> {
  const profile = readMainThreadProfile(dir);
  const groupById = new Map(
    profile.nodes.map((n) => [n.id, groupOf(n.callFrame.url, n.callFrame.functionName)]),
  );
  const byGroup = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const group = groupById.get(id) ?? '(unknown)';
    byGroup.set(group, (byGroup.get(group) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return byGroup;
}

/** `events`: every event each server delivered while profiled, warm-up included. */
export function profileDiff(dir: string, events: Record<Accounting, number>): ProfileDiff {
  const on = selfTimeByGroup(join(dir, 'on'));
  const off = selfTimeByGroup(join(dir, 'off'));
  const busy = (groups: Map<string, number>) =>
    [...groups].reduce((sum, [group, ms]) => (group === '(idle)' ? sum : sum + ms), 0);
  const groups = [...new Set([...on.keys(), ...off.keys()])]
    .filter((group) => group !== '(idle)')
    .map((group) => {
      const onMs = on.get(group) ?? 0;
      const offMs = off.get(group) ?? 0;
      return {
        group,
        onMs: Math.round(onMs),
        offMs: Math.round(offMs),
        differenceUsPerEvent:
          Math.round(((onMs * 1000) / events.on - (offMs * 1000) / events.off) * 100) / 100,
      };
    })
    .sort((a, b) => b.differenceUsPerEvent - a.differenceUsPerEvent);
  return { busyMs: { on: Math.round(busy(on)), off: Math.round(busy(off)) }, groups };
}
