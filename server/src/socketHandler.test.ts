import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from './errors.ts';
import { createLogger } from './observability/logger.ts';
import { socketHandler, splitAck } from './socketHandler.ts';

const silent = createLogger('silent');
const socket = { id: 'socket-1' };

/** Calls the handler with `args` and resolves with what its ack was given. */
function answerOf(handler: (...args: unknown[]) => void, args: unknown[]): Promise<unknown> {
  return new Promise((resolve) => handler(...args, resolve));
}

describe('splitAck', () => {
  it('takes the last argument as the ack when it is a function, and the first as the payload', () => {
    const ack = () => undefined;
    expect(splitAck([{ a: 1 }, ack])).toEqual({ payload: { a: 1 }, reply: ack });
    expect(splitAck([{ a: 1 }, 'extra', 42, ack])).toEqual({ payload: { a: 1 }, reply: ack });
  });

  it('finds no payload when the ack is the only argument, and no ack when the last is not a function', () => {
    const ack = () => undefined;
    expect(splitAck([ack])).toEqual({ payload: undefined, reply: ack });
    expect(splitAck([{ a: 1 }, 'not an ack'])).toEqual({ payload: { a: 1 }, reply: undefined });
    expect(splitAck([])).toEqual({ payload: undefined, reply: undefined });
  });
});

describe('socketHandler', () => {
  const Payload = z.strictObject({ n: z.int() });
  const double = socketHandler(socket, silent, 'double', Payload, ({ n }) => ({ doubled: n * 2 }));

  it('answers {ok: true, …} with the parsed payload, even after extra arguments', async () => {
    expect(await answerOf(double, [{ n: 2 }])).toEqual({ ok: true, doubled: 4 });
    expect(await answerOf(double, [{ n: 3 }, 'extra', { more: true }])).toEqual({ ok: true, doubled: 6 });
  });

  it('answers VALIDATION_FAILED for a payload its schema refuses, or none', async () => {
    for (const args of [[{ n: 'two' }], [], [null, 'extra']]) {
      expect(await answerOf(double, args)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    }
  });

  it('answers an AppError with its code, and anything else as INTERNAL without its message', async () => {
    const refusing = socketHandler(socket, silent, 'refuse', undefined, () => {
      throw new AppError('FORBIDDEN', 'not yours');
    });
    expect(await answerOf(refusing, [])).toEqual({
      ok: false,
      error: { code: 'FORBIDDEN', message: 'not yours' },
    });
    const broken = socketHandler(socket, silent, 'broken', undefined, async () => {
      throw new Error('secret internals');
    });
    const answer = await answerOf(broken, [{}]);
    expect(answer).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(answer)).not.toContain('secret internals');
  });

  it('runs what was handed to afterAck once the ack has gone', async () => {
    const order: string[] = [];
    const handler = socketHandler(socket, silent, 'later', undefined, (_none, afterAck) => {
      afterAck(() => order.push('after'));
      return {};
    });
    await new Promise<void>((resolve) =>
      handler(() => {
        order.push('ack');
        queueMicrotask(resolve);
      }),
    );
    expect(order).toEqual(['ack', 'after']);
  });
});
