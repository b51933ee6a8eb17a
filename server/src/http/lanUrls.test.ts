import type { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { lanUrls } from './lanUrls.ts';

const iface = (address: string, family: 'IPv4' | 'IPv6', internal: boolean) =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null }) as never;
const interfaces = (() => ({
  lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
  eth0: [iface('192.168.1.20', 'IPv4', false), iface('fe80::1', 'IPv6', false)],
  wlan0: [iface('10.0.0.7', 'IPv4', false)],
})) as unknown as typeof networkInterfaces;
const listening = { address: '0.0.0.0', family: 'IPv4', port: 3000 };

describe('lanUrls', () => {
  it('lists every non-internal IPv4 address when listening on all interfaces', () => {
    expect(lanUrls('0.0.0.0', listening, interfaces)).toEqual([
      'http://192.168.1.20:3000',
      'http://10.0.0.7:3000',
    ]);
    expect(lanUrls('::', listening, interfaces)).toHaveLength(2);
  });

  it('gives the one address listened on, and none for loopback or before listening', () => {
    expect(lanUrls('192.168.1.20', listening, interfaces)).toEqual(['http://192.168.1.20:3000']);
    expect(lanUrls('127.0.0.1', listening, interfaces)).toEqual([]);
    expect(lanUrls('localhost', listening, interfaces)).toEqual([]);
    expect(lanUrls('0.0.0.0', null, interfaces)).toEqual([]);
  });
});
