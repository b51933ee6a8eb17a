import { expectTypeOf, test } from 'vitest';
import type { z } from 'zod';
import type { TaskEvent } from './events.ts';
import type * as schemas from './index.ts';
import type {
  CancelAck,
  CancelRequest,
  ClientToServerEvents,
  ServerToClientEvents,
  StartAck,
  SubscribeAck,
  SubscribeRequest,
} from './socket.ts';
import type { TaskSpec } from './task.ts';

test('task:start takes a TaskSpec, bare or with its traceparent, and acknowledges with the StartAck schema', () => {
  type Start = ClientToServerEvents['task:start'];
  expectTypeOf<Parameters<Start>[0]>().toEqualTypeOf<TaskSpec | { spec: TaskSpec; traceparent?: string }>();
  expectTypeOf<Parameters<Parameters<Start>[1]>[0]>().toEqualTypeOf<z.infer<typeof schemas.StartAck>>();
  expectTypeOf<StartAck>().toEqualTypeOf<z.infer<typeof schemas.StartAck>>();
});

test('task:subscribe and task:cancel carry the request and ack schemas', () => {
  type Subscribe = ClientToServerEvents['task:subscribe'];
  expectTypeOf<Parameters<Subscribe>[0]>().toEqualTypeOf<z.infer<typeof schemas.SubscribeRequest>>();
  expectTypeOf<Parameters<Parameters<Subscribe>[1]>[0]>().toEqualTypeOf<SubscribeAck>();
  type Cancel = ClientToServerEvents['task:cancel'];
  expectTypeOf<Parameters<Cancel>[0]>().toEqualTypeOf<CancelRequest>();
  expectTypeOf<Parameters<Parameters<Cancel>[1]>[0]>().toEqualTypeOf<CancelAck>();
  expectTypeOf<SubscribeRequest>().toEqualTypeOf<{ taskId: string; afterSeq: number }>();
});

test('task:event pushes exactly the TaskEvent union', () => {
  expectTypeOf<Parameters<ServerToClientEvents['task:event']>[0]>().toEqualTypeOf<TaskEvent>();
  expectTypeOf<z.infer<typeof schemas.TaskEvent>['type']>().toEqualTypeOf<
    'queued' | 'started' | 'progress' | 'succeeded' | 'failed' | 'cancelled'
  >();
});

test('an ack is either ok with its payload or not ok with an error body', () => {
  const ack = {} as StartAck;
  if (ack.ok) expectTypeOf(ack.task.id).toEqualTypeOf<string>();
  else expectTypeOf(ack.error.code).toEqualTypeOf<string>();
});
