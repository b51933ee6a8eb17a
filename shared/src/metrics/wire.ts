import { SSE } from '../protocol/http.ts';

/**
 * Exact WebSocket framing overhead (RFC 6455 §5.2): a 2-byte header, plus 2 or 8 bytes of extended
 * length for payloads of 126+ or 65 536+ bytes, plus a 4-byte masking key on client→server frames.
 * With permessage-deflate off (socket.io's default), the frame on the wire is exactly this + payload.
 */
export function websocketFrameBytes(payloadBytes: number, fromClient: boolean): number {
  const lengthBytes = payloadBytes < 126 ? 0 : payloadBytes < 65_536 ? 2 : 8;
  return 2 + lengthBytes + (fromClient ? 4 : 0) + payloadBytes;
}

/** UTF-8 length of a string, in bytes, without allocating where TextEncoder is not needed. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4; // a surrogate pair encodes one 4-byte code point
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Bytes one Server-Sent Events message took in the response body, framed as the server writes it
 * (better-sse's EventBuffer: `field:value\n`, no space after the colon): `event:message`, `id:<seq>`,
 * one `data:` line per line of data, and the blank line that dispatches it. What EventSource hands
 * the page is enough to rebuild it: the data, the last event id, and the event type. The server's
 * integration tests check these figures against the bytes its streams really carry.
 */
export function sseMessageBytes(message: { data: string; lastEventId: string; type?: string }): number {
  const lines = message.data.split('\n');
  let bytes = utf8Bytes(`event:${message.type ?? 'message'}\n`) + 1; // + the dispatching blank line
  if (message.lastEventId !== '') bytes += utf8Bytes(`id:${message.lastEventId}\n`);
  for (const line of lines) bytes += utf8Bytes(`data:${line}\n`);
  return bytes;
}

/** The `retry:` hint the server writes first on every stream (`retry:1000` and a blank line). */
export const SSE_PREAMBLE_BYTES = utf8Bytes(`retry:${SSE.retryMs}\n\n`);

/**
 * Bytes of one write in an HTTP/1.1 chunked body (RFC 9112 §7.1): the size in hex, CRLF, the
 * payload, CRLF. Node sends each `res.write` of a streamed answer as one chunk, and better-sse
 * writes each event (and the opening `retry:` hint, and each heartbeat) with one write.
 */
export function chunkBytes(payloadBytes: number): number {
  return payloadBytes.toString(16).length + 2 + payloadBytes + 2;
}

/** The last chunk that ends a chunked body: `0`, CRLF, and the empty trailer's CRLF. */
export const LAST_CHUNK_BYTES = 5;
