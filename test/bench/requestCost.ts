import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { API_PATHS, labTagHeaders, labTagQuery } from '@transport-lab/shared';
import { io } from 'socket.io-client';
import { send } from './httpSend.ts';
import { cpuTimeMs, startChildProcess, threadCpuMs } from './processes.ts';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    n: { type: 'string', default: '1000' },
    /** Requests in flight at once: 1 prices a request alone (with a turn of the event loop, a store
     *  commit and the timers each); more share those, as a hall's burst does. */
    concurrency: { type: 'string', default: '1' },
    'server-core': { type: 'string', default: '0' },
    'cpu-prof': { type: 'string' },
    kinds: { type: 'string', default: 'create,create-conn,status,sse-open,socket,raw-create' },
  },
});
const n = Number(values.n);
const concurrency = Number(values.concurrency);
const serverDir = fileURLToPath(new URL('../../server', import.meta.url));

/** A child node process on the server's core, ready once it prints "listening on <url>". */
function startChild(label: string, args: string[], env: Record<string, string>) {
  return startChildProcess({
    label,
    nodeArgs: args,
    cwd: serverDir,
    env: { ...process.env, ...env },
    pinCore: Number(values['server-core']),
    ready: (line) => /listening on (http:\/\/\S+)/.exec(line)?.[1]?.replace('localhost', '127.0.0.1'),
  });
}

const SPEC = { durationMs: 120_000, steps: 1 };
const tag = (lane: 'short-polling' | 'sse' | 'websocket', i: number) => ({
  lane,
  runId: `cost-${lane}-${i % 50}`,
});

async function measure(pid: number, label: string, one: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < 50; i += 1) await one(i); // warm the paths up
  const before = cpuTimeMs(pid);
  const threadsBefore = threadCpuMs(pid);
  const started = performance.now();
  let chunkCpu = before;
  const chunks: number[] = [];
  for (let i = 0; i < n; i += concurrency) {
    await Promise.all(Array.from({ length: Math.min(concurrency, n - i) }, (_, k) => one(i + k)));
    if (Math.floor((i + concurrency) / (n / 5)) > Math.floor(i / (n / 5))) {
      const now = cpuTimeMs(pid);
      chunks.push(((now - chunkCpu) * 1000) / Math.max(1, Math.floor(n / 5)));
      chunkCpu = now;
    }
  }
  const wall = performance.now() - started;
  const cpu = cpuTimeMs(pid) - before;
  const threadsAfter = threadCpuMs(pid);
  const split = [...threadsAfter]
    .map(([k, v]) => `${k} ${(((v - (threadsBefore.get(k) ?? 0)) * 1000) / n).toFixed(0)}`)
    .join(', ');
  console.log(
    `${label.padEnd(12)} ${((cpu * 1000) / n).toFixed(0).padStart(6)} µs CPU/request  ${((wall * 1000) / n).toFixed(0).padStart(6)} µs wall/request  (by fifths: ${chunks.map((c) => c.toFixed(0)).join(', ')} µs; ${split} µs)`,
  );
}

async function main(): Promise<void> {
  const kinds = new Set(values.kinds.split(','));
  const dataDir = mkdtempSync(join(tmpdir(), 'request-cost-'));
  const profile = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];
  const server = await startChild('lab server', ['--import', 'tsx', ...profile, 'src/serve.ts'], {
    HOST: '127.0.0.1',
    PORT: '0',
    RECEIVER_PORT: '0',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    STATIC_DIR: join(dataDir, 'no-client'),
    MAX_RUNNING_TASKS: '1000000',
    // Every created task runs (120 s) through the measurement: none may wait for a worker.
    WORKERS: '1000000',
    MAX_QUEUED_TASKS: '1000000',
    // Sequential requests on a shared machine: the event-loop guard is not what this measures.
    MAX_EVENT_LOOP_DELAY_MS: '60000',
  });
  const pid = server.pid;
  const serverUrl = server.ready;
  const keepAlive = new Agent({ keepAlive: true, maxSockets: concurrency });
  const create = async (agent: Agent, i: number) => {
    const answer = await send(
      agent,
      `${serverUrl}${API_PATHS.tasks}`,
      'POST',
      labTagHeaders(tag('short-polling', i)),
      { spec: SPEC },
    );
    if (answer.status !== 202) throw new Error(`create: ${answer.status} ${answer.body}`);
    return (JSON.parse(answer.body) as { task: { id: string } }).task.id;
  };
  try {
    if (kinds.has('create')) await measure(pid, 'create', async (i) => void (await create(keepAlive, i)));
    if (kinds.has('create-conn'))
      await measure(pid, 'create-conn', async (i) => {
        const agent = new Agent({ keepAlive: false });
        await create(agent, i);
        agent.destroy();
      });
    const id = await create(keepAlive, 0);
    if (kinds.has('status'))
      await measure(pid, 'status', async (_i) => {
        // The task's own run: a task is visible to the run that made it.
        const answer = await send(
          keepAlive,
          `${serverUrl}${API_PATHS.task(id)}`,
          'GET',
          labTagHeaders(tag('short-polling', 0)),
        );
        if (answer.status !== 200) throw new Error(`status: ${answer.status} ${answer.body}`);
      });
    if (kinds.has('sse-open'))
      await measure(pid, 'sse-open', async (i) => {
        const query = new URLSearchParams(labTagQuery(tag('sse', i))).toString();
        await new Promise<void>((resolve, reject) => {
          const req = request(
            `${serverUrl}${API_PATHS.stream(id)}?${query}`,
            { agent: keepAlive, headers: { accept: 'text/event-stream' } },
            (res) => {
              if (res.statusCode !== 200) reject(new Error(`sse: ${res.statusCode}`));
              res.once('data', () => {
                req.destroy();
                resolve();
              });
            },
          );
          req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
          req.end();
        });
      });
    if (kinds.has('socket'))
      await measure(pid, 'socket', async () => {
        const socket = io(serverUrl, { transports: ['websocket'], reconnection: false, forceNew: true });
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        });
        socket.close();
      });
  } finally {
    keepAlive.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (kinds.has('raw-create')) {
    const rawFile = join(tmpdir(), `raw-create-${process.pid}.mjs`);
    writeFileSync(
      rawFile,
      `import { createServer } from 'node:http';
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const spec = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const body = JSON.stringify({ id: crypto.randomUUID(), status: 'pending', spec, createdAt: Date.now() });
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));
`,
    );
    const raw = await startChild('bare node:http server', [rawFile], {});
    try {
      const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
      await measure(raw.pid, 'raw-create', async () => {
        const answer = await send(agent, `${raw.ready}${API_PATHS.tasks}`, 'POST', {}, { spec: SPEC });
        if (answer.status !== 202) throw new Error(`raw: ${answer.status}`);
      });
      agent.destroy();
    } finally {
      await raw.stop();
      rmSync(rawFile, { force: true });
    }
  }
}

await main();
