import type { DeliveriesResponse, RelayMessage, TaskEvent } from '@transport-lab/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeAsync, json, SETTINGS } from '../testing/async-fakes.ts';
import { queued, SPEC, started, succeeded, TASK_ID, taskState } from '../testing/fixtures.ts';
import { createWebhookClient, hopTimes, relayUrl, summarizeHops } from './webhook.ts';

describe('webhook hop arithmetic', () => {
  const hop = {
    seq: 3,
    eventAt: 10_000,
    receivedAt: 10_012.5,
    relayedAt: 10_013,
    attempt: 1,
    shownAt: 5_030,
  };

  it('cuts the way at your backend: delivery on the server clock, relay corrected by the clock offset', () => {
    // Server clock 5 000 ms ahead of the page: relayed at 10 013 server = 5 013 page; shown at 5 030.
    expect(hopTimes(hop, 5_000)).toEqual({ deliveryMs: 12.5, heldMs: 0.5, relayMs: 17 });
  });

  it('leaves the relay hop out while the clock offset is unknown, but not the delivery hop', () => {
    expect(hopTimes(hop, undefined)).toEqual({ deliveryMs: 12.5, heldMs: 0.5 });
  });

  it('summarises mean and max of each hop over a run', () => {
    const later = { ...hop, seq: 4, eventAt: 10_100, receivedAt: 10_150, relayedAt: 10_151, shownAt: 5_200 };
    expect(summarizeHops([hop, later], 5_000)).toEqual({
      delivery: { meanMs: 31.25, maxMs: 50, count: 2 },
      held: { meanMs: 0.75, maxMs: 1, count: 2 },
      relay: { meanMs: 33, maxMs: 49, count: 2 },
    });
    expect(summarizeHops([], 0)).toBeUndefined();
  });

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
