import type { DeliveriesResponse, RelayMessage, TaskEvent } from '@transport-lab/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeAsync, json, SETTINGS } from '../../testing/async-fakes.ts';
import { queued, SPEC, started, succeeded, TASK_ID, taskState } from '../../testing/fixtures.ts';
import { createWebhookClient, relayUrl } from './index.ts';

describe('webhook relay URL', () => {
  it('puts the relay on the receiver’s port of the host the page came from', () => {
    expect(relayUrl({ protocol: 'http:', hostname: '192.168.1.20' }, 3997, TASK_ID)).toBe(
      `http://192.168.1.20:3997/relay/tasks/${TASK_ID}`,
    );
  });
});

function relayed(event: TaskEvent, receivedAt: number, attempt = 1): RelayMessage {
  return {
    webhookId: `msg_${event.seq}`,
    receivedAt,
    relayedAt: receivedAt + 1,
    attempt,
    payload: { type: `task.${event.type}`, timestamp: new Date(event.at).toISOString(), data: event },
  };
}

const LOG: DeliveriesResponse = {
  taskId: TASK_ID,
  subscriber: { url: SETTINGS.receiver.webhookUrl, disabled: false },
  deliveries: [
    {
      id: 'msg_1',
      eventSeq: 1,
      eventType: 'task.queued',
      state: 'delivered',
      attempts: [{ attempt: 1, startedAt: 10_001, durationMs: 4, httpStatus: 200, outcome: 'delivered' }],
    },
  ],
};

beforeEach(() => {
  vi.useFakeTimers({ now: 100_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('webhook lane', () => {
  function setup() {
    return fakeAsync((url, init) => {
      if (init.method === 'POST')
        return json(202, { task: taskState({ lastSeq: 1 }) }, { location: `/api/tasks/${TASK_ID}` });
      if (url.pathname.endsWith('/deliveries')) return json(200, LOG);
      throw new Error(`unexpected ${url.pathname}`);
    });
  }

  it('subscribes the built-in receiver, applies relayed events with their hops, and fetches the log unmetered', async () => {
    const lab = setup();
    const run = createWebhookClient(lab.deps).run(SPEC, lab.report, {
      settings: { longPollWaitMs: 1_000, hybridWaitS: 2, hybridPushLane: 'sse' },
      server: SETTINGS,
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(JSON.parse(String(lab.requests[0]?.init.body))).toEqual({
      spec: SPEC,
      webhook: { url: SETTINGS.receiver.webhookUrl },
    });
    const source = lab.lastSource();
    expect(source.url).toBe(`http://localhost:3997/relay/tasks/${TASK_ID}`);
    source.open();
    source.send(relayed(queued(10_000), 10_005), '1');
    source.send(relayed(started(10_001), 10_006), '2');
    // A retried delivery comes once (the receiver de-duplicates by webhook-id), on its 2nd attempt.
    source.send(relayed(succeeded(3, 10_100), 10_150, 2), '3');
    await vi.advanceTimersByTimeAsync(1_000);
    await run.done;

    expect(lab.seqs()).toEqual([1, 2, 3]);
    expect(lab.of('relay').map((r) => [r.hop.seq, r.hop.receivedAt - r.hop.eventAt, r.hop.attempt])).toEqual([
      [1, 5, 1],
      [2, 5, 1],
      [3, 50, 2],
    ]);
    expect(source.closed).toBe(true);
    expect(lab.of('deliveries').at(-1)?.log).toEqual(LOG);
    expect(lab.paths().filter((p) => p.endsWith('/deliveries')).length).toBeGreaterThan(0);
    // The lane's own cost: the create and the relay stream. The log fetches are the lab's.
    expect(lab.wire().requests).toBe(2);
  });

  it('applies a relayed event once, however often it is relayed', async () => {
    const lab = setup();
    const run = createWebhookClient(lab.deps).run(SPEC, lab.report, {
      settings: { longPollWaitMs: 1_000, hybridWaitS: 2, hybridPushLane: 'sse' },
      server: SETTINGS,
    });
    await vi.advanceTimersByTimeAsync(0);
    const source = lab.lastSource();
    source.open();
    source.send(relayed(queued(10_000), 10_005), '1');
    source.drop();
    source.open();
    source.send(relayed(queued(10_000), 10_005), '1');
    source.send(relayed(succeeded(2, 10_100), 10_105), '2');
    await vi.advanceTimersByTimeAsync(1_000);
    await run.done;
    expect(lab.seqs()).toEqual([1, 2]);
    expect(lab.of('relay')).toHaveLength(2);
  });

  it('asks the server for its settings when the page has none yet', async () => {
    const lab = setup();
    const load = vi.spyOn(lab.deps, 'loadSettings');
    createWebhookClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    expect(load).toHaveBeenCalledTimes(1);
    expect(lab.lastSource().url).toContain(':3997/relay/');
  });
});
