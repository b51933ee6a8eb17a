import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export interface RoomLimitSettings {
  failedJoinsPerMinute: number;
  messagesPerSecond: number;
}

/**
 * The room's two rate limits, in memory (this process holds the rooms too).
 *
 * - Failed joins per address: only refused attempts (an unknown code, a wrong presenter proof or
 *   resume token) are counted, never successful joins, because a whole audience behind one NAT
 *   shares one address and must all get in; a guesser, whose attempts nearly all fail, is stopped
 *   after `failedJoinsPerMinute`, and from then every join from that address is refused until the
 *   minute is over.
 * - Messages per socket per second, whatever the event: a flooding socket has its excess refused
 *   by ack, and nothing else happens to it or to its room.
 *
 * rate-limiter-flexible's memory store resolves synchronously inside its promises and unrefs its
 * expiry timers, so order of packets is kept and nothing holds the process open.
 */
export function createRoomLimits({ failedJoinsPerMinute, messagesPerSecond }: RoomLimitSettings) {
  const failedJoins = new RateLimiterMemory({
    keyPrefix: 'room-failed-join',
    points: failedJoinsPerMinute,
    duration: 60,
  });
  const messages = new RateLimiterMemory({
    keyPrefix: 'room-message',
    points: messagesPerSecond,
    duration: 1,
  });

  return {
    /** Ms until this address may try again, or 0 when it may join now. */
    async joinBlockedForMs(address: string): Promise<number> {
      const state = await failedJoins.get(address);
      return state && state.consumedPoints >= failedJoinsPerMinute ? Math.max(1, state.msBeforeNext) : 0;
    },
    async joinFailed(address: string): Promise<void> {
      await failedJoins.consume(address).catch(ignoreLimitReached);
    },
    /** True if this socket may send one more message now. */
    async allowMessage(socketId: string): Promise<boolean> {
      return messages.consume(socketId).then(
        () => true,
        (error: unknown) => {
          ignoreLimitReached(error);
          return false;
        },
      );
    },
    async forgetSocket(socketId: string): Promise<void> {
      await messages.delete(socketId);
    },
  };
}
export type RoomLimits = ReturnType<typeof createRoomLimits>;

/** consume() rejects with a RateLimiterRes when the limit is reached; anything else is a real error. */
function ignoreLimitReached(error: unknown): void {
  if (!(error instanceof RateLimiterRes)) throw error;
}
