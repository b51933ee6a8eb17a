// The fan-out benchmark's baseline (fanout.ts): a raw `ws` server that broadcasts, run as a child
// process so that its sends do not share the bench's event loop, as the lab's server does not either.
//
// Receivers connect to `/`; one publisher connects to `/publish` and sends, as JSON text:
//   {type: 'broadcast', seq, bytes}  → every receiver gets one text message of exactly `bytes` UTF-8
//                                      bytes, `{"seq":…,"at":…,"pad":"…"}`, `at` stamped just before
//                                      the loop that sends it (epoch ms, as the lab's epochNow())
//   {type: 'time'}                   → the publisher gets {type: 'time', receivedAt, sentAt}, for the
//                                      bench to check that this process's clock is its own
// Prints `listening <port>` on stdout once it listens on 127.0.0.1 (port 0: a free one).
import { WebSocket, WebSocketServer } from 'ws';

const epochNow = () => performance.timeOrigin + performance.now();

const receivers = new Set<WebSocket>();
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });

function broadcast(seq: number, bytes: number): void {
  const at = epochNow();
  const bare = `{"seq":${seq},"at":${at},"pad":""}`;
  const text = `{"seq":${seq},"at":${at},"pad":"${'x'.repeat(Math.max(0, bytes - bare.length))}"}`;
  // Encoded once, as socket.io encodes a room broadcast once; then ws's own broadcast loop (its README).
  const data = Buffer.from(text, 'utf8');
  for (const client of receivers) {
    if (client.readyState === WebSocket.OPEN) client.send(data, { binary: false });
  }
}

wss.on('connection', (socket, req) => {
  if (req.url !== '/publish') {
    receivers.add(socket);
    socket.on('close', () => receivers.delete(socket));
    return;
  }
  socket.on('message', (raw) => {
    const receivedAt = epochNow();
    const message = JSON.parse(String(raw)) as { type: string; seq?: number; bytes?: number };
    if (message.type === 'broadcast' && Number.isInteger(message.seq) && Number.isInteger(message.bytes)) {
      broadcast(message.seq as number, message.bytes as number);
    } else if (message.type === 'time') {
      socket.send(JSON.stringify({ type: 'time', receivedAt, sentAt: epochNow() }));
    } else {
      socket.send(JSON.stringify({ type: 'error', message: `unknown request ${String(raw).slice(0, 80)}` }));
    }
  });
});

wss.on('listening', () => {
  const address = wss.address();
  if (address !== null && typeof address === 'object') console.log(`listening ${address.port}`);
});

const stop = () => {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
