import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { CLIENT_REQUEST_BYTES_HEADER, proxiedRequestBytes } from './proxiedBytes.ts';

const request = (remoteAddress: string, value?: string) =>
  ({
    headers: value === undefined ? {} : { [CLIENT_REQUEST_BYTES_HEADER]: value },
    socket: { remoteAddress },
  }) as unknown as IncomingMessage;

describe('proxiedRequestBytes', () => {
  it("reads the browser's request bytes a proxy on this machine reports", () => {
    expect(proxiedRequestBytes(request('127.0.0.1', '701'))).toBe(701);
    expect(proxiedRequestBytes(request('::1', '0'))).toBe(0);
    expect(proxiedRequestBytes(request('::ffff:127.0.0.1', '88'))).toBe(88);
  });

  it('believes no other peer, and no malformed value', () => {
    expect(proxiedRequestBytes(request('192.168.1.20', '701'))).toBeUndefined();
    expect(proxiedRequestBytes(request('127.0.0.1'))).toBeUndefined();
    for (const value of ['', '-1', '1.5', '12abc', '9999999999999'])
      expect(proxiedRequestBytes(request('127.0.0.1', value)), value).toBeUndefined();
  });
});
