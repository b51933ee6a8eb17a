import { once } from 'node:events';
import { ClientLimitDetails, type TaskSpec } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { BUDGET_STORES, budgetInstances, refusal } from '../../test/budgetStores.ts';
import { type ClientLimitSettings, createClientLimits } from './clientLimits.ts';
import type { Peer } from './operator.ts';

/**
 * The per-client rate budgets of clientLimits.ts on each store they count in (rateBudgets.ts): in
 * memory, each instance its own; on Redis, one budget per client for every instance on the prefix,
 * falling back to the instance's own count when Redis fails. The gauges (tasks running, streams) are
 * each instance's on either store: clientLimits.test.ts tests them through a server.
 */

const BOT: Peer = { address: '203.0.113.66', headers: {} };
const PHONE: Peer = { address: '203.0.113.9', headers: {} };
const quick: TaskSpec = { durationMs: 0, steps: 1 };

const settings: ClientLimitSettings = {
  maxTasksRunning: 1_000,
  tasksPerMinute: 3,
  taskEventsPerMinute: 10_000,
  resultBytesPerMinute: 1_000_000,
  maxStreams: 10,
};

/** The refusal's details, checked against its Retry-After: a minute's budget frees within a minute. */
function expectRetryWithinMinute(error: { details?: unknown; headers: Record<string, string> }) {
  const details = ClientLimitDetails.parse(error.details);
  expect(details.retryAfterS).toBeGreaterThanOrEqual(1);
  expect(details.retryAfterS).toBeLessThanOrEqual(60);
  expect(error.headers['Retry-After']).toBe(String(details.retryAfterS));
  return details;
}

let ids = 0;
const taskId = () => `task-${++ids}`;

describe.each(BUDGET_STORES)('the per-client rate budgets, in %s', (store) => {
  const instances = budgetInstances(store);

  it('refuses the task past tasksPerMinute with the seconds left in its minute, and another client still starts', async () => {
    const limits = createClientLimits(settings, (await instances.instance()).budgets);
    for (let i = 0; i < 3; i++) await limits.admitTask(BOT, taskId(), quick);
    const refused = await refusal(() => limits.admitTask(BOT, taskId(), quick));
    expect(expectRetryWithinMinute(refused)).toMatchObject({ reason: 'tasks-per-minute', limit: 3 });
    expect(refused.message).toMatch(/^Too many tasks from this device this minute \(3 a minute\)/);
    expect(limits.holding(BOT.address ?? '').tasksRunning).toBe(3); // the refused one counts nowhere
    await limits.admitTask(PHONE, taskId(), quick);
  });

  it('bounds the events and the result bytes a minute, and gives a refused task’s points back to the budgets before', async () => {
    const limits = createClientLimits(
      { ...settings, taskEventsPerMinute: 20, resultBytesPerMinute: 1_000 },
      (await instances.instance()).budgets,
    );
    // 2 tasks + 13 events: within every budget.
    await limits.admitTask(BOT, taskId(), { durationMs: 0, steps: 10 });
    // 1 more task, 13 more events: past the 20 events, refused; its task is given back.
    const events = await refusal(() => limits.admitTask(BOT, taskId(), { durationMs: 0, steps: 10 }));
    expect(expectRetryWithinMinute(events)).toMatchObject({ reason: 'task-events-per-minute', limit: 20 });
    const bytes = await refusal(() =>
      limits.admitTask(PHONE, taskId(), { durationMs: 0, steps: 1, resultBytes: 2_000 }),
    );
    expect(expectRetryWithinMinute(bytes)).toMatchObject({ reason: 'result-bytes-per-minute', limit: 1_000 });
    // The phone's refused task took none of its 3 tasks a minute: 3 more start.
    for (let i = 0; i < 3; i++) await limits.admitTask(PHONE, taskId(), quick);
    expect((await refusal(() => limits.admitTask(PHONE, taskId(), quick))).details).toMatchObject({
      reason: 'tasks-per-minute',
    });
  });
});

describe('the per-client rate budgets on Redis, across instances', () => {
  const instances = budgetInstances('redis');

  it('shares one budget per client between two instances: the task past it, on either, is refused with its retry time', async () => {
    const one = createClientLimits(settings, (await instances.instance()).budgets);
    const two = createClientLimits(settings, (await instances.instance()).budgets);
    // The bot alternates instances, as a forged lab-link cookie prefix would let it: 3 in all.
    await one.admitTask(BOT, taskId(), quick);
    await two.admitTask(BOT, taskId(), quick);
    await one.admitTask(BOT, taskId(), quick);
    const refused = await refusal(() => two.admitTask(BOT, taskId(), quick));
    expect(expectRetryWithinMinute(refused)).toMatchObject({ reason: 'tasks-per-minute', limit: 3 });
    expect((await refusal(() => one.admitTask(BOT, taskId(), quick))).details).toMatchObject({
      reason: 'tasks-per-minute',
    });
    // Each instance's gauge still counts the tasks it runs itself.
    expect(one.holding(BOT.address ?? '').tasksRunning).toBe(2);
    expect(two.holding(BOT.address ?? '').tasksRunning).toBe(1);
    await two.admitTask(PHONE, taskId(), quick);
  });

  it('answers from the instance’s own count, without throwing, when Redis answers a consume with an error', async () => {
    const limits = createClientLimits(settings, (await instances.instance()).budgets);
    const probe = await instances.instance();
    // The bot's key holds a hash: Redis refuses the limiter's INCRBY on it (WRONGTYPE).
    await probe.redis?.hset(`${instances.keys().rateBudget('client-tasks')}:${BOT.address}`, 'x', '1');
    for (let i = 0; i < 3; i++) await limits.admitTask(BOT, taskId(), quick);
    const refused = await refusal(() => limits.admitTask(BOT, taskId(), quick));
    expect(expectRetryWithinMinute(refused)).toMatchObject({ reason: 'tasks-per-minute', limit: 3 });
    // The other budgets, and other clients, still count on Redis.
    await limits.admitTask(PHONE, taskId(), quick);
    expect(await probe.redis?.get(`${instances.keys().rateBudget('client-tasks')}:${PHONE.address}`)).toBe(
      '1',
    );
    expect(
      await probe.redis?.get(`${instances.keys().rateBudget('client-task-events')}:${BOT.address}`),
    ).toBe(
      '12', // 3 tasks × (1 step + 3); the refused one's events were never asked for
    );
  });

  it('falls back to the instance’s own count while its connection is down, and to the shared count once it is back', async () => {
    const one = await instances.instance();
    const onOne = createClientLimits(settings, one.budgets);
    const onTwo = createClientLimits(settings, (await instances.instance()).budgets);
    await onTwo.admitTask(BOT, taskId(), quick);
    await onTwo.admitTask(BOT, taskId(), quick); // 2 of the bot's 3 spent, on Redis

    // Instance one loses Redis: it neither throws nor refuses everyone, but counts the bot afresh.
    const redis = one.redis;
    if (!redis) throw new Error('instance one has no Redis connection');
    const ended = once(redis, 'end');
    redis.disconnect();
    await ended;
    for (let i = 0; i < 3; i++) await onOne.admitTask(BOT, taskId(), quick);
    const refused = await refusal(() => onOne.admitTask(BOT, taskId(), quick));
    expect(expectRetryWithinMinute(refused)).toMatchObject({ reason: 'tasks-per-minute', limit: 3 });
    // Meanwhile instance two still shares the budget on Redis, which the outage did not touch.
    await onTwo.admitTask(BOT, taskId(), quick);
    await refusal(() => onTwo.admitTask(BOT, taskId(), quick));

    // Redis is back for instance one: the shared count applies again (and the phone is counted there).
    await redis.connect();
    expect(redis.status).toBe('ready');
    await refusal(() => onOne.admitTask(BOT, taskId(), quick));
    await onOne.admitTask(PHONE, taskId(), quick);
    expect(await redis.get(`${instances.keys().rateBudget('client-tasks')}:${PHONE.address}`)).toBe('1');
  });
});
