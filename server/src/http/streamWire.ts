import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_BYTES_HEADER, SSE, type SseWire } from '@transport-lab/shared';
import { createEventBuffer, type Session } from 'better-sse';

/**
 * The bytes of an event stream's request and response head, for its first message: an EventSource
 * page can see neither. The head is Node's own text of what it wrote (`_header`, set once the head
 * is sent); the request is the `x-request-bytes` the wire middleware set from the socket's counter
 * or, on a listener without that middleware (the receiver, whose streams each open a connection of
 * their own), the socket's count so far. Undefined when either is unknown: then nothing is sent.
 */
export function streamWire(
  req: IncomingMessage,
  res: ServerResponse,
  { socketCountIsTheRequest }: { socketCountIsTheRequest: boolean },
): SseWire | undefined {
  const head = (res as unknown as { _header?: unknown })._header;
  if (typeof head !== 'string') return undefined;
  const reported = res.getHeader(REQUEST_BYTES_HEADER);
  if (reported === undefined && !socketCountIsTheRequest) return undefined;
  const requestBytes = reported === undefined ? req.socket.bytesRead : Number(reported);
  if (!Number.isInteger(requestBytes) || requestBytes < 0) return undefined;
  return { requestBytes, responseHeadBytes: Buffer.byteLength(head, 'latin1') };
}

/** Writes the stream's `wire` message: an event type and data, and no `id:` field, so that it
 *  leaves EventSource's Last-Event-ID as it was. */
export function sendStreamWire(session: Session, wire: SseWire | undefined): void {
  if (!wire || !session.isConnected) return;
  // A ready buffer is written at once (a callback would be awaited, and the write could land after
  // an answer that ends straight away, as a replay that reaches the terminal event does).
  const buffer = createEventBuffer();
  buffer.event(SSE.wireEvent).data(wire).dispatch();
  void session.batch(buffer);
}
