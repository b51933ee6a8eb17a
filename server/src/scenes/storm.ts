import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { STORM, type StormResponse } from '@transport-lab/shared';
import { Server } from 'socket.io';
import { type Socket as ClientSocket, io as connect } from 'socket.io-client';

/**
 * A reconnect storm after a restart (issue 15, item 5), measured where it hits: the server.
 *
 * Why not restart the lab's own server: in a hall it is shared, so a restart breaks every other
 * person's race (it is the operator's restart-server fault for that reason), and the connections
 * that come back would be everyone's pages, a number nobody chose, spread by whatever each lane
 * does. Instead each storm starts a socket.io server of its own on a loopback port and `STORM.clients`
 * socket.io clients (socket.io-client, the library the page uses) in this process, connected to it.
 * The restart is real for them: the storm's server drops every TCP connection at once, as a process
 * that dies does, stops listening for `STORM.downtimeMs`, then listens again on the same port as a
 * new server. Each client reconnects by socket.io's own backoff, with the `randomizationFactor` asked
 * for (0: every client waits exactly `reconnectionDelay`), and the new server counts the connections
 * it accepts per `STORM.bucketMs`. Nobody else's connection is touched; the cost is a second of this
 * process's CPU, so one storm runs at a time.
 *
 * What it cannot show: clients and server share one event loop here, so a spike is accepted as fast
 * as one Node process can handshake (with clients on thousands of machines it would be steeper).
 */

/** One life of the storm's server: its listener, its socket.io, and every TCP connection it holds. */
interface StormServer {
  http: HttpServer;
  io: Server;
  connections: Set<NetSocket>;
}

/** What the storm's server reports: each TCP connection it accepts, each socket.io client connected. */
interface StormCounters {
  onAccept(): void;
  onConnection(): void;
}

async function startStormServer(port: number, counters: StormCounters): Promise<StormServer> {
  const http = createHttpServer();
  const connections = new Set<NetSocket>();
  http.on('connection', (socket) => {
    counters.onAccept();
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });
  // WebSocket only: one TCP connection per client, so an accepted connection is one client back.
  const io = new Server(http, { transports: ['websocket'], serveClient: false });
  io.on('connection', counters.onConnection);
  http.listen({ port, host: '127.0.0.1', backlog: 1024 });
  await once(http, 'listening');
  return { http, io, connections };
}

/** Dies as a crashed process does: every connection reset, nothing said to the clients. */
async function crash(server: StormServer): Promise<void> {
  const closed = new Promise<void>((resolve) => server.http.close(() => resolve()));
  for (const socket of server.connections) socket.destroy();
  server.io.engine.close();
  await closed;
}

/** Connections per bucket of `bucketMs`, from `0` (the restart) over `windowMs`. */
export function bucketsOf(atMs: number[], bucketMs: number, windowMs: number): number[] {
  const buckets = new Array<number>(Math.ceil(windowMs / bucketMs)).fill(0);
  for (const t of atMs) {
    const i = Math.floor(t / bucketMs);
    if (i >= 0 && i < buckets.length) buckets[i] = (buckets[i] ?? 0) + 1;
  }
  return buckets;
}

/** How long the clients may take to connect before the storm gives up, ms. */
const CONNECT_LIMIT_MS = 15_000;

function connectedWithin(clients: ClientSocket[], limitMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let waiting = clients.filter((c) => !c.connected).length;
    if (waiting === 0) return resolve();
    const timer = setTimeout(
      () => reject(new Error(`${waiting} of ${clients.length} storm clients did not connect`)),
      limitMs,
    );
    for (const client of clients) {
      if (client.connected) continue;
      client.once('connect', () => {
        waiting -= 1;
        if (waiting > 0) return;
        clearTimeout(timer);
        resolve();
      });
    }
  });
}

/** Runs one storm: `STORM.clients` clients, a restart, and the new server's count of them coming back. */
export async function runStorm(randomizationFactor: number): Promise<StormResponse> {
  // Times since the restart, ms; negative ones (the first connections) are not counted.
  /** TCP connections accepted: the rate plotted, the load a restarted server meets first. */
  const accepted: number[] = [];
  /** socket.io clients connected (the handshake done): every client back. */
  const connected: number[] = [];
  let restartAt = Number.POSITIVE_INFINITY;
  const counters: StormCounters = {
    onAccept: () => accepted.push(performance.now() - restartAt),
    onConnection: () => connected.push(performance.now() - restartAt),
  };
  let server = await startStormServer(0, counters);
  const { port } = server.http.address() as AddressInfo;
  const clients: ClientSocket[] = [];
  try {
    for (let i = 0; i < STORM.clients; i++) {
      clients.push(
        connect(`http://127.0.0.1:${port}`, {
          transports: ['websocket'],
          forceNew: true,
          reconnectionDelay: STORM.reconnectionDelayMs,
          // The first retry is the one plotted; later ones (none if the downtime is as short as it is)
          // would double it up to here.
          reconnectionDelayMax: STORM.reconnectionDelayMs * 4,
          randomizationFactor,
        }),
      );
    }
    await connectedWithin(clients, CONNECT_LIMIT_MS);
    restartAt = performance.now();
    await crash(server);
    await sleep(STORM.downtimeMs);
    server = await startStormServer(port, counters);
    await sleep(restartAt + STORM.windowMs - performance.now());
    const back = accepted.filter((t) => t >= 0);
    return {
      clients: STORM.clients,
      randomizationFactor,
      reconnectionDelayMs: STORM.reconnectionDelayMs,
      downtimeMs: STORM.downtimeMs,
      bucketMs: STORM.bucketMs,
      buckets: bucketsOf(back, STORM.bucketMs, STORM.windowMs),
      reconnected: connected.filter((t) => t >= 0).length,
      ...(back.length ? { firstMs: Math.min(...back), lastMs: Math.max(...back) } : {}),
    };
  } finally {
    for (const client of clients) client.disconnect();
    await crash(server);
  }
}
