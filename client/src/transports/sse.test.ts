import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeAsync, json } from '../testing/async-fakes.ts';
import { progress, SPEC, started, succeeded, TASK_ID, taskState } from '../testing/fixtures.ts';
import { createSseClient } from './sse.ts';
import { type ResourceEntryLike, SSE_PREAMBLE_BYTES, sseMessageBytes } from './wire.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: 100_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(entry?: (url: string) => ResourceEntryLike | undefined) {
  return fakeAsync(
    (url, init) => {
      if (init.method === 'POST')
        return json(202, { task: taskState({ lastSeq: 1 }) }, { location: `/api/tasks/${TASK_ID}` });
      if (url.pathname.endsWith('/events'))
        return json(200, { events: [succeeded(4, 10_400)], nextAfter: 4 });
      throw new Error(`unexpected ${url.pathname}`);
    },
    entry ? { entry } : {},
  );
}

describe('sse lane', () => {
  it('opens the stream after the seq the 202 gave, and closes it on the terminal event', async () => {
    const lab = setup();
    const run = createSseClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    const source = lab.lastSource();
    expect(new URL(source.url).pathname).toBe(`/api/tasks/${TASK_ID}/stream`);
    expect(new URL(source.url).searchParams.get('after')).toBe('1');
    source.open();
    source.send(started(), '2');
    source.send(succeeded(3, 10_300), '3');
    await run.done;
    expect(source.closed).toBe(true);
    expect(lab.seqs()).toEqual([2, 3]);
  });

  it('drops what a resumed stream sends twice across a reconnect, and counts the reconnect', async () => {
    const lab = setup();
    const run = createSseClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    const source = lab.lastSource();
    source.open();
    source.send(started(), '2');
    source.send(progress(3, 1, 10_100), '3');
    source.drop();
    source.open();
    // The server resumes after Last-Event-ID, but a proxy or a replay may repeat: the page must not.
    source.send(progress(3, 1, 10_100), '3');
    source.send(progress(4, 2, 10_200), '4');
    source.send(succeeded(5, 10_300), '5');
    await run.done;
    expect(lab.seqs()).toEqual([2, 3, 4, 5]);
    expect(lab.of('reconnect').map((r) => r.count)).toEqual([0, 1]);
    // POST, the stream, and the reconnection once it opened.
    expect(lab.wire().requests).toBe(3);
  });

  it('parses each message with the shared schema and drops one that does not match', async () => {
    const lab = setup();
    const run = createSseClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    const source = lab.lastSource();
    source.open();
    source.send({ type: 'progress', taskId: TASK_ID, seq: 2 }, '2');
    source.send(started(), '2');
    source.send(succeeded(3, 10_300), '3');
    await run.done;
    expect(lab.seqs()).toEqual([2, 3]);
    expect(lab.of('note').some((n) => n.text.includes('malformed'))).toBe(true);
  });

  it('counts the frames as they come, and lets the Resource Timing entry replace them at the end', async () => {
    const lab = setup();
    const run = createSseClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    const source = lab.lastSource();
    source.open();
    source.send(succeeded(2, 10_300), '2');
    const framed =
      SSE_PREAMBLE_BYTES + sseMessageBytes({ data: JSON.stringify(succeeded(2, 10_300)), lastEventId: '2' });
    const streamDeltas = lab.of('wire').filter((r) => r.delta.bytesDown !== undefined && !r.delta.requests);
    expect(streamDeltas.slice(-2).reduce((n, r) => n + (r.delta.bytesDown ?? 0), 0)).toBe(framed);
    await run.done;
    // The fake entry says 300 bytes, body included: the stream is then measured in full.
    const wire = lab.wire();
    expect(wire.unmeasuredDown).toBe(0);
    expect(wire.unmeasuredUp).toBe(1);
  });

  it('keeps the frame count, marked partial, when no Resource Timing entry comes', async () => {
    // Only the stream goes unmeasured: the POST's entry is there.
    const lab = setup((url) =>
      url.includes('/stream')
        ? undefined
        : { name: url, startTime: 0, transferSize: 300, encodedBodySize: 100 },
    );
    const run = createSseClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    const source = lab.lastSource();
    source.open();
    source.send(succeeded(2, 10_300), '2');
    await run.done;
    expect(lab.wire().unmeasuredDown).toBe(1);
    expect(
      lab.of('note').some((n) => n.text.startsWith('Event stream: bytes down counted from its messages')),
    ).toBe(true);
  });

  it('fetches what it missed when the browser gives up on the stream before the end', async () => {
    const lab = setup();
    const run = createSseClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    const source = lab.lastSource();
    source.open();
    source.send(started(), '2');
    source.send(progress(3, 1, 10_100), '3');
    source.refuse();
    await run.done;
    expect(lab.paths().at(-1)).toBe(`GET /api/tasks/${TASK_ID}/events?after=3&waitMs=0`);
    expect(lab.seqs()).toEqual([2, 3, 4]);
    expect(lab.of('error')).toEqual([]);
  });
});
