import type { ErrorBody } from '@transport-lab/shared';
import type { z } from 'zod';
import { errorBody, parseOrThrow } from './errors.ts';
import type { Logger } from './observability/logger.ts';

/** Runs `fn` once the acknowledgement has been sent: a broadcast that must reach others after the ack. */
export type AfterAck = (fn: () => void) => void;

type Reply = (answer: unknown) => void;

/**
 * The payload and the acknowledgement of one socket.io event as a client sent it. socket.io passes
 * the ack as the last argument when the client asked for one, wherever that falls: a client that
 * sends an extra argument (or none) must still get its answer, so the ack is the last argument if
 * it is a function, and the payload is the first argument that is not that ack.
 */
export function splitAck(args: readonly unknown[]): { payload: unknown; reply: Reply | undefined } {
  const last = args.at(-1);
  const reply = typeof last === 'function' ? (last as Reply) : undefined;
  const payload = reply && args.length === 1 ? undefined : args[0];
  return { payload, reply };
}

/**
 * Answers a packet refused before any handler (in a `socket.use` middleware: a rate limit, a cap),
 * if its sender asked for an acknowledgement: `{ok: false, error}`, as a handler's refusal would be.
 * `packet` is socket.io's `[event, ...args]`.
 */
export function refusePacket(packet: readonly unknown[], error: ErrorBody): void {
  splitAck(packet.slice(1)).reply?.({ ok: false, error });
}

/**
 * Wraps a socket.io handler (the task lane on `/`, `/room`, `/board`): the payload is parsed with
 * its shared schema, the ack (found by `splitAck`) is called exactly once with `{ok: true, …}` or
 * `{ok: false, error}`, and nothing a client sends can throw past here. An error that is not an
 * AppError reaches the client as INTERNAL and the log in full. `run` may hand `afterAck` what must
 * happen once the ack has gone (a broadcast to the others).
 */
export function socketHandler<S extends z.ZodType | undefined, R extends object>(
  socket: { readonly id: string },
  logger: Logger,
  event: string,
  schema: S,
  run: (payload: S extends z.ZodType ? z.output<S> : undefined, afterAck: AfterAck) => R | Promise<R>,
): (...args: unknown[]) => void {
  return (...args) => {
    const { payload, reply } = splitAck(args);
    void (async () => {
      const later: Array<() => void> = [];
      try {
        const parsed = schema ? parseOrThrow(schema, payload, `${event} payload`) : undefined;
        const result = await run(parsed as Parameters<typeof run>[0], (fn) => later.push(fn));
        reply?.({ ok: true, ...result });
        for (const fn of later) fn();
      } catch (error) {
        const body = errorBody(error);
        if (body.code === 'INTERNAL')
          logger.error({ err: error, event, socketId: socket.id }, 'socket handler failed');
        reply?.({ ok: false, error: body });
      }
    })();
  };
}
