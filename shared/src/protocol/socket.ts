import { z } from 'zod';
import { ErrorBody } from './errors.ts';
import { TaskEvent } from './events.ts';
import { TaskId, TaskSpec, TaskState } from './task.ts';

/** socket.io event names, written once. */
export const SOCKET_EVENTS = {
  start: 'task:start',
  subscribe: 'task:subscribe',
  cancel: 'task:cancel',
  event: 'task:event',
  wire: 'connection:wire',
} as const;

/** Sent once per connection (and per recovered reconnection): the bytes of the HTTP upgrade
 *  handshake as the server saw them on the socket, which a browser page cannot see. */
export const HandshakeWire = z.object({
  /** The upgrade request, read off the TCP socket (request line, headers). */
  requestBytes: z.int().min(0),
  /** The `101 Switching Protocols` answer, as written. */
  responseBytes: z.int().min(0),
});
export type HandshakeWire = z.infer<typeof HandshakeWire>;

/**
 * `task:start`'s payload with the page's trace context beside the spec: what an HTTP lane sends as
 * its `traceparent` header (W3C Trace Context, trace.ts), a socket's event carries here, since one
 * connection starts many tasks and its handshake's headers name none of them. A bare `TaskSpec` is
 * still a valid payload (clients that send no trace: the server then makes one).
 */
export const StartRequest = z.strictObject({
  spec: TaskSpec,
  /** `00-<trace-id>-<parent-id>-<flags>`, 55 characters; an unparsable one starts a new trace, as
   *  the header does (the spec: never an error), so only its length is bounded here. */
  traceparent: z.string().max(256).optional(),
});
export type StartRequest = z.infer<typeof StartRequest>;
/** What `task:start` carries: the spec, bare or with its trace context. */
export type StartPayload = TaskSpec | StartRequest;

/** Whether a `task:start` payload is the wrapped form (it names a `spec`): each form is then parsed
 *  with its own schema, so that a bad one gets that schema's own clear error. */
export function isStartRequest(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && 'spec' in payload;
}

const failure = z.object({ ok: z.literal(false), error: ErrorBody });

export const StartAck = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), task: TaskState }),
  failure,
]);
export type StartAck = z.infer<typeof StartAck>;

export const SubscribeRequest = z.strictObject({ taskId: TaskId, afterSeq: z.int().min(0) });
export type SubscribeRequest = z.infer<typeof SubscribeRequest>;

/** The task now, and every stored event after `afterSeq`; live events follow as `task:event`. */
export const SubscribeAck = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), task: TaskState, events: z.array(TaskEvent) }),
  failure,
]);
export type SubscribeAck = z.infer<typeof SubscribeAck>;

export const CancelRequest = z.strictObject({ taskId: TaskId });
export type CancelRequest = z.infer<typeof CancelRequest>;

export const CancelAck = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), task: TaskState }),
  failure,
]);
export type CancelAck = z.infer<typeof CancelAck>;

/** Client → server. Payloads arrive untrusted: the server parses each with the schema above. */
export interface ClientToServerEvents {
  [SOCKET_EVENTS.start]: (start: StartPayload, ack: (res: StartAck) => void) => void;
  [SOCKET_EVENTS.subscribe]: (req: SubscribeRequest, ack: (res: SubscribeAck) => void) => void;
  [SOCKET_EVENTS.cancel]: (req: CancelRequest, ack: (res: CancelAck) => void) => void;
}

/** Server → client. */
export interface ServerToClientEvents {
  [SOCKET_EVENTS.event]: (event: TaskEvent) => void;
  [SOCKET_EVENTS.wire]: (wire: HandshakeWire) => void;
}
