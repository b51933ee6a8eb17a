import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Redis } from 'ioredis';
import type { Server } from 'socket.io';
import type { RedisKeys } from './store/redis.ts';

/** How long the adapter's reader blocks on its stream: a closed server lets its connection go within
 *  this (the adapter cannot interrupt the read), and an idle instance reads once per this long. */
const ADAPTER_BLOCK_MS = 1_000;

/**
 * socket.io across instances on one Redis (REDIS_URL): `@socket.io/redis-streams-adapter`. Every
 * broadcast (a task's room, a room's presence, a board) is appended to one stream,
 * `<REDIS_PREFIX>socket.io`, that every instance reads and delivers to its own sockets in that
 * room; requests between instances (fetchSockets, serverSideEmit) go by pub/sub. Connection state
 * recovery works on any instance: the session is kept in Redis (`sio:session:<pid>`) and the packets
 * a socket missed are read back from the stream from its last offset. The stream is capped at
 * `maxPackets` entries (SOCKET_RECOVERY_MAX_PACKETS, as the in-memory buffer is on SQLite): a socket
 * that missed more is not recovered and its lanes catch up by themselves (websocket lane:
 * `task:subscribe` from its last seq).
 */
export function joinInstances(io: Server, redis: Redis, keys: RedisKeys, maxPackets: number): void {
  io.adapter(
    createAdapter(redis, {
      streamName: keys.socketIoStream,
      channelPrefix: keys.socketIoStream,
      sessionKeyPrefix: keys.socketIoSessions,
      maxLen: maxPackets,
      blockTimeInMs: ADAPTER_BLOCK_MS,
    }),
  );
}

/**
 * Asks every other instance of a cluster (socket.io's `serverSideEmit` with an acknowledgement, over
 * the adapter) and resolves with the first answer that is not null: the one instance that holds what
 * was asked for (a room's home: rooms/relay.ts, board/socketRelay.ts), or undefined when none does.
 * The adapter waits for every instance's answer up to its request timeout (5 s), then gives those it
 * has; an instance that died before the heartbeats noticed only delays the answer.
 */
export function askOtherInstances<Request, Answer>(
  // Any namespace, whatever its event maps: only its serverSideEmit is called, typed below.
  nsp: { serverSideEmit: unknown },
  event: string,
  request: Request,
): Promise<Answer | undefined> {
  const emit = nsp.serverSideEmit as unknown as (
    event: string,
    request: Request,
    ack: (error: Error | null, answers: Array<Answer | null> | undefined) => void,
  ) => void;
  return new Promise((resolve) => {
    emit.call(nsp, event, request, (_error, answers) =>
      resolve((answers ?? []).find((answer): answer is Answer => answer !== null && answer !== undefined)),
    );
  });
}
