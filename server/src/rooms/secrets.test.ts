import { createHmac } from 'node:crypto';
import { ParticipantId, RaceId, ROOM_CODE_ALPHABET, RoomCode, RoomSecret } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { newId, newRoomCode, newSecret, proofMatches, secretMatches, shardSymbols } from './secrets.ts';

describe('room secrets', () => {
  it('draws codes of the contract: 8 Crockford symbols, every symbol in use, parsed unchanged', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const code = newRoomCode();
      expect(RoomCode.parse(code)).toBe(code);
      for (const symbol of code) seen.add(symbol);
    }
    // 16 000 draws over 32 symbols: a symbol never drawn would mean a skewed generator.
    expect([...seen].sort().join('')).toBe([...ROOM_CODE_ALPHABET].sort().join(''));
  });

  it('makes secrets of 128 bits and ids the schemas accept, never twice', () => {
    const secrets = Array.from({ length: 1_000 }, newSecret);
    for (const s of secrets) expect(Buffer.from(RoomSecret.parse(s), 'base64url')).toHaveLength(16);
    expect(new Set(secrets).size).toBe(secrets.length);
    const id = newId();
    expect(ParticipantId.parse(id)).toBe(id);
    expect(RaceId.parse(id)).toBe(id);
  });

  it('accepts exactly the HMAC-SHA256 of code:nonce under the secret', () => {
    const secret = newSecret();
    const proof = createHmac('sha256', secret).update('ABCDEFGH:nonce-1').digest('hex');
    expect(proofMatches(secret, 'ABCDEFGH', 'nonce-1', proof)).toBe(true);
    expect(proofMatches(secret, 'ABCDEFGH', 'nonce-2', proof)).toBe(false);
    expect(proofMatches(secret, 'ABCDEFGJ', 'nonce-1', proof)).toBe(false);
    expect(proofMatches(newSecret(), 'ABCDEFGH', 'nonce-1', proof)).toBe(false);
    expect(proofMatches(secret, 'ABCDEFGH', 'nonce-1', proof.slice(0, 62))).toBe(false);
  });

  it('compares secrets of any length without throwing', () => {
    expect(secretMatches('same-secret-value-12345', 'same-secret-value-12345')).toBe(true);
    expect(secretMatches('same-secret-value-12345', 'same-secret-value-1234')).toBe(false);
    expect(secretMatches('same-secret-value-12345', '')).toBe(false);
  });
});

describe('room codes of a shard (ROOM_CODE_SHARD)', () => {
  it('start with the shard’s symbols only, and the shards share out the alphabet', () => {
    const owners = new Map<string, number>();
    for (let index = 1; index <= 3; index += 1) {
      const symbols = shardSymbols({ index, count: 3 });
      for (const symbol of symbols) {
        expect(owners.has(symbol)).toBe(false);
        owners.set(symbol, index);
      }
      for (let i = 0; i < 200; i += 1) {
        const code = newRoomCode({ index, count: 3 });
        expect(RoomCode.parse(code)).toBe(code);
        expect(symbols).toContain(code[0]);
      }
    }
    expect([...owners.keys()].sort().join('')).toBe([...ROOM_CODE_ALPHABET].sort().join(''));
  });
});
