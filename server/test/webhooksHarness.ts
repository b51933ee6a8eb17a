import { rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  API_PATHS,
  DeliveriesResponse,
  isTerminalEvent,
  RelayMessage,
  SSE,
  WEBHOOK_HEADERS,
  WebhookPayload,
} from '@transport-lab/shared';
import type Database from 'better-sqlite3';
import { createParser } from 'eventsource-parser';
import { createLogger, type Logger } from '../src/observability/logger.ts';
import { openSqliteDatabase, sqliteTaskStore } from '../src/store/sqlite.ts';
import { TaskEngine } from '../src/tasks/engine.ts';
import { tempDataDir } from './harness.ts';

/** One request a test receiver got. `at` and `answeredAt` are performance.now(), this process. */
export interface Arrival {
  at: number;
  answeredAt?: number;
  /** When its connection's answer closed: answered, or cut by the sender (an attempt's timeout). */
  endedAt?: number;
  headers: IncomingHttpHeaders;
  body: string;
  webhookId: string;
  seq: number;
  status?: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
}

/** What a test receiver answers the nth request (0-based): a status and headers, the same once a
 *  promise settles (held until then), or nothing. */
export type Respond = (index: number, arrival: Arrival) => Answer | Promise<Answer> | 'hang';

export interface TestReceiver {
  url: string;
  port: number;
  arrivals: Arrival[];
  /** Deliveries it accepted (2xx) and processed, once per webhook-id: what "your backend" did. */
  processed: WebhookPayload[];
  /** Resolves once `predicate` holds, checked at each arrival and each answer; rejects after `timeoutMs`. */
  until(predicate: (receiver: TestReceiver) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A real HTTP receiver on 127.0.0.1, port 0, that answers as `respond` says and records all. */
export async function startTestReceiver(respond: Respond = () => ({ status: 200 })): Promise<TestReceiver> {
  const watchers = new Set<() => void>();
  const hanging = new Set<ServerResponse>();
  const processedIds = new Set<string>();
  const receiver: TestReceiver = {
    url: '',
    port: 0,
    arrivals: [],
    processed: [],
    until(predicate, what, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(
            new Error(`receiver: timed out waiting until ${what}; ${receiver.arrivals.length} arrivals`),
          );
        }, timeoutMs);
        const check = () => {
          if (!predicate(receiver)) return;
          clearTimeout(timer);
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
      });
    },
    async close() {
      for (const res of hanging) res.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const payload = WebhookPayload.safeParse(safeJson(body));
      const arrival: Arrival = {
        at: performance.now(),
        headers: req.headers,
        body,
        webhookId: String(req.headers[WEBHOOK_HEADERS.id]),
        seq: payload.success ? payload.data.data.seq : -1,
      };
      const index = receiver.arrivals.push(arrival) - 1;
      res.on('close', () => {
        arrival.endedAt = performance.now();
      });
      for (const watcher of [...watchers]) watcher();
      const reply = (answer: Answer) => {
        arrival.status = answer.status;
        if (
          answer.status >= 200 &&
          answer.status < 300 &&
          payload.success &&
          !processedIds.has(arrival.webhookId)
        ) {
          processedIds.add(arrival.webhookId);
          receiver.processed.push(payload.data);
        }
        res.writeHead(answer.status, answer.headers ?? {});
        res.end();
        arrival.answeredAt = performance.now();
        for (const watcher of [...watchers]) watcher();
      };
      const answer = respond(index, arrival);
      if (answer === 'hang') {
        hanging.add(res);
      } else if (answer instanceof Promise) {
        // Held until the test lets it go; the dispatcher's attempt stays in flight meanwhile.
        hanging.add(res);
        void answer.then((held) => {
          hanging.delete(res);
          if (!res.destroyed) reply(held);
        });
      } else reply(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hook`;
  return receiver;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The receiver has processed its task's terminal event. */
export const processedTerminal = (receiver: TestReceiver) =>
  receiver.processed.some((payload) => isTerminalEvent(payload.data));

export async function getDeliveries(baseUrl: string, taskId: string): Promise<DeliveriesResponse> {
  const res = await fetch(`${baseUrl}${API_PATHS.deliveries(taskId)}`);
  if (res.status !== 200) throw new Error(`deliveries answered ${res.status}: ${await res.text()}`);
  return DeliveriesResponse.parse(await res.json());
}

/**
 * Polls the delivery log until `predicate` holds: a bounded poll on an observable condition (the
 * log is the thing under test; there is no event to wait on from outside the server).
 */
export async function deliveriesUntil(
  baseUrl: string,
  taskId: string,
  predicate: (log: DeliveriesResponse) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<DeliveriesResponse> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const log = await getDeliveries(baseUrl, taskId);
    if (predicate(log)) return log;
    if (performance.now() > deadline)
      throw new Error(`deliveries: timed out waiting until ${what}: ${JSON.stringify(log)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every delivery of the log has ended one way or another. */
export const nonePending = (log: DeliveriesResponse) => log.deliveries.every((d) => d.state !== 'pending');

/**
 * Reads the built-in receiver's relay stream (`GET /relay/tasks/{id}`) until `stop` holds for the
 * messages so far, then closes it. Returns the messages and the answer's headers.
 */
export async function readRelay(
  receiverOrigin: string,
  taskId: string,
  stop: (messages: RelayMessage[]) => boolean,
  timeoutMs = 15_000,
): Promise<{ messages: RelayMessage[]; ids: string[]; headers: Headers; status: number }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error('relay: timed out')), timeoutMs);
  const res = await fetch(`${receiverOrigin}/relay/tasks/${encodeURIComponent(taskId)}`, {
    signal: abort.signal,
  });
  const messages: RelayMessage[] = [];
  const ids: string[] = [];
  const out = { messages, ids, headers: res.headers, status: res.status };
  if (res.status !== 200 || !res.body) return out;
  let done = false;
  const parser = createParser({
    onEvent(event) {
      if (event.event === SSE.wireEvent) return; // the stream's own wire report, not a relay
      messages.push(RelayMessage.parse(JSON.parse(event.data)));
      if (event.id !== undefined) ids.push(event.id);
      if (stop(messages)) done = true;
    },
  });
  const decoder = new TextDecoder();
  try {
    // Leaving the loop cancels the body; aborting the fetch instead can hang undici when the server
    // has just ended the answer itself (as the relay does after the terminal event).
    for await (const chunk of res.body) {
      parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      if (done) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/**
 * A task engine on its own SQLite file and no server, for a test that builds the dispatcher itself
 * (createWebhooks with its injectable options). `cleanups` gets what undoes it, in order to run
 * reversed.
 */
export function engineAlone(cleanups: Array<() => Promise<void> | void>): {
  db: Database.Database;
  engine: TaskEngine;
  logger: Logger;
} {
  const dataDir = tempDataDir();
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const db = openSqliteDatabase(dataDir);
  cleanups.push(() => void db.close());
  const logger = createLogger('silent');
  const engine = new TaskEngine({ store: sqliteTaskStore(db), logger });
  cleanups.push(() => engine.stop());
  return { db, engine, logger };
}
