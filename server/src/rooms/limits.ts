import { RateLimiterRes } from 'rate-limiter-flexible';
import { clientLimitError, memoryBudgets, type RateBudgets } from '../access/index.ts';

export interface RoomLimitSettings {
  failedJoinsPerMinute: number;
  messagesPerSecond: number;
  joinsPerClientPerMinute: number;
}

/**
 * The room's rate limits.
 *
 * - Failed joins per address: only refused attempts (an unknown code, a wrong presenter proof or
 *   resume token) are counted, never successful joins, because a whole audience behind one NAT
 *   shares one address and must all get in; a guesser, whose attempts nearly all fail, is stopped
 *   after `failedJoinsPerMinute`, and from then every join from that address is refused until the
 *   minute is over.
 * - Messages per socket per second, whatever the event: a flooding socket has its excess refused
 *   by ack, and nothing else happens to it or to its room.
 * - New participants per client (access/clientLimits.ts: an address, this machine exempt) per
 *   minute, in any room. Generous: a hall behind one NAT arrives at the pace people scan a code, and
 *   a resume is not counted. What it stops is churn: a bot that joins, drops and joins again makes a
 *   new participant each time, each one a presence change for everyone and, past twice the seats,
 *   one that pushes the participant away the longest (a real phone whose screen locked) out of the
 *   room. Its share of the seats at once is the room's own bound (service.ts).
 *
 * The two budgets per address (failed joins, new participants) are `budgets`' (access/rateBudgets.ts):
 * with REDIS_URL on Redis, shared by every instance, so that a guesser or a churning bot spreading
 * its joins over the instances gets each budget once. The messages are counted per socket, and a
 * socket lives on one instance, so that budget stays in this process's memory whatever the store:
 * rate-limiter-flexible's memory store resolves inside its promises without I/O, so the per-packet
 * check costs no round trip and packets pass it in the order they came.
 */
export function createRoomLimits(
  { failedJoinsPerMinute, messagesPerSecond, joinsPerClientPerMinute }: RoomLimitSettings,
  budgets: RateBudgets = memoryBudgets,
) {
  const failedJoins = budgets({ name: 'room-failed-join', points: failedJoinsPerMinute, durationS: 60 });
  const messages = memoryBudgets({ name: 'room-message', points: messagesPerSecond, durationS: 1 });
  const joins = budgets({ name: 'room-client-joins', points: joinsPerClientPerMinute, durationS: 60 });

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
    /** Counts one new participant of `client`; throws RATE_LIMITED (`room-joins-per-minute`) past
     *  its minute's budget. */
    async takeJoin(client: string): Promise<void> {
      await joins.consume(client).catch((error: unknown) => {
        ignoreLimitReached(error);
        const retryAfterS = Math.max(1, Math.ceil((error as RateLimiterRes).msBeforeNext / 1_000));
        throw clientLimitError('room-joins-per-minute', joinsPerClientPerMinute, retryAfterS);
      });
    },
    /** The join it was taken for was refused: it costs nothing. */
    async giveJoinBack(client: string): Promise<void> {
      await joins.reward(client);
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
