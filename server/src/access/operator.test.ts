import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import {
  bearerToken,
  createOperatorGate,
  forwardedFor,
  generateOperatorToken,
  isLoopbackAddress,
  sameToken,
} from './operator.ts';

const TOKEN = generateOperatorToken();

describe('isLoopbackAddress', () => {
  it('knows 127.0.0.0/8, ::1 and IPv4-mapped loopback, and nothing else', () => {
    for (const address of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopbackAddress(address), address).toBe(true);
    }
    for (const address of [
      '10.213.0.2',
      '192.168.1.20',
      '::ffff:10.0.0.1',
      'fe80::1',
      '0.0.0.0',
      'localhost',
      '',
      undefined,
    ]) {
      expect(isLoopbackAddress(address), String(address)).toBe(false);
    }
  });
});

describe('forwardedFor', () => {
  it('reads X-Forwarded-For lists and Forwarded for= values, quoted, bracketed or with a port', () => {
    expect(forwardedFor({ 'x-forwarded-for': '203.0.113.9, 127.0.0.1' })).toEqual([
      '203.0.113.9',
      '127.0.0.1',
    ]);
    expect(forwardedFor({ forwarded: 'for=192.0.2.43;proto=http, for="[::1]:8080"' })).toEqual([
      '192.0.2.43',
      '::1',
    ]);
    expect(forwardedFor({ forwarded: 'proto=https' })).toEqual(['unknown']);
    expect(forwardedFor({})).toEqual([]);
  });
});

describe('bearerToken and sameToken', () => {
  it('takes the credential of a Bearer Authorization header only', () => {
    expect(bearerToken({ authorization: `Bearer ${TOKEN}` })).toBe(TOKEN);
    expect(bearerToken({ authorization: `bearer ${TOKEN}` })).toBe(TOKEN);
    expect(bearerToken({ authorization: `Basic ${TOKEN}` })).toBeUndefined();
    expect(bearerToken({})).toBeUndefined();
  });

  it('compares whole tokens, whatever their lengths', () => {
    expect(sameToken(TOKEN, TOKEN)).toBe(true);
    expect(sameToken(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(sameToken(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(sameToken('', TOKEN)).toBe(false);
  });
});

describe('createOperatorGate', () => {
  const gate = createOperatorGate(TOKEN);
  const elsewhere = { address: '10.213.0.2', headers: {} };

  it('lets this machine in, and a peer elsewhere only with the token', () => {
    expect(gate.isOperator({ address: '127.0.0.1', headers: {} })).toBe(true);
    expect(gate.isOperator(elsewhere)).toBe(false);
    expect(gate.isOperator({ ...elsewhere, headers: { authorization: `Bearer ${TOKEN}` } })).toBe(true);
    expect(
      gate.isOperator({ ...elsewhere, headers: { authorization: `Bearer ${generateOperatorToken()}` } }),
    ).toBe(false);
  });

  it('does not take a local proxy’s request for this machine’s when it forwards for someone else', () => {
    expect(gate.isOperator({ address: '::1', headers: { 'x-forwarded-for': '127.0.0.1' } })).toBe(true);
    expect(gate.isOperator({ address: '::1', headers: { 'x-forwarded-for': '10.0.0.7' } })).toBe(false);
    expect(gate.isOperator({ address: '127.0.0.1', headers: { forwarded: 'for=unknown' } })).toBe(false);
  });

  it('without a token lets in this machine only', () => {
    const tokenless = createOperatorGate(undefined);
    expect(tokenless.isOperator({ address: '127.0.0.1', headers: {} })).toBe(true);
    expect(tokenless.isOperator({ ...elsewhere, headers: { authorization: 'Bearer undefined' } })).toBe(
      false,
    );
  });

  it('refuses with 403 FORBIDDEN saying what the action needs', () => {
    let refusal: unknown;
    try {
      gate.require(elsewhere, 'Restarting the server');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect((refusal as AppError).message).toMatch(/^Restarting the server .*operator.*Authorization: Bearer/);
  });
});
