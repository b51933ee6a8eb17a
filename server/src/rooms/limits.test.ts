import { ClientLimitDetails } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { BUDGET_STORES, budgetInstances, refusal } from '../../test/budgetStores.ts';
import { createRoomLimits, type RoomLimitSettings } from './limits.ts';

/**
 * The room's rate limits on each store (limits.ts): the per-address join budgets in memory or shared
 * on Redis; the per-socket message budget in this process's memory whatever the store.
 */

const settings: RoomLimitSettings = {
  failedJoinsPerMinute: 2,
  messagesPerSecond: 3,
  joinsPerClientPerMinute: 2,
};
const CLIENT = '203.0.113.66';

describe.each(BUDGET_STORES)('the room limits, in %s', (store) => {
  const instances = budgetInstances(store);

  it('refuses a client’s new participant past its minute’s budget with the seconds left, and a join given back costs nothing', async () => {
    const limits = createRoomLimits(settings, (await instances.instance()).budgets);
    await limits.takeJoin(CLIENT);
    await limits.takeJoin(CLIENT);
    await limits.giveJoinBack(CLIENT);
    await limits.takeJoin(CLIENT);
    const refused = await refusal(() => limits.takeJoin(CLIENT));
    const details = ClientLimitDetails.parse(refused.details);
    expect(details).toMatchObject({ reason: 'room-joins-per-minute', limit: 2 });
    expect(details.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(details.retryAfterS).toBeLessThanOrEqual(60);
    await limits.takeJoin('203.0.113.9'); // another client's budget is its own
  });

  it('blocks an address for the rest of its minute once its failed joins are spent', async () => {
    const limits = createRoomLimits(settings, (await instances.instance()).budgets);
    await limits.joinFailed(CLIENT);
    expect(await limits.joinBlockedForMs(CLIENT)).toBe(0);
    await limits.joinFailed(CLIENT);
    const blockedMs = await limits.joinBlockedForMs(CLIENT);
    expect(blockedMs).toBeGreaterThan(0);
    expect(blockedMs).toBeLessThanOrEqual(60_000);
    await limits.joinFailed(CLIENT); // past the budget: counted without throwing
    expect(await limits.joinBlockedForMs('203.0.113.9')).toBe(0);
  });

  it('counts each socket’s messages a second in this process, refusing the excess', async () => {
    const limits = createRoomLimits(settings, (await instances.instance()).budgets);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await limits.allowMessage('socket-1'));
    expect(answers).toEqual([true, true, true, false]);
    expect(await limits.allowMessage('socket-2')).toBe(true);
    await limits.forgetSocket('socket-1');
    expect(await limits.allowMessage('socket-1')).toBe(true);
    if (store === 'redis') {
      // Nothing of it on Redis: a socket lives on one instance.
      const probe = await instances.instance();
      expect(await probe.redis?.keys(`${instances.keys().prefix}*`)).toEqual([]);
    }
  });
});

describe('the room limits on Redis, across instances', () => {
  const instances = budgetInstances('redis');

  it('shares a client’s joins and an address’s failed joins between two instances', async () => {
    const one = createRoomLimits(settings, (await instances.instance()).budgets);
    const two = createRoomLimits(settings, (await instances.instance()).budgets);
    await one.takeJoin(CLIENT);
    await two.takeJoin(CLIENT);
    const refused = await refusal(() => one.takeJoin(CLIENT));
    expect(ClientLimitDetails.parse(refused.details).reason).toBe('room-joins-per-minute');

    await one.joinFailed(CLIENT);
    expect(await two.joinBlockedForMs(CLIENT)).toBe(0);
    await two.joinFailed(CLIENT);
    expect(await one.joinBlockedForMs(CLIENT)).toBeGreaterThan(0);
    expect(await two.joinBlockedForMs(CLIENT)).toBeGreaterThan(0);
  });
});
