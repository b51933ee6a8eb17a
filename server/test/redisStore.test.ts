import {
  API_PATHS,
  CreateTaskResponse,
  SOCKET_EVENTS,
  type TaskEvent,
  TaskResponse,
} from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { EventCollector, emitAck, streamBreaches } from './harness.ts';
import { serversOnOneRedis } from './redisServers.ts';

/**
 * The server on REDIS_URL: the tasks live in Redis, not in the instance. Each server here has its own
 * DATA_DIR (its own SQLite file), so whatever a second one knows of a task came from Redis. In-process
 * twin of restart.test.ts (which kills a real child process on SQLite).
 */
describe('servers on one Redis', () => {
  const { server, client } = serversOnOneRedis();

  it('resume a task stopped on one server on the next, which serves every event once', async () => {
    const first = await server();
    const health = await (await fetch(`${first.baseUrl}${API_PATHS.health}`)).json();
    expect(health).toMatchObject({ store: 'redis' });
    const before = await client(first.baseUrl);
    const seenBefore = new EventCollector(before);
    const ack = await emitAck(before, SOCKET_EVENTS.start, { durationMs: 1_500, steps: 15 });
    if (!ack.ok) throw new Error(ack.error.message);
    const id = ack.task.id;
    await seenBefore.until(id, (events) => events.filter((e) => e.type === 'progress').length >= 3);
    // A graceful stop: the clock halts, the queued writes land, the task stays unfinished in Redis.
    before.disconnect();
    await first.close();
    const lastSeen = seenBefore.events(id).at(-1)?.seq ?? 0;

    const second = await server();
    const after = await client(second.baseUrl);
    const seenAfter = new EventCollector(after);
    const sub = await emitAck(after, SOCKET_EVENTS.subscribe, { taskId: id, afterSeq: lastSeen });
    if (!sub.ok) throw new Error(sub.error.message);
    const rest = sub.events.some((e) => e.type === 'succeeded') ? sub.events : await seenAfter.terminal(id);

    const merged = new Map<number, TaskEvent>();
    for (const event of [...seenBefore.events(id), ...sub.events, ...rest]) merged.set(event.seq, event);
    const events = [...merged.values()].sort((a, b) => a.seq - b.seq);
    expect(streamBreaches(events, 15)).toEqual([]);
    expect(events.at(-1)?.type).toBe('succeeded');
    const res = await fetch(`${second.baseUrl}${API_PATHS.task(id)}`);
    expect(TaskResponse.parse(await res.json()).task).toMatchObject({
      status: 'succeeded',
      step: 15,
      lastSeq: 18,
    });
  });

  it('share tasks and Idempotency-Keys: a create through one is replayed by the other, which reads the task', async () => {
    const [a, b] = [await server(), await server()];
    const create = (base: string, body: unknown) =>
      fetch(`${base}${API_PATHS.tasks}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'shared-key-1' },
        body: JSON.stringify(body),
      });
    const body = { spec: { durationMs: 0, steps: 1 } };
    const first = await create(a.baseUrl, body);
    expect(first.status).toBe(202);
    const { task } = CreateTaskResponse.parse(await first.json());

    const replayed = await create(b.baseUrl, body);
    expect(replayed.status).toBe(202);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(CreateTaskResponse.parse(await replayed.json()).task.id).toBe(task.id);
    const reused = await create(b.baseUrl, { spec: { durationMs: 0, steps: 2 } });
    expect(reused.status).toBe(422);

    // Through b, which never ran it: its state and its whole log, from Redis.
    const ended = await a.app.engine.waitForEnd(task.id, 5_000);
    expect(ended.ended).toBe(true);
    const read = await fetch(`${b.baseUrl}${API_PATHS.task(task.id)}`);
    expect(TaskResponse.parse(await read.json()).task).toMatchObject({ status: 'succeeded', lastSeq: 4 });
    expect((await b.app.engine.eventsAfter(task.id, 0)).map((event) => event.type)).toEqual([
      'queued',
      'started',
      'progress',
      'succeeded',
    ]);
  });
});
