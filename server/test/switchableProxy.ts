import {
  type AddressInfo,
  connect as connectTcp,
  createServer as createNetServer,
  type Socket,
} from 'node:net';

/**
 * A TCP proxy whose target can change, as a balancer moving a client to another instance: `cut`
 * drops every connection through it, `hold` keeps new ones waiting until `release(target)` sends them
 * (and later ones) to the new target.
 */
export async function switchableProxy(initial: string) {
  let target = new URL(initial);
  let held: Array<() => void> | undefined;
  const open = new Set<Socket>();
  const proxy = createNetServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.pause();
    const pipe = () => {
      if (client.destroyed) return;
      const upstream = connectTcp(Number(target.port), target.hostname);
      open.add(upstream);
      upstream.on('close', () => open.delete(upstream));
      client.pipe(upstream).pipe(client);
      client.resume();
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end);
      upstream.on('close', end);
      upstream.on('error', end);
      client.on('error', end);
    };
    if (held) held.push(pipe);
    else pipe();
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hold() {
      held = [];
    },
    cut() {
      for (const socket of open) socket.destroy();
    },
    release(next: string) {
      target = new URL(next);
      const waiting = held ?? [];
      held = undefined;
      for (const pipe of waiting) pipe();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}
