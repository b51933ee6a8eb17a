import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/**
 * The presenter's proof for `room:join` (shared/src/protocol/room.ts): lowercase hex HMAC-SHA256 keyed
 * with the presenter secret's UTF-8 bytes over `${code}:${nonce}`, the nonce fresh from this
 * connection's `room:hello`. Computed with @noble/hashes, not crypto.subtle: a phone or a laptop opening
 * the page at a plain-http LAN address is not a secure context, and there crypto.subtle is undefined.
 */
export function presenterProof(secret: string, code: string, nonce: string): string {
  return bytesToHex(hmac(sha256, utf8ToBytes(secret), utf8ToBytes(`${code}:${nonce}`)));
}
