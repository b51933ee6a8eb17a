import { z } from 'zod';
import { ErrorBody } from './errors.ts';
import { TaskEvent } from './events.ts';
import { TaskId, type TaskSpec, TaskState } from './task.ts';

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
  [SOCKET_EVENTS.start]: (spec: TaskSpec, ack: (res: StartAck) => void) => void;
  [SOCKET_EVENTS.subscribe]: (req: SubscribeRequest, ack: (res: SubscribeAck) => void) => void;
  [SOCKET_EVENTS.cancel]: (req: CancelRequest, ack: (res: CancelAck) => void) => void;
}

/** Server → client. */
export interface ServerToClientEvents {
  [SOCKET_EVENTS.event]: (event: TaskEvent) => void;
  [SOCKET_EVENTS.wire]: (wire: HandshakeWire) => void;
}
