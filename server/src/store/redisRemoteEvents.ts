import { randomUUID } from 'node:crypto';
import { TaskEvent } from '@transport-lab/shared';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis.ts';
import type { RemoteEvents } from './types.ts';

/** How long one blocking read waits when nothing comes: a reader with nothing new costs Redis one
 *  read per this long. A new follow does not wait for it (the reader is woken). */
export const REMOTE_BLOCK_MS = 5_000;
/** Entries read per log per read; a log with more is read again at once. */
const REMOTE_READ_COUNT = 100;
/** After a failed read (Redis away past ioredis's retries), the next one waits this long. */
const REMOTE_RETRY_MS = 500;
/** The wake stream outlives its last use by this much (an instance that crashed leaves it behind). */
const WAKE_TTL_MS = 3_600_000;

/** The reader connection's name (CLIENT LIST). */
export const remoteReaderName = (keys: RedisKeys) => `${keys.prefix}remote-events`;
/** The pub/sub channel of cancel requests (a channel is no key: it is named under the prefix alike). */
export const cancelChannel = (keys: RedisKeys) => `${keys.prefix}task-cancel`;

interface Follow {
  taskId: string;
  key: string;
  /** The last entry id delivered (`<seq>-0`); undefined until the log's end is known. */
  cursor: string | undefined;
  onEvent: (event: TaskEvent) => void;
}

/**
 * Other instances' task events, live, on Redis: the tasks this instance follows are read from their
 * logs (`task:<id>:events`, entry id `<seq>-0`) by ONE blocking `XREAD` on one connection of its own,
 * each log from the last entry it delivered, whatever the number of tasks and of their listeners
 * (the engine fans each task out). A follow starts at the log's end as read by `XREVRANGE` on the
 * shared connection, the one the store reads with: Redis answers one connection's commands in order,
 * so a store read made after `follow()` sees every event the follow will not deliver.
 *
 * A new follow must not wait for the read in progress to time out: the reader also reads a stream of
 * its own, `wake:<instance>`, to which one entry is added when a follow is ready while the reader is
 * blocked without it. Its cursor is the last wake entry read, so a wake added before the read even
 * starts still ends it at once.
 *
 * `onError`: each failed read (then retried), and a follow whose start could not be read (it then
 * reads the log from its beginning; the engine drops the seqs it has seen).
 */
export function redisRemoteEvents(
  redis: Redis,
  keys: RedisKeys,
  onError: (error: unknown) => void = () => {},
): RemoteEvents {
  const wakeKey = keys.wake(randomUUID());
  const follows = new Map<string, Follow>();
  let reader: Redis | undefined;
  let loop: Promise<void> | undefined;
  let closed = false;
  /** The tasks of the read in flight; undefined while none is. */
  let reading: Set<string> | undefined;
  let wakeSent = false;
  let wakeCursor = '0-0';
  /** Resolves the reader's wait for a first follow. */
  let idle: (() => void) | undefined;
  /** The connection that hears cancel requests (pub/sub takes a connection of its own), once asked. */
  let cancels: Redis | undefined;
  const cancelListeners = new Set<(taskId: string) => void>();

  function wake(taskId: string): void {
    if (idle) {
      idle();
      idle = undefined;
      return;
    }
    if (!reading || reading.has(taskId) || wakeSent) return;
    wakeSent = true;
    redis
      .pipeline()
      .xadd(wakeKey, 'MAXLEN', 1, '*', 'wake', '1')
      .pexpire(wakeKey, WAKE_TTL_MS)
      .exec()
      .catch(onError);
  }

  async function readLoop(connection: Redis): Promise<void> {
    while (!closed) {
      const ready = [...follows.values()].filter((follow) => follow.cursor !== undefined);
      if (ready.length === 0) {
        await new Promise<void>((resolve) => {
          idle = resolve;
        });
        continue;
      }
      reading = new Set(ready.map((follow) => follow.taskId));
      wakeSent = false;
      const streams = [wakeKey, ...ready.map((follow) => follow.key)];
      const cursors = [wakeCursor, ...ready.map((follow) => follow.cursor as string)];
      let reply: Array<[string, Array<[string, string[]]>]> | null;
      try {
        reply = (await connection.xread(
          'COUNT',
          REMOTE_READ_COUNT,
          'BLOCK',
          REMOTE_BLOCK_MS,
          'STREAMS',
          ...streams,
          ...cursors,
        )) as typeof reply;
      } catch (error) {
        reading = undefined;
        if (closed) return;
        onError(error);
        await new Promise((resolve) => setTimeout(resolve, REMOTE_RETRY_MS));
        continue;
      }
      reading = undefined;
      const byKey = new Map(ready.map((follow) => [follow.key, follow]));
      for (const [key, entries] of reply ?? []) {
        if (key === wakeKey) {
          wakeCursor = entries.at(-1)?.[0] ?? wakeCursor;
          continue;
        }
        const follow = byKey.get(key);
        for (const [id, fields] of entries) {
          // Unfollowed while the read was in flight: nothing more for it.
          if (!follow || follows.get(follow.taskId) !== follow) break;
          follow.cursor = id;
          try {
            const json = fields[fields.indexOf('event') + 1] ?? 'null';
            follow.onEvent(TaskEvent.parse(JSON.parse(json)));
          } catch (error) {
            onError(error);
          }
        }
      }
    }
  }

  function startReader(): void {
    if (reader) return;
    // Named, so that CLIENT LIST shows what it is (and a test can count it).
    const connection = redis.duplicate({ connectionName: remoteReaderName(keys) });
    reader = connection;
    // Errors come back to the read that failed; ioredis would print them otherwise.
    connection.on('error', () => {});
    loop = readLoop(connection).catch(onError);
  }

  return {
    follow(taskId, onEvent) {
      const key = keys.events(taskId);
      const follow: Follow = { taskId, key, cursor: undefined, onEvent };
      follows.set(taskId, follow);
      startReader();
      // On the shared connection, before any store read the caller makes next (see above).
      redis.xrevrange(key, '+', '-', 'COUNT', 1).then(
        (top) => {
          follow.cursor = top[0]?.[0] ?? '0-0';
          wake(taskId);
        },
        (error) => {
          onError(error);
          follow.cursor = '0-0';
          wake(taskId);
        },
      );
      return () => {
        if (follows.get(taskId) === follow) follows.delete(taskId);
      };
    },
    async requestCancel(taskId) {
      await redis.publish(cancelChannel(keys), taskId);
    },
    onCancelRequest(onRequest) {
      cancelListeners.add(onRequest);
      if (!cancels) {
        const connection = redis.duplicate();
        cancels = connection;
        connection.on('error', () => {});
        connection.on('message', (_channel: string, taskId: string) => {
          for (const listener of cancelListeners) listener(taskId);
        });
        connection.subscribe(cancelChannel(keys)).catch(onError);
      }
      return () => cancelListeners.delete(onRequest);
    },
    async close() {
      closed = true;
      cancels?.disconnect();
      cancelListeners.clear();
      follows.clear();
      idle?.();
      reader?.disconnect();
      await loop;
      if (reader && redis.status === 'ready') await redis.del(wakeKey).catch(() => {});
    },
  };
}
