import { LAB_TAGS, parseTraceparent, TRACEPARENT_HEADER } from '@transport-lab/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeAsync, json } from '../testing/async-fakes.ts';
import { SPEC, started, succeeded, TASK_ID, taskState } from '../testing/fixtures.ts';
import { taggedInit, taggedUrl } from './http.ts';
import { createRequestResponseClient } from './request-response/index.ts';
import { createSseClient } from './sse/index.ts';
import { DEFAULT_LANE_SETTINGS } from './types.ts';
import { createWebSocketClient, type LaneSocket } from './websocket/index.ts';

const TAG = { lane: 'sse', runId: 'race-0123456789' } as const;

beforeEach(() => {
  vi.useFakeTimers({ now: 100_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('lab tags on a lane’s traffic', () => {
  it('adds the tag headers to a fetch and keeps its own, and leaves an untagged fetch alone', () => {
    const init = { method: 'POST', headers: { 'content-type': 'application/json' } };
    expect(taggedInit(init, TAG).headers).toEqual({
      'content-type': 'application/json',
      [LAB_TAGS.laneHeader]: 'sse',
      [LAB_TAGS.runHeader]: 'race-0123456789',
    });
    expect(taggedInit(init, undefined)).toBe(init);
  });

  it('adds the tag query to a stream’s URL beside its own parameters', () => {
    const url = new URL(taggedUrl('http://lab.test/api/tasks/t1/stream?after=2', TAG));
    expect(url.searchParams.get('after')).toBe('2');
    expect(url.searchParams.get(LAB_TAGS.laneQuery)).toBe('sse');
    expect(url.searchParams.get(LAB_TAGS.runQuery)).toBe('race-0123456789');
  });

  it('tags every request and the stream of an SSE run, and nothing of an untagged run', async () => {
    const lab = fakeAsync((_url, init) =>
      init.method === 'POST'
        ? json(202, { task: taskState({ lastSeq: 1 }) }, { location: `/api/tasks/${TASK_ID}` })
        : json(404, {}),
    );
    const run = createSseClient(lab.deps).run(SPEC, lab.report, {
      settings: DEFAULT_LANE_SETTINGS,
      tag: TAG,
    });
    await vi.advanceTimersByTimeAsync(0);
    const source = lab.lastSource();
    expect(new URL(source.url).searchParams.get(LAB_TAGS.runQuery)).toBe(TAG.runId);
    source.open();
    source.send(started(), '2');
    source.send(succeeded(3, 10_300), '3');
    await run.done;
    const headers = lab.requests.map((r) => r.init.headers as Record<string, string>);
    expect(headers.map((h) => [h[LAB_TAGS.laneHeader], h[LAB_TAGS.runHeader]])).toEqual([['sse', TAG.runId]]);
  });

  it('hands the tag to the socket.io connection, whose handshake query carries it', () => {
    const tags: unknown[] = [];
    const client = createWebSocketClient({
      now: () => 0,
      ackTimeoutMs: 1_000,
      createSocket: (_meter, tag) => {
        tags.push(tag);
        const socket = { on: () => socket, emit: () => socket, connect: () => socket, io: { on: () => {} } };
        return socket as unknown as LaneSocket;
      },
    });
    client.run(SPEC, () => {}, {
      settings: DEFAULT_LANE_SETTINGS,
      tag: { lane: 'websocket', runId: TAG.runId },
    });
    expect(tags).toEqual([{ lane: 'websocket', runId: TAG.runId }]);
  });
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('the trace-id of a run on the request that creates its task', () => {
  it('sends it as the create’s traceparent on an asynchronous lane, and on no later request', async () => {
    const lab = fakeAsync((_url, init) =>
      init.method === 'POST'
        ? json(202, { task: taskState({ lastSeq: 1 }) }, { location: `/api/tasks/${TASK_ID}` })
        : json(404, {}),
    );
    const run = createSseClient(lab.deps).run(SPEC, lab.report, {
      settings: DEFAULT_LANE_SETTINGS,
      traceId: TRACE_ID,
    });
    await vi.advanceTimersByTimeAsync(0);
    lab.lastSource().open();
    lab.lastSource().send(succeeded(2, 10_300), '2');
    await run.done;
    const [create, ...rest] = lab.requests.map((r) => r.init.headers as Record<string, string>);
    const parsed = parseTraceparent(create?.[TRACEPARENT_HEADER]);
    expect(parsed).toEqual({
      traceId: TRACE_ID,
      parentId: expect.stringMatching(/^[0-9a-f]{16}$/),
      sampled: true,
    });
    expect(rest.every((h) => h?.[TRACEPARENT_HEADER] === undefined)).toBe(true);
  });

  it('sends none from a run without one (curl-like clients are unaffected)', async () => {
    const lab = fakeAsync(() =>
      json(202, { task: taskState({ lastSeq: 1 }) }, { location: `/api/tasks/${TASK_ID}` }),
    );
    createSseClient(lab.deps).run(SPEC, lab.report, { settings: DEFAULT_LANE_SETTINGS });
    await vi.advanceTimersByTimeAsync(0);
    const headers = lab.requests[0]?.init.headers as Record<string, string>;
    expect(headers['content-type']).toBe('application/json');
    expect(headers[TRACEPARENT_HEADER]).toBeUndefined();
  });

  it('sends it on the blocking call’s one POST', async () => {
    const lab = fakeAsync(() => json(200, { task: taskState({ status: 'succeeded', lastSeq: 3 }) }));
    createRequestResponseClient(lab.deps).run(SPEC, lab.report, {
      settings: DEFAULT_LANE_SETTINGS,
      traceId: TRACE_ID,
    });
    await vi.advanceTimersByTimeAsync(0);
    const headers = new Headers(lab.requests[0]?.init.headers);
    expect(parseTraceparent(headers.get(TRACEPARENT_HEADER) ?? undefined)?.traceId).toBe(TRACE_ID);
  });

  it('puts it beside the spec in task:start on a socket, and sends the bare spec without one', () => {
    const starts: unknown[] = [];
    const client = createWebSocketClient({
      now: () => 0,
      ackTimeoutMs: 1_000,
      createSocket: () => {
        const socket = {
          on: () => socket,
          emit: (event: string, payload: unknown) => {
            if (event === 'task:start') starts.push(payload);
            return socket;
          },
          connect: () => socket,
          io: { on: () => {} },
        };
        return socket as unknown as LaneSocket;
      },
    });
    client.run(SPEC, () => {}, { settings: DEFAULT_LANE_SETTINGS, traceId: TRACE_ID });
    client.run(SPEC, () => {}, { settings: DEFAULT_LANE_SETTINGS });
    const [traced, bare] = starts as [{ spec: unknown; traceparent: string }, unknown];
    expect(traced.spec).toEqual(SPEC);
    expect(parseTraceparent(traced.traceparent)?.traceId).toBe(TRACE_ID);
    expect(bare).toEqual(SPEC);
  });
});
