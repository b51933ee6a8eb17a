import { chunkBytes, LAST_CHUNK_BYTES } from '@transport-lab/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeAsync, json } from '../../testing/async-fakes.ts';
import { progress, SPEC, started, succeeded, TASK_ID, taskState } from '../../testing/fixtures.ts';
import { SERVER_END_WAIT_MS } from '../event-stream.ts';
import { type ResourceEntryLike, SSE_PREAMBLE_BYTES, sseMessageBytes } from '../wire.ts';
import { createSseClient } from './index.ts';

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

  it('lets the server end the stream after the terminal event, rather than cutting it first', async () => {
    const lab = setup();
    const run = createSseClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    const source = lab.lastSource();
    source.open();
    source.send(succeeded(2, 10_300), '2');
    // Shown at once, but the stream is left to the server, which ends its answer next.
    expect(lab.seqs()).toEqual([2]);
    expect(source.closed).toBe(false);
    await run.done;
    expect(source.closed).toBe(true);
  });

  it('closes the stream itself when the server has not ended it SERVER_END_WAIT_MS after the terminal event', async () => {
    const lab = setup();
    const run = createSseClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    const source = lab.lastSource();
    source.serverEndsAfterTerminal = false;
    source.open();
    source.send(succeeded(2, 10_300), '2');
    await vi.advanceTimersByTimeAsync(SERVER_END_WAIT_MS - 1);
    expect(source.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(source.closed).toBe(true);
    await run.done;
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

  it('counts the head, each chunked message and the last chunk exactly, with the server’s wire report', async () => {
    // The stream's Resource Timing entry: a body of exactly the payload the page saw (no heartbeat).
    const wireData = JSON.stringify({ requestBytes: 640, responseHeadBytes: 230 });
    const wireMessage = sseMessageBytes({ data: wireData, lastEventId: '', type: 'wire' });
    const terminal = sseMessageBytes({ data: JSON.stringify(succeeded(2, 10_300)), lastEventId: '2' });
    const payload = SSE_PREAMBLE_BYTES + wireMessage + terminal;
    const lab = setup((url) =>
      url.includes('/stream')
        ? { name: url, startTime: 0, transferSize: payload + 300, encodedBodySize: payload }
        : { name: url, startTime: 0, transferSize: 400, encodedBodySize: 100 },
    );
    const run = createSseClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    const source = lab.lastSource();
    const before = lab.wire().bytesDown ?? 0;
    source.open();
    source.sendWire({ requestBytes: 640, responseHeadBytes: 230 });
    source.send(succeeded(2, 10_300), '2');
    await run.done;
    const wire = lab.wire();
    // Head + three chunks (retry hint, wire report, the event) + the last chunk "0\r\n\r\n".
    const expected =
      230 +
      chunkBytes(SSE_PREAMBLE_BYTES) +
      chunkBytes(wireMessage) +
      chunkBytes(terminal) +
      LAST_CHUNK_BYTES;
    expect((wire.bytesDown ?? 0) - before).toBe(expected);
    expect(wire.unmeasuredDown).toBe(0);
    // The stream's request is measured too, from the wire report: nothing is left unmeasured going up.
    expect(wire.unmeasuredUp ?? 0).toBe(0);
  });

  it('adds the heartbeats Resource Timing shows beyond what the page saw, each as its own chunk', async () => {
    const terminal = sseMessageBytes({ data: JSON.stringify(succeeded(2, 10_300)), lastEventId: '2' });
    const wireMessage = sseMessageBytes({
      data: JSON.stringify({ requestBytes: 1, responseHeadBytes: 2 }),
      lastEventId: '',
      type: 'wire',
    });
    const seen = SSE_PREAMBLE_BYTES + wireMessage + terminal;
    const lab = setup((url) =>
      url.includes('/stream')
        ? { name: url, startTime: 0, transferSize: 1, encodedBodySize: seen + 2 * 3 }
        : { name: url, startTime: 0, transferSize: 400, encodedBodySize: 100 },
    );
    const run = createSseClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    const source = lab.lastSource();
    source.open();
    source.sendWire({ requestBytes: 1, responseHeadBytes: 2 });
    const before = lab.wire().bytesDown ?? 0;
    source.send(succeeded(2, 10_300), '2');
    await run.done;
    // Two heartbeats ":\n\n", each chunked: "3\r\n:\n\n\r\n" = 8 bytes.
    expect((lab.wire().bytesDown ?? 0) - before).toBe(chunkBytes(terminal) + LAST_CHUNK_BYTES + 2 * 8);
    expect(lab.wire().unmeasuredDown).toBe(0);
  });

  it('keeps the count, marked partial, when the stream ran a heartbeat period and no entry settles it', async () => {
    const lab = setup((url) =>
      url.includes('/stream')
        ? undefined
        : { name: url, startTime: 0, transferSize: 300, encodedBodySize: 100 },
    );
    const run = createSseClient(lab.deps).run(SPEC, lab.report);
    await vi.advanceTimersByTimeAsync(0);
    const source = lab.lastSource();
    source.open();
    source.sendWire({ requestBytes: 1, responseHeadBytes: 2 });
    await vi.advanceTimersByTimeAsync(16_000); // longer than one heartbeat period (15 s)
    source.send(succeeded(2, 10_300), '2');
    await run.done;
    expect(lab.wire().unmeasuredDown).toBe(1);
    expect(
      lab
        .of('note')
        .some((n) => n.text.startsWith('Event stream: bytes down counted from what the page saw')),
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
