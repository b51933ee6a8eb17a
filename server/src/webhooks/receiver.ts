import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ErrorEnvelope,
  isTerminalEvent,
  RECEIVER_PATHS,
  type RelayMessage,
  SSE,
  TASK_LIMITS,
  TaskId,
  WEBHOOK_HEADERS,
  WebhookPayload,
} from '@transport-lab/shared';
import type { Session } from 'better-sse';
import { Webhook } from 'standardwebhooks';
import type { OriginPolicy } from '../access/origins.ts';
import type { Config } from '../config.ts';
import { decodePathSegment, readBody } from '../http/body.ts';
import { openSseSession } from '../http/sseSession.ts';
import { sendStreamWire, streamWire } from '../http/streamWire.ts';
import { epochNow } from '../observability/clock.ts';
import type { Logger } from '../observability/logger.ts';

export { RECEIVER_PATHS };

/**
 * The receiver's own error codes and statuses. It plays a separate service ("your backend"), so
 * its 401 is its own: the main API has no authentication and so no 401 in ERROR_STATUS.
 */
export const RECEIVER_ERROR_STATUS = {
  WEBHOOK_SIGNATURE_INVALID: 401,
  MALFORMED_WEBHOOK: 400,
  PAYLOAD_TOO_LARGE: 413,
  NOT_FOUND: 404,
  VALIDATION_FAILED: 400,
  FORBIDDEN: 403,
} as const;
type ReceiverErrorCode = keyof typeof RECEIVER_ERROR_STATUS;

/** Accepted webhook-ids remembered for de-duplication, and tasks whose relay history is kept. */
const MAX_REMEMBERED_IDS = 100_000;
const MAX_RELAYED_TASKS = 1_000;

export interface ReceiverDeps {
  config: Pick<Config, 'BODY_LIMIT_BYTES' | 'WIRE_ACCOUNTING'>;
  logger: Logger;
  /** Which pages may read the relay (the lab's own, ALLOWED_ORIGINS): access/origins.ts. */
  origins: Pick<OriginPolicy, 'receiverAllows'>;
  /** The signing secret of a task's subscriber: in real life the backend is configured with it. */
  secretForTask: (taskId: string) => string | undefined | Promise<string | undefined>;
  /** Other routes "your backend" serves (the board's relay): answers and returns true, or returns false. */
  route?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
  /** Injected faults (server/src/faults): how to answer a task's delivery while a receiver fault
   *  holds for its run, and a hook on each relay stream as it opens (a buffering proxy). */
  faults?: {
    receiverAction(taskId: string): Promise<ReceiverFaultAction | undefined>;
    trackStream(req: IncomingMessage, res: ServerResponse): void;
  };
}

/** What a receiver fault makes of one delivery: a 500, no answer at all, or a 429/503 with Retry-After. */
export type ReceiverFaultAction =
  | { mode: 'fail-500' }
  | { mode: 'timeout' }
  | { mode: 'throttle-429' | 'unavailable-503'; retryAfterS?: number };

export interface Receiver {
  httpServer: HttpServer;
  /** Port and delivery URL once listening (`http://127.0.0.1:PORT/webhooks`), else undefined. */
  urls(): { port: number; webhookUrl: string } | undefined;
  close(): Promise<void>;
}

/** An http URL's host part for a listening address: 0.0.0.0 and :: are reached via loopback. */
function hostOf(address: AddressInfo): string {
  if (address.address === '0.0.0.0' || address.address === '::') return '127.0.0.1';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

function sendError(res: ServerResponse, code: ReceiverErrorCode, message: string): void {
  const body: ErrorEnvelope = { error: { code, message } };
  res.writeHead(RECEIVER_ERROR_STATUS[code], { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * CORS for the relay. A page that follows its relay with `new EventSource(url, {withCredentials:
 * true})` sends its cookies, the `lab-link` cookie of the network conditions among them, so that the
 * relay hop is shaped like the page's other connections (server/src/network/README.md); a credentialed request is refused by the browser unless the answer names its origin
 * and allows credentials (`*` is not enough). Only the lab's own page gets here with an Origin: any
 * other is refused before a route is reached (the request handler below). Without an Origin, `*`.
 */
function relayCors(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return { 'access-control-allow-origin': '*', 'timing-allow-origin': '*' };
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    'timing-allow-origin': origin,
    vary: 'Origin',
  };
}

/** A delivery body the receiver always accepts, whatever BODY_LIMIT_BYTES (the API's limit) says:
 *  the largest this server sends, a task's biggest result (64 KiB) in its Standard Webhooks envelope,
 *  with room to spare. Below it, a 64 KiB result could never be delivered (413 on every attempt). */
const MIN_WEBHOOK_BODY_LIMIT_BYTES = TASK_LIMITS.maxResultBytes + 16_384;

/** The task a body names, read before verification only to find whose secret to verify with. */
function claimedTaskId(raw: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    const taskId = (parsed as { data?: { taskId?: unknown } })?.data?.taskId;
    return typeof taskId === 'string' ? taskId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The built-in receiver: "your backend", on its own port. `POST /webhooks` verifies the Standard
 * Webhooks signature on the raw body with the `standardwebhooks` library (which also refuses a
 * timestamp more than 5 minutes old or ahead), answers 401 when that fails, answers 200 without
 * processing again for a webhook-id it already accepted, 400 for a payload that is not a task
 * event, and relays each accepted delivery to the page: `GET /relay/tasks/{id}` is an SSE stream
 * of RelayMessages (what was accepted so far, then live), cross-origin for the lab's own page
 * (served from the main port) and nobody else's. Its memory (ids, relay history) is in-process and
 * bounded.
 */
export function createReceiver({
  config,
  logger,
  origins,
  secretForTask,
  route,
  faults,
}: ReceiverDeps): Receiver {
  const log = logger.child({ component: 'receiver' });
  /** webhook-id → how many verified arrivals it had, and whether it was accepted. */
  const seen = new Map<string, { arrivals: number; accepted: boolean }>();
  /** task id → relayed messages in order (an SSE event's id is its task seq). */
  const history = new Map<string, RelayMessage[]>();
  const sessions = new Map<string, Set<Session>>();

  const remember = <K, V>(map: Map<K, V>, key: K, value: V, max: number) => {
    map.set(key, value);
    // Maps iterate in insertion order: the first key is the oldest.
    if (map.size > max) map.delete(map.keys().next().value as K);
  };

  /** Each open relay stream's answer, to end it after the task's terminal event. */
  const answers = new WeakMap<Session, ServerResponse>();
  const endsTheTask = (message: Omit<RelayMessage, 'relayedAt'>) => isTerminalEvent(message.payload.data);

  function relay(taskId: string, message: Omit<RelayMessage, 'relayedAt'>): void {
    const list = history.get(taskId) ?? [];
    const stamped = { ...message, relayedAt: epochNow() };
    list.push(stamped);
    if (list.length === 1) remember(history, taskId, list, MAX_RELAYED_TASKS);
    for (const session of sessions.get(taskId) ?? []) {
      if (!session.isConnected) continue;
      session.push({ ...stamped, relayedAt: epochNow() }, 'message', String(message.payload.data.seq));
      // Like the task stream, the relay ends with the task: the page's EventSource then stops.
      if (endsTheTask(message)) answers.get(session)?.end();
    }
  }

  async function receiveWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = epochNow();
    const limitBytes = Math.max(config.BODY_LIMIT_BYTES, MIN_WEBHOOK_BODY_LIMIT_BYTES);
    // A connection that fails mid-body has nobody left to answer.
    const raw = await readBody(req, limitBytes).catch(() => null);
    if (raw === null) return;
    if (raw === undefined) {
      // Answered at once; the rest is read and dropped so that the 413 arrives (http/body.ts).
      sendError(res, 'PAYLOAD_TOO_LARGE', `Body larger than ${limitBytes} bytes.`);
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of Object.values(WEBHOOK_HEADERS)) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const taskId = claimedTaskId(raw);
    // Verified first: a delivery nobody signed is refused before any fault applies, so that it cannot
    // spend a run's receiver fault (a `count` of deliveries to answer 500) meant for real deliveries.
    const secret = taskId === undefined ? undefined : await secretForTask(taskId);
    if (taskId === undefined || secret === undefined) {
      sendError(
        res,
        'WEBHOOK_SIGNATURE_INVALID',
        'Cannot verify: the body names no task this backend has a secret for.',
      );
      return;
    }
    let verified: unknown;
    try {
      verified = new Webhook(secret).verify(raw, headers);
    } catch (error) {
      log.warn(
        { taskId, webhookId: headers[WEBHOOK_HEADERS.id], reason: (error as Error).message },
        'webhook refused',
      );
      sendError(
        res,
        'WEBHOOK_SIGNATURE_INVALID',
        `Signature verification failed: ${(error as Error).message}.`,
      );
      return;
    }
    // An injected fault plays a backend that is down or overloaded: it answers a genuine delivery
    // before processing it (and before counting it as an arrival of its webhook-id).
    const action = await faults?.receiverAction(taskId);
    if (action) {
      log.info(
        { taskId, webhookId: headers[WEBHOOK_HEADERS.id], mode: action.mode },
        'fault: delivery refused',
      );
      if (action.mode === 'timeout') return; // held, unanswered, until the sender gives up and cuts it
      const status = { 'fail-500': 500, 'throttle-429': 429, 'unavailable-503': 503 }[action.mode];
      const retryAfter = 'retryAfterS' in action && action.retryAfterS !== undefined;
      res.writeHead(status, {
        'content-type': 'application/json',
        ...(retryAfter ? { 'retry-after': String(action.retryAfterS) } : {}),
      });
      res.end(
        JSON.stringify({
          error: {
            code: status === 500 ? 'INTERNAL' : status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE',
            message: `Injected fault: ${action.mode}.`,
          },
        } satisfies ErrorEnvelope),
      );
      return;
    }
    // verify() passed, so the id header is present.
    const webhookId = headers[WEBHOOK_HEADERS.id] as string;
    const record = seen.get(webhookId) ?? { arrivals: 0, accepted: false };
    record.arrivals += 1;
    remember(seen, webhookId, record, MAX_REMEMBERED_IDS);
    if (record.accepted) {
      // A redelivery (our 200 was lost, or the sender retried): acknowledged, not processed again.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, duplicate: true }));
      return;
    }
    const payload = WebhookPayload.safeParse(verified);
    if (!payload.success) {
      sendError(
        res,
        'MALFORMED_WEBHOOK',
        `Not a task event payload: ${payload.error.issues[0]?.message ?? ''}`,
      );
      return;
    }
    record.accepted = true;
    relay(payload.data.data.taskId, {
      webhookId,
      receivedAt,
      attempt: record.arrivals,
      payload: payload.data,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true }));
  }

  async function openRelay(req: IncomingMessage, res: ServerResponse, rawId: string): Promise<void> {
    const parsed = TaskId.safeParse(decodePathSegment(rawId));
    if (!parsed.success) {
      for (const [name, value] of Object.entries(relayCors(req))) res.setHeader(name, value);
      sendError(res, 'VALIDATION_FAILED', 'Invalid task id.');
      return;
    }
    const taskId = parsed.data;
    const lastId = Number.parseInt(String(req.headers['last-event-id'] ?? ''), 10);
    const after = Number.isFinite(lastId) && lastId > 0 ? lastId : 0;
    const list = history.get(taskId) ?? [];
    const last = list.at(-1);
    if (last && endsTheTask(last) && after >= last.payload.data.seq) {
      // Everything up to the end was relayed: 204 tells EventSource not to reconnect (WHATWG HTML §9.2).
      res.writeHead(204, relayCors(req));
      res.end();
      return;
    }
    faults?.trackStream(req, res);
    const session = await openSseSession(req, res, {
      // Timing-Allow-Origin lets the page's Resource Timing see this cross-origin stream's sizes.
      headers: { ...relayCors(req), 'x-accel-buffering': 'no' },
      retry: SSE.retryMs,
      keepAlive: SSE.heartbeatMs,
    });
    // Part of the server's own measurement: left out with the rest of it (WIRE_ACCOUNTING=off).
    if (config.WIRE_ACCOUNTING === 'on') {
      sendStreamWire(session, streamWire(req, res, { socketCountIsTheRequest: true }));
    }
    // Replay after the page's Last-Event-ID, then live. The id is the event's task seq (deliveries
    // come in seq order per task), not a place in this process's history: after a restart the history
    // is gone, and only the seq still says what the page has.
    answers.set(session, res);
    // The history as it is now, not as it was before the await above: a delivery relayed meanwhile
    // went to no session (this one was not registered yet), and is in the history only.
    for (const message of history.get(taskId) ?? []) {
      if (message.payload.data.seq <= after) continue;
      session.push({ ...message, relayedAt: epochNow() }, 'message', String(message.payload.data.seq));
      if (endsTheTask(message)) {
        res.end();
        return;
      }
    }
    let set = sessions.get(taskId);
    if (!set) {
      set = new Set();
      sessions.set(taskId, set);
    }
    set.add(session);
    session.once('disconnected', () => {
      set.delete(session);
      if (set.size === 0 && sessions.get(taskId) === set) sessions.delete(taskId);
    });
  }

  const httpServer = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const handle = async () => {
      // A browser page that is not the lab's (another site, a sandboxed frame's `null`) reaches no
      // route: it would read the relay with the page's cookies otherwise (relayCors). Deliveries come
      // from servers, which send no Origin.
      const origin = req.headers.origin;
      if (origin !== undefined && !origins.receiverAllows(origin, req.headers.host)) {
        sendError(
          res,
          'FORBIDDEN',
          'This Origin is not the lab’s own page: the receiver answers the page the lab serves and the origins listed in ALLOWED_ORIGINS.',
        );
        return;
      }
      if (route?.(req, res, path)) return;
      if (req.method === 'POST' && path === RECEIVER_PATHS.webhooks) return receiveWebhook(req, res);
      const relayMatch = /^\/relay\/tasks\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && relayMatch?.[1]) return openRelay(req, res, relayMatch[1]);
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          ...relayCors(req),
          'access-control-allow-methods': 'GET',
          'access-control-allow-headers': 'last-event-id',
        });
        res.end();
        return;
      }
      sendError(res, 'NOT_FOUND', `No route for ${req.method} ${path} on the receiver.`);
    };
    handle().catch((error) => {
      log.error({ err: error }, 'receiver request failed');
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: { code: 'INTERNAL', message: 'The receiver failed; it has been logged.' },
          }),
        );
      } else res.end();
    });
  });

  return {
    httpServer,
    urls() {
      const address = httpServer.address();
      if (!address || typeof address === 'string') return undefined;
      return {
        port: address.port,
        webhookUrl: `http://${hostOf(address)}:${address.port}${RECEIVER_PATHS.webhooks}`,
      };
    },
    async close() {
      if (!httpServer.listening) return;
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        // Relay streams never end by themselves; cut them and any idle keep-alive connection.
        httpServer.closeAllConnections();
      });
    },
  };
}
