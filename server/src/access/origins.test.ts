import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.ts';
import { createOriginPolicy, parseHost } from './origins.ts';

describe('ALLOWED_ORIGINS', () => {
  it('is empty by default, and is read as the browser spells an origin', () => {
    expect(loadConfig({}).ALLOWED_ORIGINS).toEqual([]);
    expect(
      loadConfig({ ALLOWED_ORIGINS: ' HTTP://Lab.Example:80/ , https://lab.example:8443,http://[::1]:5173' })
        .ALLOWED_ORIGINS,
    ).toEqual(['http://lab.example', 'https://lab.example:8443', 'http://[::1]:5173']);
  });

  it.each(['lab.example', 'http://lab.example/app', 'ftp://lab.example', 'null', 'http://*.example'])(
    'refuses %s at start-up, naming the variable',
    (value) => {
      expect(() => loadConfig({ ALLOWED_ORIGINS: value })).toThrow(ConfigError);
      expect(() => loadConfig({ ALLOWED_ORIGINS: value })).toThrow('ALLOWED_ORIGINS');
    },
  );
});

describe('the origin policy', () => {
  const policy = createOriginPolicy({ allowedOrigins: ['https://proxy.example'], appPort: () => 3000 });
  const handshake = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

  it('reads a Host header as a host only', () => {
    expect(parseHost('LAB.local:3000')?.host).toBe('lab.local:3000');
    expect(parseHost('lab.local:80')?.host).toBe('lab.local');
    expect(parseHost('[::1]:3000')?.hostname).toBe('[::1]');
    for (const bad of ['a/b', 'user@lab.local', '', undefined, 'lab local'])
      expect(parseHost(bad)).toBeUndefined();
  });

  it('lets socket.io take its own page, a listed origin and a client without Origin, and no one else', () => {
    const host = '192.168.1.20:3000';
    expect(policy.socketRefusal(handshake({ host }))).toBeUndefined();
    expect(policy.socketRefusal(handshake({ host, origin: 'http://192.168.1.20:3000' }))).toBeUndefined();
    expect(policy.socketRefusal(handshake({ host, origin: 'https://proxy.example' }))).toBeUndefined();
    for (const origin of ['http://192.168.1.20:3001', 'http://evil.example', 'null', 'file://'])
      expect(policy.socketRefusal(handshake({ host, origin })), origin).toMatch(/ALLOWED_ORIGINS/);
  });

  it('lets the receiver answer the page on the hostname it was reached by, at the app’s port', () => {
    expect(policy.receiverAllows('http://192.168.1.20:3000', '192.168.1.20:3001')).toBe(true);
    expect(policy.receiverAllows('https://proxy.example', '192.168.1.20:3001')).toBe(true);
    expect(policy.receiverAllows('http://192.168.1.20:3001', '192.168.1.20:3001')).toBe(false);
    expect(policy.receiverAllows('http://localhost:3000', '192.168.1.20:3001')).toBe(false);
    expect(policy.receiverAllows('null', '192.168.1.20:3001')).toBe(false);
    // Before the app listens, only the list.
    const early = createOriginPolicy({ allowedOrigins: [], appPort: () => undefined });
    expect(early.receiverAllows('http://192.168.1.20:3000', '192.168.1.20:3001')).toBe(false);
  });
});
