// The reconnect storm's server, a process of its own (storm.ts forks it): plain JavaScript, so that it
// runs on bare node whatever loads the lab's server (tsx, Playwright's loader). In the lab server's own
// event loop (shared, in the e2e, with the test runner's) its accepts waited behind every other piece
// of work; here its loop only accepts and handshakes.
//
// On {type: 'listen'} it listens on a free loopback port and says {type: 'listening', port}. On
// {type: 'restart', downtimeMs, windowMs, clients} it crashes (every TCP connection destroyed, nothing
// said to the clients), listens again on the same port after downtimeMs, and counts from the crash: each
// TCP connection accepted and each socket.io client connected; once windowMs has passed and every client
// is back (or 3 windows have), it says {type: 'counted', acceptedMs, connectedMs} and ends.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { Server } from 'socket.io';

let restartAt = Number.POSITIVE_INFINITY;
const acceptedMs = [];
const connectedMs = [];
let current;

async function start(port) {
  const http = createServer();
  const connections = new Set();
  http.on('connection', (socket) => {
    acceptedMs.push(performance.now() - restartAt);
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });
  // WebSocket only: one TCP connection per client, so an accepted connection is one client's attempt.
  const io = new Server(http, { transports: ['websocket'], serveClient: false });
  io.on('connection', () => connectedMs.push(performance.now() - restartAt));
  http.listen({ port, host: '127.0.0.1', backlog: 1024 });
  await once(http, 'listening');
  return { http, io, connections };
}

async function crash(server) {
  const closed = new Promise((resolve) => server.http.close(() => resolve()));
  for (const socket of server.connections) socket.destroy();
  server.io.engine.close();
  await closed;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

process.on('message', async (message) => {
  if (message?.type === 'listen') {
    current = await start(0);
    process.send({ type: 'listening', port: current.http.address().port });
  } else if (message?.type === 'restart') {
    const { port } = current.http.address();
    restartAt = performance.now();
    await crash(current);
    await sleep(message.downtimeMs);
    current = await start(port);
    const back = () => connectedMs.filter((t) => t >= 0).length >= message.clients;
    while (
      performance.now() - restartAt < message.windowMs ||
      (!back() && performance.now() - restartAt < 3 * message.windowMs)
    )
      await sleep(50);
    process.send(
      {
        type: 'counted',
        acceptedMs: acceptedMs.filter((t) => t >= 0),
        connectedMs: connectedMs.filter((t) => t >= 0),
      },
      () => process.exit(0),
    );
  }
});
// The lab's server is gone: so is its storm.
process.on('disconnect', () => process.exit(0));
