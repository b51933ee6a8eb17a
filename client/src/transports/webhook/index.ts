import {
  API_PATHS,
  DeliveriesResponse,
  isTerminalEvent,
  type PublicSettings,
  RECEIVER_PATHS,
  RelayMessage,
  type TaskEvent,
  type TaskState,
} from '@transport-lab/shared';
import { OBSERVATION } from '../../lib/observation.ts';
import {
  type AsyncDeps,
  browserAsyncDeps,
  type Follower,
  isTerminalState,
  runAsyncLane,
  sleep,
} from '../async-task.ts';
import { openMeteredStream } from '../event-stream.ts';
import { parseJson, withTag } from '../http.ts';
import { createSeqOrderer } from '../seq-orderer.ts';
import type { ClientLane, RelayHop, Report, TransportClient } from '../types.ts';
import { SSE_PREAMBLE_BYTES } from '../wire.ts';

/**
 * The built-in receiver's relay stream for one task, on the receiver's own port of the host the page
 * came from.
 */
export function relayUrl(page: { protocol: string; hostname: string }, port: number, taskId: string): string {
  const host =
    page.hostname.includes(':') && !page.hostname.startsWith('[') ? `[${page.hostname}]` : page.hostname;
  return `${page.protocol}//${host}:${port}${RECEIVER_PATHS.relay(taskId)}`;
}

/** After the terminal event, the log is fetched again while a delivery is still pending, this often. */
const FINAL_REFRESHES = 20;
const FINAL_REFRESH_MS = 1_000;
/** While no relay comes, the log is still refreshed this often, so that failing attempts show. */
const IDLE_REFRESH_MS = 2_000;

/**
 * Follows a task through the built-in receiver: the server POSTs each event to it, and it relays what
 * it accepted (once per webhook-id) over an SSE stream, replaying what it had accepted before the page
 * connected. Each applied event reports its hop times. The delivery log (`GET …/deliveries`) is fetched
 * when a relay arrives, while none comes, and at the end: those fetches are the lab's own observation,
 * not the lane's cost, so they are not metered.
 */
export function followWebhook(
  deps: AsyncDeps,
  task: TaskState,
  settings: PublicSettings,
  report: Report,
): Follower {
  const orderer = createSeqOrderer(0); // the relay replays from the first delivery: every hop is shown
  const hops = new Map<number, RelayHop>();
  const stopped = new AbortController();
  let finished = false;
  let settle: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    settle = resolve;
  });

  let logInFlight: Promise<DeliveriesResponse | undefined> | undefined;
  let logAgain = false;
  let lastLogAt = Number.NEGATIVE_INFINITY;
  const fetchLog = async (): Promise<DeliveriesResponse | undefined> => {
    lastLogAt = deps.now();
    try {
      const response = await deps.fetch(
        new URL(API_PATHS.deliveries(task.id), location.href).href,
        OBSERVATION,
      );
      const parsed = DeliveriesResponse.safeParse(await response.json());
      if (!parsed.success) return undefined;
      report({ type: 'deliveries', log: parsed.data, at: deps.now() });
      return parsed.data;
    } catch {
      // A log fetch that fails while the server restarts is retried; only a final failure is said.
      return undefined;
    }
  };
  /** One fetch at a time; a request made meanwhile is served by one more fetch after it. */
  const refreshLog = (): Promise<DeliveriesResponse | undefined> => {
    if (logInFlight) {
      logAgain = true;
      return logInFlight;
    }
    logInFlight = (async () => {
      let log = await fetchLog();
      while (logAgain) {
        logAgain = false;
        log = await fetchLog();
      }
      logInFlight = undefined;
      return log;
    })();
    return logInFlight;
  };

  const finish = (serverFinished = false) => {
    if (finished) return;
    finished = true;
    stream.close(serverFinished);
    settle();
  };
  const offer = (event: TaskEvent, hop: RelayHop, at: number) => {
    if (finished || event.taskId !== task.id) return;
    if (!hops.has(event.seq)) hops.set(event.seq, hop);
    for (const next of orderer.push(event)) {
      report({ type: 'event', event: next, at });
      const applied = hops.get(next.seq);
      if (applied) report({ type: 'relay', hop: applied, at });
      if (isTerminalEvent(next)) {
        // Your backend ends the relay after the task's terminal event.
        finish(true);
        return;
      }
    }
  };

  report({ type: 'link', detail: 'Waiting for your backend to relay deliveries…', at: deps.now() });
  const stream = openMeteredStream(
    deps,
    relayUrl(location, settings.receiver.port, task.id),
    report,
    {
      message(message, at) {
        const parsed = RelayMessage.safeParse(parseJson(message.data));
        if (!parsed.success) {
          report({ type: 'note', text: 'A malformed relay message was dropped.', at });
          return;
        }
        const { payload, receivedAt, relayedAt, attempt } = parsed.data;
        const event = payload.data;
        offer(event, { seq: event.seq, eventAt: event.at, receivedAt, relayedAt, attempt }, at);
        if (!finished) void refreshLog();
      },
      ended(reason) {
        if (finished) return;
        report({
          type: 'error',
          error: {
            code: 'RELAY_CLOSED',
            message:
              reason === 'refused'
                ? 'Your backend refused the relay stream.'
                : 'Your backend’s relay stream could not be reached.',
            fromServer: reason === 'refused',
          },
          at: deps.now(),
        });
        finish();
      },
    },
    { preambleBytes: SSE_PREAMBLE_BYTES, what: 'Relay stream' },
  );

  const idle = setInterval(() => {
    if (!finished && deps.now() - lastLogAt >= IDLE_REFRESH_MS) void refreshLog();
  }, IDLE_REFRESH_MS);

  const done = (async () => {
    await ended;
    clearInterval(idle);
    // The last delivery's attempt is logged once your backend has answered it, just after it relayed.
    let log: DeliveriesResponse | undefined;
    for (let i = 0; i < FINAL_REFRESHES && !stopped.signal.aborted; i++) {
      log = await refreshLog();
      if (log && !log.deliveries.some((d) => d.state === 'pending')) break;
      await sleep(i === 0 ? FINAL_REFRESH_MS / 4 : FINAL_REFRESH_MS, stopped.signal);
    }
    if (!log && !stopped.signal.aborted) {
      report({ type: 'note', text: 'The delivery log could not be fetched at the end.', at: deps.now() });
    }
    await stream.measured;
  })();

  return {
    done,
    stop() {
      finish();
      stopped.abort();
    },
  };
}

/**
 * The webhook lane: `POST /api/tasks` with `webhook.url` naming the built-in receiver ("your backend"),
 * which relays what it accepts to the page. The server's deliveries to the receiver are server-to-server
 * traffic, not carried by the page; the page's own cost is the create and the relay stream.
 */
export function createWebhookClient(deps: AsyncDeps = browserAsyncDeps): TransportClient {
  return {
    id: 'webhook',
    run(spec, report, options) {
      let settings = options?.server;
      // Tagged: the create and the relay stream. The delivery log is fetched unmetered and untagged.
      const tagged = withTag(deps, options);
      report({
        type: 'note',
        text: 'Not counted: the deliveries (server → your backend, not through this page) and the delivery log the lab fetches.',
        at: deps.now(),
      });
      report({
        type: 'note',
        text: 'Relay stream: another origin without Timing-Allow-Origin, so Resource Timing cannot size it; bytes up not measured.',
        at: deps.now(),
      });
      return runAsyncLane(tagged, spec, report, {
        prepare() {
          if (settings) return { webhook: { url: settings.receiver.webhookUrl } };
          return deps.loadSettings().then((loaded) => {
            settings = loaded;
            return { webhook: { url: loaded.receiver.webhookUrl } };
          });
        },
        follow(created) {
          if (isTerminalState(created.task) || !settings) return undefined;
          return followWebhook(tagged, created.task, settings, report);
        },
      });
    },
  };
}

export default { id: 'webhook', create: () => createWebhookClient() } satisfies ClientLane;
