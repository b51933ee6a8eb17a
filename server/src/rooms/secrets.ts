import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { ROOM_CODE_ALPHABET, ROOM_CODE_LENGTH } from '@transport-lab/shared';

/** Which first symbols an instance's room codes may start with (ROOM_CODE_SHARD `k/N`): those whose
 *  place in ROOM_CODE_ALPHABET is k − 1 modulo N, so that a balancer can route `?room=CODE` to the
 *  instance holding the room by the code's first symbol (scripts/cluster/nginx.mjs). */
export interface RoomCodeShard {
  /** 1-based, ≤ count. */
  index: number;
  count: number;
}

/** The first symbols of a shard's codes. */
export function shardSymbols({ index, count }: RoomCodeShard): string[] {
  return [...ROOM_CODE_ALPHABET].filter((_, place) => place % count === index - 1);
}

/** A join code: ROOM_CODE_LENGTH symbols drawn uniformly (crypto.randomInt has no modulo bias); the
 *  first from the shard's symbols when given one (N shards: 32^8 / N codes each). */
export function newRoomCode(shard?: RoomCodeShard): string {
  const first = shard ? shardSymbols(shard) : [...ROOM_CODE_ALPHABET];
  let code = first[randomInt(first.length)] as string;
  for (let i = 1; i < ROOM_CODE_LENGTH; i++) code += ROOM_CODE_ALPHABET[randomInt(ROOM_CODE_ALPHABET.length)];
  return code;
}

/** 128 random bits, base64url (22 characters): the presenter's secret, a participant's token, a nonce. */
export function newSecret(): string {
  return randomBytes(16).toString('base64url');
}

/** 72 random bits, base64url (12 characters): participant and race ids, which are not credentials. */
export function newId(): string {
  return randomBytes(9).toString('base64url');
}

/** The presenter's proof as the contract defines it (shared/src/protocol/room.ts, JoinRoomRequest). */
export function presenterProof(secret: string, code: string, nonce: string): string {
  return createHmac('sha256', secret).update(`${code}:${nonce}`).digest('hex');
}

/** Constant-time check of a proof (64 lowercase hex characters, checked by the schema). */
export function proofMatches(secret: string, code: string, nonce: string, proof: string): boolean {
  const expected = Buffer.from(presenterProof(secret, code, nonce), 'hex');
  const given = Buffer.from(proof, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Constant-time comparison of two secrets of any length: their SHA-256 digests are compared, so
 *  neither the content nor the length of the stored one leaks through timing. */
export function secretMatches(stored: string, given: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(stored), digest(given));
}
