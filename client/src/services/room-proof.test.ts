import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { presenterProof } from './room-proof.ts';

describe('presenterProof', () => {
  it('equals node:crypto HMAC-SHA256 over code:nonce keyed with the secret, as lowercase hex', () => {
    const secret = 'Zq3_kP0-aB9xYt7LmN2cVw';
    const code = 'ABCD2345';
    const nonce = 'n0nce-0123456789abcdef';
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8'))
      .update(`${code}:${nonce}`)
      .digest('hex');
    expect(presenterProof(secret, code, nonce)).toBe(expected);
    expect(presenterProof(secret, code, nonce)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with the nonce, so a proof seen once proves nothing on the next connection', () => {
    const secret = 'Zq3_kP0-aB9xYt7LmN2cVw';
    expect(presenterProof(secret, 'ABCD2345', 'nonce-one-aaaaaaaaaaa')).not.toBe(
      presenterProof(secret, 'ABCD2345', 'nonce-two-aaaaaaaaaaa'),
    );
  });

  it('keys with UTF-8 bytes, not UTF-16 code units', () => {
    const secret = 'sécret-ünïcode-ключ-0123';
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update('WXYZ6789:ñ').digest('hex');
    expect(presenterProof(secret, 'WXYZ6789', 'ñ')).toBe(expected);
  });
});
