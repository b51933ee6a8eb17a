import type { Duplex } from 'node:stream';

/**
 * A dead network path under an open connection (the blackhole-connections fault): after a network
 * switch (a phone moving from Wi-Fi to mobile data, a NAT that dropped its mapping) packets stop
 * arriving either way, and nothing tells either end: no FIN, no RST. Here the connection stays open in
 * this process and in the browser, and every byte either way is thrown away where it meets this
 * socket: what the peer sends is never handed to node:http or `ws` (the socket's own `push`, which its
 * reads go through, drops it, the peer's FIN included), and what this process writes is accepted and
 * dropped (`write` and `end` call back as if the kernel had taken it, as a real one does until its
 * send buffer fills). Each end learns only from its own timeout: socket.io's heartbeat. `destroy` still
 * closes the TCP connection, so a server that gives up frees it (`ws` destroys a socket 30 s after a
 * close frame that was never answered); by then the browser's own heartbeat has given up too.
 */
export function blackhole(socket: Duplex): void {
  const callBack = (args: unknown[]) => {
    const callback = args.findLast((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (callback) process.nextTick(callback);
  };
  socket.push = () => true;
  socket.write = ((...args: unknown[]) => {
    callBack(args);
    return true;
  }) as Duplex['write'];
  socket.end = ((...args: unknown[]) => {
    callBack(args);
    return socket;
  }) as Duplex['end'];
}
