import { API_PATHS, EventsResponse, isTerminalEvent, TaskEvent, type TaskState } from '@transport-lab/shared';
import {
  type AsyncDeps,
  browserAsyncDeps,
  type Follower,
  isTerminalState,
  runAsyncLane,
} from '../async-task.ts';
import { openMeteredStream } from '../event-stream.ts';
import { messageOf, meteredFetch, parseJson, withTag } from '../http.ts';
import { createSeqOrderer } from '../seq-orderer.ts';
import type { ClientLane, Report, TransportClient } from '../types.ts';
import { SSE_PREAMBLE_BYTES } from '../wire.ts';

/**
 * Follows a task on `GET /api/tasks/{id}/stream` from the seq the page already has (`?after=`). The
 * browser's EventSource reconnects by itself and resumes with `Last-Event-ID`; the seq orderer drops
 * what a resumed stream sends twice. The page closes the stream on the terminal event. If the browser
 * gives up on the stream before the end (an error status), the events since the last one applied are
 * fetched once (`GET …/events?after=SEQ&waitMs=0`), so none is lost.
 */
export function followSse(deps: AsyncDeps, task: TaskState, report: Report): Follower {
  const orderer = createSeqOrderer(task.lastSeq);
  let finished = false;
  let settle: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const finish = (serverFinished = false) => {
    if (finished) return;
    finished = true;
    stream.close(serverFinished);
    settle();
  };
  const offer = (event: TaskEvent, at: number) => {
    if (finished || event.taskId !== task.id) return;
    for (const next of orderer.push(event)) {
      report({ type: 'event', event: next, at });
      if (isTerminalEvent(next)) {
        // The server ends its answer right after the terminal event.
        finish(true);
        return;
      }
    }
  };
  const catchUp = async () => {
    try {
      const answer = await meteredFetch(
        deps,
        `${API_PATHS.events(task.id)}?after=${orderer.lastSeq}&waitMs=0`,
        { method: 'GET', cache: 'no-store' },
        report,
      );
      const parsed = EventsResponse.safeParse(parseJson(answer.body));
      if (answer.response.ok && parsed.success) {
        for (const event of parsed.data.events) offer(event, answer.receivedAt);
      }
      await answer.measured;
    } catch (error) {
      report({ type: 'note', text: `Catch-up fetch failed: ${messageOf(error)}`, at: deps.now() });
    }
    if (!finished) {
      report({
        type: 'error',
        error: {
          code: 'STREAM_CLOSED',
          message:
            'The event stream closed before the task ended, and the events fetched since did not end it.',
          fromServer: false,
        },
        at: deps.now(),
      });
      finish();
    }
  };

  report({ type: 'link', detail: 'Streaming events…', at: deps.now() });
  const stream = openMeteredStream(
    deps,
    `${API_PATHS.stream(task.id)}?after=${orderer.lastSeq}`,
    report,
    {
      message(message, at) {
        const parsed = TaskEvent.safeParse(parseJson(message.data));
        if (parsed.success) offer(parsed.data, at);
        else report({ type: 'note', text: 'A malformed stream message was dropped.', at });
      },
      ended(reason) {
        if (finished) return;
        report({
          type: 'link',
          detail:
            reason === 'refused'
              ? 'Stream refused by the server; fetching what was missed…'
              : 'Stream unreachable; fetching what was missed…',
          at: deps.now(),
        });
        void catchUp();
      },
    },
    { preambleBytes: SSE_PREAMBLE_BYTES, what: 'Event stream' },
  );
  return {
    stop: finish,
    done: (async () => {
      await ended;
      await stream.measured;
    })(),
  };
}

/** The Server-Sent Events lane: `POST /api/tasks` → 202, then one EventSource until the terminal event. */
export function createSseClient(deps: AsyncDeps = browserAsyncDeps): TransportClient {
  return {
    id: 'sse',
    run(spec, report, options) {
      const tagged = withTag(deps, options);
      report({
        type: 'note',
        text: 'An EventSource shows no answer headers: the stream request’s bytes up are not measured.',
        at: deps.now(),
      });
      return runAsyncLane(tagged, spec, report, {
        follow: (created) =>
          isTerminalState(created.task) ? undefined : followSse(tagged, created.task, report),
      });
    },
    follow: (followDeps, task, report) => followSse(followDeps, task, report),
  };
}

export default { id: 'sse', create: () => createSseClient() } satisfies ClientLane;
