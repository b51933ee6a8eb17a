import { HTTP_HEADERS } from '@transport-lab/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyReport, runningLane } from '../../store/lane-reducer.ts';
import { empty, fakeAsync, json } from '../../testing/async-fakes.ts';
import { finishedState, runningState, SPEC, TASK_ID, taskState } from '../../testing/fixtures.ts';
import { MAX_POLL_FAILURES } from '../async-task.ts';
import { DEFAULT_LANE_SETTINGS } from '../types.ts';
import { createShortPollingClient, polledProgressAt, UPPER_BOUND_NOTE } from './index.ts';

const LOCATION = `/api/tasks/${TASK_ID}`;

beforeEach(() => {
  vi.useFakeTimers({ now: 100_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A server whose GETs answer from a script, one entry per poll. */
function scripted(polls: Array<() => Response>) {
  let served = 0;
  return fakeAsync((url, init) => {
    if (init.method === 'POST') {
      return json(202, { task: taskState({ lastSeq: 1 }) }, { location: LOCATION, 'retry-after': '1' });
    }
    const next = polls[served++];
    if (!next) throw new Error(`unexpected poll ${served} to ${url.pathname}`);
    return next();
  });
}

describe('short-polling lane', () => {
  it('polls the Location every Retry-After, counting 304s and unchanged states as wasted', async () => {
    const running = runningState(1, 3);
    const lab = scripted([
      () => json(200, { task: running }, { etag: `"${TASK_ID}.3"` }),
      () => empty(304, { etag: `"${TASK_ID}.3"` }),
      () => json(200, { task: running }, { etag: `"${TASK_ID}.3"` }),
      () => json(200, { task: finishedState(11_100) }, { etag: `"${TASK_ID}.7"` }),
    ]);
    const run = createShortPollingClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    expect(lab.paths()).toEqual(['POST /api/tasks']);

    await vi.advanceTimersByTimeAsync(999);
    expect(lab.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(lab.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(3_000);
    await run.done;

    expect(lab.paths()).toEqual(['POST /api/tasks', ...Array(4).fill(`GET ${LOCATION}`)]);
    const conditional = lab.requests.map(
      (r) => (r.init.headers as Record<string, string> | undefined)?.[HTTP_HEADERS.ifNoneMatch],
    );
    expect(conditional.slice(1)).toEqual([undefined, `"${TASK_ID}.3"`, `"${TASK_ID}.3"`, `"${TASK_ID}.3"`]);
    expect(lab.of('poll').map((r) => [r.poll.outcome, r.poll.label])).toEqual([
      ['news', '200, running 25%'],
      ['wasted', '304 Not Modified'],
      ['wasted', '200, unchanged'],
      ['news', '200, succeeded 100%'],
    ]);
    expect(lab.of('task').map((r) => r.task.status)).toEqual(['queued', 'running', 'succeeded']);
    expect(lab.wire().requests).toBe(5);
  });

  it('adds up wasted polls on the lane as the card shows them', async () => {
    const lab = scripted([
      () => empty(304),
      () => empty(304),
      () => empty(304),
      () => json(200, { task: finishedState(11_100) }),
    ]);
    const run = createShortPollingClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(5_000);
    await run.done;
    const lane = runningLane();
    for (const report of lab.reports) applyReport(lane, report, 1);
    expect(lane.wastedPolls).toBe(3);
    expect(lane.polls?.map((p) => p.outcome)).toEqual(['wasted', 'wasted', 'wasted', 'news']);
    expect(lane.status).toBe('succeeded');
  });

  it('polls at the lane setting rather than Retry-After when one is set', async () => {
    const lab = scripted([() => empty(304), () => json(200, { task: finishedState(11_100) })]);
    const run = createShortPollingClient(lab.deps).run(SPEC, lab.report, {
      settings: { ...DEFAULT_LANE_SETTINGS, pollIntervalMs: 250 },
    });
    await vi.advanceTimersByTimeAsync(249);
    expect(lab.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(lab.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(250);
    await run.done;
    expect(lab.requests).toHaveLength(3);
  });

  it('reports a polled progress value with its scheduled time, flagged as a lower bound', async () => {
    const lab = scripted([
      () => json(200, { task: runningState(2, 4) }),
      () => json(200, { task: finishedState(11_100) }),
    ]);
    const run = createShortPollingClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(2_000);
    await run.done;
    // startedAt 10 001 + 2 × 1 000 ms / 4 steps
    expect(lab.of('task')[1]?.progress).toEqual({ serverAt: 10_501, exact: false });
    expect(lab.of('note').map((r) => r.text)).toEqual([UPPER_BOUND_NOTE]);
  });

  it('times a polled progress value exactly by its updatedAt, and says nothing of bounds', async () => {
    const lab = scripted([
      () => json(200, { task: runningState(2, 4, { updatedAt: 10_512.25 }) }),
      () => json(200, { task: finishedState(11_100) }),
    ]);
    const run = createShortPollingClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(2_000);
    await run.done;
    expect(lab.of('task')[1]?.progress).toEqual({ serverAt: 10_512.25, exact: true });
    expect(lab.of('note')).toEqual([]);
  });

  it('keeps polling through a failed poll and marks it, without counting it as wasted', async () => {
    const lab = scripted([
      () => {
        throw new TypeError('Failed to fetch');
      },
      () => json(200, { task: finishedState(11_100) }),
    ]);
    const run = createShortPollingClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(3_000);
    await run.done;
    expect(lab.of('poll').map((r) => r.poll.outcome)).toEqual(['error', 'news']);
    expect(lab.of('error')).toEqual([]);
  });

  it('after a failed poll waits the longer of Retry-After and the backoff, from the first backoff again after an answer', async () => {
    const sentAt: number[] = [];
    const timed = (answer: () => Response) => () => {
      sentAt.push(Date.now());
      return answer();
    };
    const offline = () => {
      throw new TypeError('Failed to fetch');
    };
    const lab = scripted([
      timed(offline),
      timed(() => empty(503)),
      timed(() => empty(503, { [HTTP_HEADERS.retryAfter]: '1' })),
      timed(() => empty(304)),
      timed(offline),
      timed(() => json(200, { task: finishedState(11_100) })),
    ]);
    const run = createShortPollingClient(lab.deps).run(SPEC, lab.report, {
      settings: { ...DEFAULT_LANE_SETTINGS, pollIntervalMs: 100 },
    });
    await vi.advanceTimersByTimeAsync(5_000);
    await run.done;
    const first = sentAt[0] ?? Number.NaN;
    // random() = 0: 125, 250, 500 ms after 1, 2, 3 failures in a row; Retry-After's 1 s is longer than
    // the third; the 304 starts the count again, and the 100 ms interval is shorter than every wait.
    expect(sentAt.map((t) => t - first)).toEqual([0, 125, 375, 1_375, 1_475, 1_600]);
    expect(lab.of('error')).toEqual([]);
  });

  it(`gives up with the last answer's error once a poll fails after ${MAX_POLL_FAILURES} retries in a row`, async () => {
    const lab = scripted(Array.from({ length: MAX_POLL_FAILURES + 1 }, () => () => empty(503)));
    const run = createShortPollingClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(120_000);
    await run.done;
    expect(lab.requests).toHaveLength(1 + MAX_POLL_FAILURES + 1);
    expect(lab.of('error').map((r) => r.error.status)).toEqual([503]);
  });
});

describe('polledProgressAt', () => {
  it('is the step’s scheduled time while running, and nothing for a state without a step', () => {
    expect(polledProgressAt(runningState(1, 3))).toEqual({ serverAt: 10_251, exact: false });
    expect(polledProgressAt(runningState(0, 2))).toBeUndefined();
    expect(polledProgressAt(taskState())).toBeUndefined();
    expect(polledProgressAt(finishedState(11_000))).toBeUndefined();
  });

  it('is exact when the state says when its newest event happened (updatedAt)', () => {
    expect(polledProgressAt(runningState(1, 3, { updatedAt: 10_263.5 }))).toEqual({
      serverAt: 10_263.5,
      exact: true,
    });
  });
});
