import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  API_PATHS,
  FAULT_PATHS,
  type Fault,
  SOCKET_EVENTS,
  StartAck,
  TaskResponse,
} from '@transport-lab/shared';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOperatorToken } from '../src/access/index.ts';
import { type AppHandle, createServer, listen } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { tempDataDir } from './harness.ts';
import { newRunId } from './wireHarness.ts';

// The operator's rights from a real address that is not loopback: a network namespace joined to
// this host by a veth pair (a /30 of its own, nothing else routed), the server listening on the
// host's end, requests sent from inside the namespace. Needs root (CI is root); otherwise skipped,
// saying why. Nothing here is left behind: the namespace (and with it both ends of the pair) goes
// in afterAll, whatever happened.

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
if (!isRoot)
  console.warn('netns.test.ts skipped: creating a network namespace needs root (CI runs as root).');

// Names and a /30 of 10.213.0.0/16 from this process's id, so that two runs never share them.
const slot = process.pid % 16_384;
const NS = `tlab-${process.pid}`;
const HOST_IF = `tl${process.pid % 1_000_000}h`;
const NS_IF = `tl${process.pid % 1_000_000}n`;
const subnet = (offset: number) => `10.213.${Math.floor((slot * 4) / 256)}.${((slot * 4) % 256) + offset}`;
const HOST_IP = subnet(1);
const NS_IP = subnet(2);

const TOKEN = generateOperatorToken();
const SLOW = { durationMs: 60_000, steps: 60 };
const serverDir = join(import.meta.dirname, '..');

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

/**
 * Runs `source` (an ES module) with node inside the namespace, from the server's folder so that it
 * can import socket.io-client, and returns what it printed as JSON. Asynchronous on purpose: the
 * server under test answers from this same process's event loop.
 */
async function inNamespace(source: string, env: Record<string, string>): Promise<unknown> {
  const { stdout } = await run(
    'ip',
    ['netns', 'exec', NS, process.execPath, '--input-type=module', '-e', source],
    { cwd: serverDir, env: { ...process.env, ...env }, timeout: 20_000 },
  );
  return JSON.parse(stdout);
}

/** Posts each fault from the namespace, without and then with the token; prints the statuses. */
const POST_FAULTS = `
const faults = JSON.parse(process.env.FAULTS);
const post = async (fault, headers) => (await fetch(process.env.BASE + '${FAULT_PATHS.faults}', {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(fault),
})).status;
const out = [];
for (const fault of faults) {
  out.push({
    kind: fault.kind,
    without: await post(fault, {}),
    wrongToken: await post(fault, { authorization: 'Bearer ' + 'x'.repeat(43) }),
    withToken: await post(fault, { authorization: 'Bearer ' + process.env.TOKEN }),
  });
}
console.log(JSON.stringify(out));
`;

/** Cancels a task someone else started, over HTTP and over socket.io, without and with the token. */
const CANCEL_OTHERS = `
import { io } from 'socket.io-client';
const base = process.env.BASE;
const cancelHttp = async (id, headers) => (await fetch(base + '/api/tasks/' + id + '/cancel', { method: 'POST', headers })).status;
const cancelSocket = (id, headers) => new Promise((resolve, reject) => {
  const socket = io(base, { transports: ['websocket'], forceNew: true, extraHeaders: headers, reconnection: false });
  socket.once('connect_error', reject);
  socket.emit('${SOCKET_EVENTS.cancel}', { taskId: id }, (ack) => { socket.disconnect(); resolve(ack.ok ? 'ok' : ack.error.code); });
});
const bearer = { authorization: 'Bearer ' + process.env.TOKEN };
console.log(JSON.stringify({
  httpWithout: await cancelHttp(process.env.HTTP_TASK, {}),
  httpWithToken: await cancelHttp(process.env.HTTP_TASK, bearer),
  socketWithout: await cancelSocket(process.env.SOCKET_TASK, {}),
  socketWithToken: await cancelSocket(process.env.SOCKET_TASK, bearer),
}));
`;

describe.skipIf(!isRoot)('the operator, from an address that is not loopback (a network namespace)', () => {
  let app: AppHandle | undefined;
  let base = '';
  const dataDir = tempDataDir();
  const restarts: number[] = [];

  beforeAll(async () => {
    await ip('netns', 'add', NS);
    await ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
    await ip('link', 'set', NS_IF, 'netns', NS);
    await ip('addr', 'add', `${HOST_IP}/30`, 'dev', HOST_IF);
    await ip('link', 'set', HOST_IF, 'up');
    await ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${NS_IP}/30`, 'dev', NS_IF);
    await ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up');
    await ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      // Lanes and rights under test, not admission: the event-loop guard out of the way (harness.ts).
      MAX_EVENT_LOOP_DELAY_MS: '60000',
      DATA_DIR: dataDir,
      STATIC_DIR: join(dataDir, 'no-client'),
      OPERATOR_TOKEN: TOKEN,
    });
    app = await createServer(config, undefined, { restart: () => restarts.push(Date.now()) });
    const { port } = await listen(app, { port: 0, receiverPort: 0, host: HOST_IP });
    base = `http://${HOST_IP}:${port}`;
  }, 60_000);

  afterAll(async () => {
    try {
      await app?.close();
    } finally {
      // Deleting the namespace deletes its end of the pair, and with it the host's end.
      await ip('netns', 'del', NS).catch(() => undefined);
      await ip('link', 'del', HOST_IF).catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses every fault that reaches other runs without the token (403) and allows it with the token', async () => {
    const operatorOnly: Fault[] = [
      { kind: 'restart-server' },
      { kind: 'restart-server', runId: newRunId() },
      { kind: 'receiver', runId: newRunId(), mode: 'timeout', count: 1 },
    ];
    const results = await inNamespace(POST_FAULTS, {
      BASE: base,
      TOKEN,
      FAULTS: JSON.stringify(operatorOnly),
    });
    expect(results).toEqual(
      operatorOnly.map((fault) => ({ kind: fault.kind, without: 403, wrongToken: 403, withToken: 201 })),
    );
    // Both restarts with the token reached the supervisor's hook; none without.
    await expect.poll(() => restarts.length).toBe(2);
  });

  it('allows the faults of one’s own run without the token', async () => {
    const runId = newRunId();
    const own: Fault[] = [
      { kind: 'buffer-streams', runId, on: true },
      { kind: 'slow-downstream', runId, stallMs: 1_000 },
      { kind: 'receiver', runId, mode: 'unavailable-503', count: 1 },
    ];
    const results = (await inNamespace(POST_FAULTS, {
      BASE: base,
      TOKEN,
      FAULTS: JSON.stringify(own),
    })) as Array<{
      without: number;
    }>;
    expect(results.map((r) => r.without)).toEqual([201, 201, 201]);
  });

  it('refuses cancelling someone else’s task over HTTP and socket.io without the token, and allows it with', async () => {
    // Started from the host's end of the pair: someone else, as the namespace sees it.
    const created = await fetch(`${base}${API_PATHS.tasks}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ spec: SLOW }),
    });
    const httpTask = TaskResponse.parse(await created.json()).task.id;
    const owner = connect(base, { transports: ['websocket'], forceNew: true });
    try {
      const started = StartAck.parse(
        await new Promise((resolve) => owner.emit(SOCKET_EVENTS.start, SLOW, resolve)),
      );
      if (!started.ok) throw new Error(started.error.message);
      const results = await inNamespace(CANCEL_OTHERS, {
        BASE: base,
        TOKEN,
        HTTP_TASK: httpTask,
        SOCKET_TASK: started.task.id,
      });
      expect(results).toEqual({
        httpWithout: 403,
        httpWithToken: 200,
        socketWithout: 'FORBIDDEN',
        socketWithToken: 'ok',
      });
    } finally {
      owner.disconnect();
    }
  });
});
