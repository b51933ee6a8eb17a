import { HTTP_HEADERS } from '@transport-lab/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeAsync, json } from '../../testing/async-fakes.ts';
import { finishedState, SPEC, started, succeeded, TASK_ID, taskState } from '../../testing/fixtures.ts';
import { PUSH_FOLLOWERS } from '../lanes.ts';
import { DEFAULT_LANE_SETTINGS } from '../types.ts';
import { createHybridClient, preferHeader } from './index.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: 100_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

const LOCATION = `/api/tasks/${TASK_ID}`;

function server(createAnswer: () => Response) {
  return fakeAsync((url, init) => {
    if (init.method === 'POST') return createAnswer();
    if (url.pathname.endsWith('/events'))
      return json(200, { events: [started(), succeeded(3, 12_000)], nextAfter: 3 });
    throw new Error(`unexpected ${url.pathname}`);
  });
}

const headerOf = (init: RequestInit | undefined, name: string) =>
  (init?.headers as Record<string, string> | undefined)?.[name];

describe('hybrid lane', () => {
  it('shows a task that ended within the wait as the answer itself: one request, no push lane', async () => {
    const lab = server(() =>
      json(
        200,
        { task: finishedState(11_000) },
        { [HTTP_HEADERS.preferenceApplied]: 'wait=2', location: LOCATION },
      ),
    );
    const run = createHybridClient(PUSH_FOLLOWERS, lab.deps).run(SPEC, lab.report);
    await run.done;
    expect(headerOf(lab.requests[0]?.init, HTTP_HEADERS.prefer)).toBe('respond-async, wait=2');
    expect(lab.requests).toHaveLength(1);
    expect(lab.sources).toHaveLength(0);
    expect(lab.of('path')[0]?.path).toEqual({
      kind: 'answered',
      text: 'Answered in 1 request',
      detail: 'Preference-Applied: wait=2',
    });
    expect(lab.of('task')[0]?.task.status).toBe('succeeded');
  });

  it('goes on over SSE after a 202, from the seq the 202 gave', async () => {
    const lab = server(() =>
      json(
        202,
        { task: taskState({ lastSeq: 1 }) },
        { [HTTP_HEADERS.preferenceApplied]: 'respond-async', location: LOCATION },
      ),
    );
    const run = createHybridClient(PUSH_FOLLOWERS, lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    expect(lab.of('path')[0]?.path).toEqual({
      kind: 'pushed',
      text: '202 → SSE',
      detail: 'Preference-Applied: respond-async',
    });
    const source = lab.lastSource();
    expect(source.url).toContain(`/api/tasks/${TASK_ID}/stream?after=1`);
    source.open();
    source.send(started(), '2');
    source.send(succeeded(3, 12_000), '3');
    await run.done;
    expect(lab.seqs()).toEqual([2, 3]);
  });

  it('goes on by long polling after a 202 when that push lane is chosen, with the chosen wait', async () => {
    const lab = server(() => json(202, { task: taskState({ lastSeq: 1 }) }, { location: LOCATION }));
    const run = createHybridClient(PUSH_FOLLOWERS, lab.deps).run(SPEC, lab.report, {
      settings: {
        ...DEFAULT_LANE_SETTINGS,
        hybridWaitS: 5,
        hybridPushLane: 'long-polling',
        longPollWaitMs: 4_000,
      },
    });
    await run.done;
    expect(headerOf(lab.requests[0]?.init, HTTP_HEADERS.prefer)).toBe('respond-async, wait=5');
    expect(lab.of('path')[0]?.path.text).toBe('202 → long polling');
    expect(lab.paths()[1]).toBe(`GET /api/tasks/${TASK_ID}/events?after=1&waitMs=4000`);
    expect(lab.sources).toHaveLength(0);
    expect(lab.seqs()).toEqual([2, 3]);
  });
});

describe('hybrid lane, composed', () => {
  it('follows with whatever follower it is handed for the chosen push lane, with the run’s options', async () => {
    const lab = server(() => json(202, { task: taskState({ lastSeq: 1 }) }, { location: LOCATION }));
    const followed: Array<{ taskId: string; waitMs: number | undefined }> = [];
    const run = createHybridClient(
      {
        'long-polling': (_deps, task, _report, options) => {
          followed.push({ taskId: task.id, waitMs: options?.settings.longPollWaitMs });
          return { stop() {}, done: Promise.resolve() };
        },
      },
      lab.deps,
    ).run(SPEC, lab.report, {
      settings: { ...DEFAULT_LANE_SETTINGS, hybridPushLane: 'long-polling', longPollWaitMs: 3_000 },
    });
    await run.done;
    expect(followed).toEqual([{ taskId: TASK_ID, waitMs: 3_000 }]);
  });

  it('says so, in a lane error, when the chosen push lane has no follower on this page', async () => {
    const lab = server(() => json(202, { task: taskState({ lastSeq: 1 }) }, { location: LOCATION }));
    const run = createHybridClient({}, lab.deps).run(SPEC, lab.report);
    await run.done;
    expect(lab.of('error')[0]?.error).toMatchObject({
      code: 'LANE_UNAVAILABLE',
      taskId: TASK_ID,
      fromServer: false,
    });
    expect(lab.requests).toHaveLength(1);
  });
});

describe('preferHeader', () => {
  it('asks for whole seconds within the protocol’s ceiling', () => {
    expect(preferHeader(0)).toBe('respond-async, wait=0');
    expect(preferHeader(2.7)).toBe('respond-async, wait=2');
    expect(preferHeader(600)).toBe('respond-async, wait=60');
  });
});
