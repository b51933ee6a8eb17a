import { HTTP_HEADERS } from '@transport-lab/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeAsync, json } from '../testing/async-fakes.ts';
import { SPEC, TASK_ID, taskState } from '../testing/fixtures.ts';
import {
  browserAsyncDeps,
  createTask,
  newIdempotencyKey,
  parseRetryAfterMs,
  runAsyncLane,
} from './async-task.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: 100_000 });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const keyOf = (init: RequestInit | undefined) =>
  (init?.headers as Record<string, string> | undefined)?.[HTTP_HEADERS.idempotencyKey];

describe('createTask', () => {
  it('retries a create lost on the network with the same Idempotency-Key', async () => {
    let calls = 0;
    const lab = fakeAsync(() => {
      calls += 1;
      if (calls === 1) throw new TypeError('Failed to fetch');
      return json(202, { task: taskState() }, { location: `/api/tasks/${TASK_ID}`, 'retry-after': '2' });
    });
    const created = createTask(lab.deps, { spec: SPEC }, lab.report);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await created).toMatchObject({
      kind: 'accepted',
      retryAfterMs: 2_000,
      location: `/api/tasks/${TASK_ID}`,
    });
    expect(lab.requests).toHaveLength(2);
    expect(keyOf(lab.requests[0]?.init)).toBe('key-1');
    expect(keyOf(lab.requests[1]?.init)).toBe('key-1');
  });

  it('asks again while the first request with its key is still being handled (409)', async () => {
    let calls = 0;
    const lab = fakeAsync(() => {
      calls += 1;
      return calls === 1
        ? json(409, { error: { code: 'IDEMPOTENCY_KEY_IN_USE', message: 'busy' } })
        : json(202, { task: taskState() }, { location: `/api/tasks/${TASK_ID}` });
    });
    const created = createTask(lab.deps, { spec: SPEC }, lab.report);
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await created)?.kind).toBe('accepted');
    expect(keyOf(lab.requests[1]?.init)).toBe('key-1');
  });

  it('gives up after seven requests lost on the network, waiting the backoff between them', async () => {
    const sentAt: number[] = [];
    const lab = fakeAsync(() => {
      sentAt.push(Date.now());
      throw new TypeError('Failed to fetch');
    });
    const created = createTask(lab.deps, { spec: SPEC }, lab.report);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await created).toBeUndefined();
    // random() = 0: half of each ceiling, 250 ms doubling.
    expect(sentAt.map((t, i) => t - (sentAt[i - 1] ?? t))).toEqual([0, 125, 250, 500, 1_000, 2_000, 4_000]);
    expect(lab.of('error').map((r) => r.error.code)).toEqual(['NETWORK']);
  });

  it('waits the longer of Retry-After and the backoff after a 409, and reports the seventh', async () => {
    const sentAt: number[] = [];
    const lab = fakeAsync(() => {
      sentAt.push(Date.now());
      return json(
        409,
        { error: { code: 'IDEMPOTENCY_KEY_IN_USE', message: 'busy' } },
        { [HTTP_HEADERS.retryAfter]: '1' },
      );
    });
    const created = createTask(lab.deps, { spec: SPEC }, lab.report);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await created).toBeUndefined();
    expect(sentAt.map((t, i) => t - (sentAt[i - 1] ?? t))).toEqual([
      0, 1_000, 1_000, 1_000, 1_000, 2_000, 4_000,
    ]);
    expect(lab.of('error').map((r) => r.error.code)).toEqual(['IDEMPOTENCY_KEY_IN_USE']);
  });

  it('reports a refused create in the error envelope’s words', async () => {
    const lab = fakeAsync(() =>
      json(422, { error: { code: 'WEBHOOK_URL_REFUSED', message: 'private address' } }),
    );
    expect(await createTask(lab.deps, { spec: SPEC }, lab.report)).toBeUndefined();
    expect(lab.of('error')[0]?.error).toMatchObject({
      code: 'WEBHOOK_URL_REFUSED',
      status: 422,
      fromServer: true,
    });
  });
});

describe('runAsyncLane', () => {
  it('sends a cancel pressed before the create answered as soon as the task exists, and follows nothing', async () => {
    let answerCreate: (r: Response) => void = () => {};
    const lab = fakeAsync((url, init) => {
      if (url.pathname === '/api/tasks') return new Promise<Response>((resolve) => (answerCreate = resolve));
      if (url.pathname.endsWith('/cancel') && init.method === 'POST') {
        return json(200, { task: taskState({ status: 'cancelled', finishedAt: 10_500 }) });
      }
      throw new Error(`unexpected ${url.pathname}`);
    });
    const follow = vi.fn(() => ({ stop: () => {}, done: Promise.resolve() }));
    const run = runAsyncLane(lab.deps, SPEC, lab.report, { follow });
    run.cancel();
    await vi.advanceTimersByTimeAsync(0);
    answerCreate(json(202, { task: taskState() }, { location: `/api/tasks/${TASK_ID}` }));
    await run.done;
    expect(lab.paths()).toEqual(['POST /api/tasks', `POST /api/tasks/${TASK_ID}/cancel`]);
    expect(lab.of('task').map((r) => r.task.status)).toEqual(['queued', 'cancelled']);
    // The cancel's answer already shows the end: there is nothing left to follow.
    expect(follow).not.toHaveBeenCalled();
  });
});

describe('parseRetryAfterMs', () => {
  it('reads delay-seconds and HTTP-dates, and nothing else', () => {
    expect(parseRetryAfterMs('3', 0)).toBe(3_000);
    expect(parseRetryAfterMs('Thu, 01 Jan 1970 00:00:05 GMT', 1_000)).toBe(4_000);
    expect(parseRetryAfterMs('soon', 0)).toBeUndefined();
    expect(parseRetryAfterMs(null, 0)).toBeUndefined();
  });
});

describe('newIdempotencyKey', () => {
  it('makes a v4 UUID even where randomUUID is missing (plain http on a LAN address)', () => {
    vi.stubGlobal('crypto', { getRandomValues: (a: Uint8Array) => a.fill(0xab) });
    expect(newIdempotencyKey()).toMatch(/^abababab-abab-4bab-abab-abababababab$/);
  });
});

describe('runAsyncLane, cancelling a task that is being followed', () => {
  it('asks the server, shows its answer, and stops the follower', async () => {
    const lab = fakeAsync((url) =>
      url.pathname.endsWith('/cancel')
        ? json(200, { task: taskState({ status: 'cancelled', finishedAt: 10_500 }) })
        : json(202, { task: taskState() }, { location: `/api/tasks/${TASK_ID}` }),
    );
    let stopFollowing: () => void = () => {};
    const stop = vi.fn(() => stopFollowing());
    const run = runAsyncLane(lab.deps, SPEC, lab.report, {
      follow: () => ({ stop, done: new Promise<void>((resolve) => (stopFollowing = resolve)) }),
    });
    await vi.advanceTimersByTimeAsync(0);
    run.cancel();
    await run.done;
    expect(lab.paths()).toEqual(['POST /api/tasks', `POST /api/tasks/${TASK_ID}/cancel`]);
    expect(stop).toHaveBeenCalledTimes(1);
  });
});

describe('the browser’s EventSource', () => {
  it('goes with credentials only to another origin (the receiver’s relay), so its network link reaches it', () => {
    const opened: Array<{ url: string; init: EventSourceInit | undefined }> = [];
    const original = globalThis.EventSource;
    globalThis.EventSource = class {
      constructor(url: string, init?: EventSourceInit) {
        opened.push({ url, init });
      }
    } as unknown as typeof EventSource;
    try {
      browserAsyncDeps.createEventSource('/api/tasks/abc/stream');
      browserAsyncDeps.createEventSource('http://127.0.0.1:1/relay/tasks/abc');
    } finally {
      globalThis.EventSource = original;
    }
    expect(opened.map((o) => o.init?.withCredentials)).toEqual([false, true]);
  });
});
