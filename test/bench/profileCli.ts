// Where one V8 CPU profile's busy time goes (`node --cpu-prof`, the main thread's file):
//
//   npx tsx test/bench/profileCli.ts FILE.cpuprofile [--top 20] [--events N] [--from-ms A --to-ms B]
//
// Three lists: self time by group (a server source file, an npm package, a `node:` module, V8's own
// entries such as `(garbage collector)`), self time by function, and inclusive time by function (a
// sample counts once for every distinct function on its stack). Shares are of the busy time (every
// sample but `(idle)`); with `--events N` each line also says µs per event. Sampling adds its own
// cost to every function call, so small functions read high: the ranking is what this is for.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '20' },
    events: { type: 'string' },
    'from-ms': { type: 'string', default: '0' },
    'to-ms': { type: 'string', default: 'Infinity' },
  },
});
const file = positionals[0];
if (!file) throw new Error('usage: profileTop.ts FILE.cpuprofile [--top N] [--events N]');
const top = Number(values.top);
const events = values.events === undefined ? undefined : Number(values.events);
/** Only samples this far into the profile (--cpu-prof starts as the process does), ms. */
const fromMs = Number(values['from-ms']);
const toMs = Number(values['to-ms']);

const repoRoot = new URL('../../', import.meta.url).href;

function groupOf(url: string, functionName: string): string {
  if (url === '') return functionName || '(native)';
  const inPackage = url.split('/node_modules/').at(-1) as string;
  if (inPackage !== url) {
    const parts = inPackage.split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
  }
  return url.startsWith(repoRoot) ? url.slice(repoRoot.length) : url;
}

function functionOf(node: CpuProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url === '' ? '' : ` ${groupOf(url, functionName)}:${lineNumber + 1}`;
  return `${functionName || '(anonymous)'}${where}`;
}

const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

const selfGroup = new Map<string, number>();
const selfFunction = new Map<string, number>();
const inclusive = new Map<string, number>();
let busyMs = 0;
const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);

let elapsedUs = 0;
profile.samples.forEach((id, i) => {
  elapsedUs += profile.timeDeltas[i] ?? 0;
  if (elapsedUs / 1000 < fromMs || elapsedUs / 1000 > toMs) return;
  const node = byId.get(id);
  if (!node || node.callFrame.functionName === '(idle)') return;
  const ms = (profile.timeDeltas[i] ?? 0) / 1000;
  busyMs += ms;
  add(selfGroup, groupOf(node.callFrame.url, node.callFrame.functionName), ms);
  add(selfFunction, functionOf(node), ms);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const frame = byId.get(at);
    if (!frame) break;
    const name = functionOf(frame);
    if (seen.has(name) || name.startsWith('(root)')) continue;
    seen.add(name);
    add(inclusive, name, ms);
  }
});

function print(title: string, map: Map<string, number>): void {
  console.log(`\n${title}`);
  const rows = [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [name, ms] of rows) {
    const share = ((ms / busyMs) * 100).toFixed(1).padStart(5);
    const perEvent = events ? `  ${((ms * 1000) / events).toFixed(1).padStart(6)} µs/event` : '';
    console.log(`${share} %  ${ms.toFixed(0).padStart(6)} ms${perEvent}  ${name}`);
  }
}

console.log(
  `busy ${busyMs.toFixed(0)} ms${events ? ` = ${((busyMs * 1000) / events).toFixed(1)} µs/event` : ''}`,
);
print('self time by group', selfGroup);
print('self time by function', selfFunction);
print('inclusive time by function', inclusive);
