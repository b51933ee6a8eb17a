import { LAB_TAGS } from '@transport-lab/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeAsync, json } from '../testing/async-fakes.ts';
import { SPEC, started, succeeded, TASK_ID, taskState } from '../testing/fixtures.ts';
import { taggedInit, taggedUrl } from './http.ts';
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
