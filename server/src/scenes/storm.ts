import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bucketsOf, STORM, type StormResponse } from '@transport-lab/shared';
import { z } from 'zod';

/**
 * A reconnect storm after a restart (issue 15, item 5), measured where it hits: the server.
 *
 * Why not restart the lab's own server: in a hall it is shared, so a restart breaks every other
 * person's race (it is the operator's restart-server fault for that reason), and the connections
 * that come back would be everyone's pages, a number nobody chose, spread by whatever each lane
 * does. Instead each storm starts a socket.io server of its own on a loopback port (stormServer.mjs)
 * and `STORM.clients` socket.io clients (socket.io-client, the library the page uses) connected to it
 * (stormClients.mjs), each a child process, so that neither waits behind the other, nor behind the
 * lab's server (nor, in the e2e, the test runner sharing its loop).
 * The restart is real for them: the storm's server drops every TCP connection at once, as a process
 * that dies does, stops listening for `STORM.downtimeMs`, then listens again on the same port as a
 * new server. Each client reconnects by socket.io's own backoff, with the `randomizationFactor` asked
 * for (0: every client waits exactly `reconnectionDelay`), and the new server counts the connections
 * it accepts per `STORM.bucketMs`. Nobody else's connection is touched; the cost is a second or two of
 * CPU, so one storm runs at a time.
 *
 * What it cannot show: the clients share one process and the machine's cores, so they notice the drop
 * one after another (reported as `noticedSpreadMs`), and a lock-step comeback is as wide as that; with
 * clients on thousands of machines it would be one spike.
 */

/** How long the children may take to start and connect before the storm gives up, ms. */
const CONNECT_LIMIT_MS = 20_000;
/** How long the clients may take to report and stop, ms. */
const STOP_LIMIT_MS = 5_000;

/** What the storm's children say (stormServer.mjs, stormClients.mjs), parsed as every message from outside is. */
const ChildMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('listening'), port: z.int().min(1) }),
  z.object({ type: z.literal('connected') }),
  z.object({
    type: z.literal('counted'),
    acceptedMs: z.array(z.number().min(0)),
    connectedMs: z.array(z.number().min(0)),
  }),
  z.object({ type: z.literal('stopped'), noticedSpreadMs: z.number().min(0) }),
]);
type ChildMessage = z.infer<typeof ChildMessage>;

/** A child's next message of this type, or an error when it ends or takes longer than `limitMs`. */
function nextMessage<T extends ChildMessage['type']>(
  child: ChildProcess,
  type: T,
  limitMs: number,
): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (raw: unknown) => {
      const parsed = ChildMessage.safeParse(raw);
      if (!parsed.success || parsed.data.type !== type) return;
      done();
      resolve(parsed.data as Extract<ChildMessage, { type: T }>);
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`the storm's child process ended (code ${code}) before saying ${type}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`the storm's child process did not say ${type} within ${limitMs} ms`));
    }, limitMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Forks one of the storm's plain-JavaScript children on bare node (the server's loaders, tsx, not needed). */
const forkChild = (file: string, args: string[]) =>
  fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

/** Runs one storm: `STORM.clients` clients, a restart, and the new server's count of them coming back. */
export async function runStorm(randomizationFactor: number): Promise<StormResponse> {
  const server = forkChild('./stormServer.mjs', []);
  let clients: ChildProcess | undefined;
  try {
    const listening = nextMessage(server, 'listening', CONNECT_LIMIT_MS);
    server.send({ type: 'listen' });
    const { port } = await listening;
    clients = forkChild('./stormClients.mjs', [
      `http://127.0.0.1:${port}`,
      String(randomizationFactor),
      String(STORM.clients),
      String(STORM.reconnectionDelayMs),
    ]);
    await nextMessage(clients, 'connected', CONNECT_LIMIT_MS);
    const counted = nextMessage(server, 'counted', STORM.windowMs * 3 + CONNECT_LIMIT_MS);
    server.send({
      type: 'restart',
      downtimeMs: STORM.downtimeMs,
      windowMs: STORM.windowMs,
      clients: STORM.clients,
    });
    const { acceptedMs, connectedMs } = await counted;
    const stopped = nextMessage(clients, 'stopped', STOP_LIMIT_MS);
    clients.send({ type: 'stop' });
    const { noticedSpreadMs } = await stopped;
    return {
      clients: STORM.clients,
      randomizationFactor,
      reconnectionDelayMs: STORM.reconnectionDelayMs,
      downtimeMs: STORM.downtimeMs,
      bucketMs: STORM.bucketMs,
      buckets: bucketsOf(acceptedMs, STORM.bucketMs, STORM.windowMs),
      reconnected: connectedMs.length,
      ...(acceptedMs.length ? { firstMs: Math.min(...acceptedMs), lastMs: Math.max(...acceptedMs) } : {}),
      noticedSpreadMs,
    };
  } finally {
    clients?.kill();
    server.kill();
  }
}
