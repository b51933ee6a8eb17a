// Where one server's time goes: its main thread's V8 CPU profile (`--cpu-prof`), by function, with
// self time (samples in the function itself) and inclusive time (samples with the function anywhere
// on the stack, each sample counted once per function). Sampling adds its own cost to every call, so
// the absolute figures run high; the ranking is what this is for.
import { type CpuProfile, groupOf, readMainThreadProfile } from './profileDiff.ts';

export interface ProfileEntry {
  /** `function (file:line)`; the file relative to its package or to the repository. */
  name: string;
  /** Its npm package, repository file or V8 category (profileDiff's groups). */
  group: string;
  selfMs: number;
  totalMs: number;
  /** Of the busy time (every sample but `(idle)`). */
  selfPercent: number;
  totalPercent: number;
}

export interface ProfileTop {
  /** Samples before this, ms after the profile began, were left out (the process's start-up). */
  fromMs: number;
  /** Main-thread time not idle, ms. */
  busyMs: number;
  bySelf: ProfileEntry[];
  /** Functions of the server's own code and its packages: Node's internals and V8's native frames
   *  (runMicrotasks, processTimers, emit, …) wrap nearly everything and would fill the list. */
  byTotal: ProfileEntry[];
  /** Self time per group (package, file), largest first. */
  groups: Array<{ group: string; selfMs: number; selfPercent: number }>;
}

const NOT_WORK = new Set(['(root)', '(idle)']);
const repoRoot = new URL('../../', import.meta.url).href;

function where(url: string, line: number | undefined): string {
  if (url === '') return '';
  const inPackage = url.split('/node_modules/').at(-1) as string;
  const file = inPackage !== url ? inPackage : url.startsWith(repoRoot) ? url.slice(repoRoot.length) : url;
  return ` (${file}${line !== undefined && line >= 0 ? `:${line + 1}` : ''})`;
}

/** `fromMs`: leave out the samples of the first `fromMs` of the profile (start-up: loading modules). */
export function profileTop(
  dir: string,
  { limit = 15, fromMs = 0 }: { limit?: number; fromMs?: number } = {},
): ProfileTop {
  const profile: CpuProfile = readMainThreadProfile(dir);
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const keyOf = new Map<number, string>();
  const entries = new Map<string, { name: string; group: string; selfMs: number; totalMs: number }>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anonymous)'}${where(url, lineNumber)}`;
    keyOf.set(node.id, name);
    if (!entries.has(name))
      entries.set(name, { name, group: groupOf(url, functionName), selfMs: 0, totalMs: 0 });
  }
  let busyMs = 0;
  let elapsedMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    elapsedMs += ms;
    const self = keyOf.get(id) as string;
    if (NOT_WORK.has(self) || elapsedMs < fromMs) return;
    busyMs += ms;
    (entries.get(self) as { selfMs: number }).selfMs += ms;
    // Each function once per sample, however often it recurs on the stack.
    const onStack = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) {
      onStack.add(keyOf.get(node) as string);
    }
    for (const key of onStack)
      if (!NOT_WORK.has(key)) (entries.get(key) as { totalMs: number }).totalMs += ms;
  });
  const percent = (ms: number) => Math.round((ms / busyMs) * 1000) / 10;
  const rounded = [...entries.values()].map((e) => ({
    ...e,
    selfMs: Math.round(e.selfMs),
    totalMs: Math.round(e.totalMs),
    selfPercent: percent(e.selfMs),
    totalPercent: percent(e.totalMs),
  }));
  const groups = new Map<string, number>();
  for (const e of entries.values()) groups.set(e.group, (groups.get(e.group) ?? 0) + e.selfMs);
  const ownOrPackage = (e: { name: string; group: string }) =>
    !e.group.startsWith('node:') && e.name.includes(' (');
  return {
    fromMs: Math.round(fromMs),
    busyMs: Math.round(busyMs),
    bySelf: [...rounded].sort((a, b) => b.selfMs - a.selfMs).slice(0, limit),
    byTotal: rounded
      .filter(ownOrPackage)
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, limit),
    groups: [...groups]
      .filter(([group]) => !NOT_WORK.has(group))
      .map(([group, ms]) => ({ group, selfMs: Math.round(ms), selfPercent: percent(ms) }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, limit),
  };
}
