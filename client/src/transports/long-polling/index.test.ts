import type { TaskEvent } from '@transport-lab/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { empty, fakeAsync, json } from '../../testing/async-fakes.ts';
import { progress, SPEC, started, succeeded, TASK_ID, taskState } from '../../testing/fixtures.ts';
import { MAX_POLL_FAILURES } from '../async-task.ts';
import { DEFAULT_LANE_SETTINGS } from '../types.ts';
import { createLongPollingClient } from './index.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: 100_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

type Answer = Response | Error | 'hang';

/** A server answering each long poll from a script; `hang` holds the poll until it is abandoned. */
function scripted(answers: Answer[]) {
  let served = 0;
  return fakeAsync((url, init) => {
    if (init.method === 'POST')
      return json(202, { task: taskState({ lastSeq: 1 }) }, { location: `/api/tasks/${TASK_ID}` });
    const next = answers[served++];
    if (next === undefined) throw new Error(`unexpected poll ${url.search}`);
    if (next instanceof Error) throw next;
    if (next === 'hang') {
      return new Promise<Response>((_resolve, reject) =>
        init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    }
    return next;
  });
}

const events = (...list: TaskEvent[]) => json(200, { events: list, nextAfter: list.at(-1)?.seq ?? 0 });

describe('long-polling lane', () => {
  it('after a failed poll, resumes from its cursor: no event lost, none shown twice', async () => {
    const lab = scripted([
      events(started(), progress(3, 1, 10_100)),
      new TypeError('Failed to fetch'),
      // The server resends seq 3 (the client may not have applied it): it must be dropped.
      events(progress(3, 1, 10_100), progress(4, 2, 10_200), progress(5, 3, 10_300)),
      json(200, { events: [], nextAfter: 5 }),
      events(succeeded(6, 10_400)),
    ]);
    const run = createLongPollingClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(1_000);
    await run.done;

    expect(lab.seqs()).toEqual([2, 3, 4, 5, 6]);
    const cursors = lab.requests.slice(1).map((r) => r.url.searchParams.get('after'));
    expect(cursors).toEqual(['1', '3', '3', '5', '5']);
    expect(lab.requests[1]?.url.searchParams.get('waitMs')).toBe(
      String(DEFAULT_LANE_SETTINGS.longPollWaitMs),
    );
    expect(lab.of('poll').map((r) => r.poll.outcome)).toEqual(['news', 'error', 'news', 'wasted', 'news']);
    expect(lab.of('error')).toEqual([]);
  });

  it('waits a backoff delay before the retry, not a moment sooner', async () => {
    const lab = scripted([new TypeError('Failed to fetch'), events(succeeded(2, 10_400))]);
    const run = createLongPollingClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    expect(lab.requests).toHaveLength(2);
    // random() = 0: the first retry waits half of the 250 ms ceiling.
    await vi.advanceTimersByTimeAsync(124);
    expect(lab.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await run.done;
    expect(lab.requests).toHaveLength(3);
    expect(lab.seqs()).toEqual([2]);
  });

  it('abandons a poll held past its wait and asks again from the same cursor', async () => {
    const lab = scripted(['hang', events(succeeded(2, 10_400))]);
    const run = createLongPollingClient(lab.deps).run(SPEC, lab.report, {
      settings: { ...DEFAULT_LANE_SETTINGS, longPollWaitMs: 1_000 },
    });
    await vi.advanceTimersByTimeAsync(11_000 + 250);
    await run.done;
    expect(lab.requests.slice(1).map((r) => r.url.searchParams.get('after'))).toEqual(['1', '1']);
    expect(lab.of('poll')[0]?.poll.label).toBe('no answer in time');
  });

  it(`gives up with an error once a poll fails after ${MAX_POLL_FAILURES} retries in a row`, async () => {
    const lab = scripted(Array.from({ length: MAX_POLL_FAILURES + 1 }, () => empty(503)));
    const run = createLongPollingClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(120_000);
    await run.done;
    expect(lab.requests).toHaveLength(1 + MAX_POLL_FAILURES + 1);
    expect(lab.of('error')).toHaveLength(1);
    expect(lab.of('error')[0]?.error.status).toBe(503);
  });

  it('ends at once on an answer outside the retryable kind, such as 404', async () => {
    const lab = scripted([json(404, { error: { code: 'NOT_FOUND', message: 'no such task' } })]);
    const run = createLongPollingClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    await run.done;
    expect(lab.of('error')[0]?.error).toMatchObject({ code: 'NOT_FOUND', status: 404, fromServer: true });
  });

  it('holds no longer than the server allows', async () => {
    const lab = scripted([events(succeeded(2, 10_400))]);
    const run = createLongPollingClient(lab.deps).run(SPEC, lab.report, {
      settings: DEFAULT_LANE_SETTINGS,
      server: {
        protocolVersion: 1,
        syncTimeoutMs: 1,
        pollIntervalMs: 1_000,
        maxLongPollWaitMs: 5_000,
        receiver: { port: 1, webhookUrl: 'http://x/' },
        webhookScheduleScale: 1,
      },
    });
    await run.done;
    expect(lab.requests[1]?.url.searchParams.get('waitMs')).toBe('5000');
  });
});
