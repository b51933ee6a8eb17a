import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';

type Interfaces = ReturnType<typeof networkInterfaces>;

const LOOPBACK = /^(127\.|::1$|localhost$)/i;

/**
 * Where other devices on the network can open this server's page: for a presenter's join link and
 * QR code, since the presenter often opens the page as `localhost`, which no phone can reach.
 * Listening on every interface (`0.0.0.0`, `::`): one URL per non-internal IPv4 address. Listening on
 * one address: that one, unless it is loopback. Not listening yet: none.
 */
export function lanUrls(
  host: string,
  address: AddressInfo | string | null,
  interfaces: () => Interfaces = networkInterfaces,
): string[] {
  if (address === null || typeof address === 'string') return [];
  const { port } = address;
  if (host === '0.0.0.0' || host === '::') {
    return Object.values(interfaces())
      .flatMap((list) => list ?? [])
      .filter((iface) => iface.family === 'IPv4' && !iface.internal)
      .map((iface) => `http://${iface.address}:${port}`);
  }
  if (LOOPBACK.test(host)) return [];
  return [`http://${host.includes(':') ? `[${host}]` : host}:${port}`];
}
