import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BOARD_LIMITS,
  BOARD_PATHS,
  BOARD_SSE,
  type BoardChange,
  BoardWebhookPayload,
  type ErrorEnvelope,
  RoomCode,
  SSE,
  WEBHOOK_HEADERS,
} from '@transport-lab/shared';
import type { Session } from 'better-sse';
import { Webhook } from 'standardwebhooks';
import { decodePathSegment, readBody } from '../http/body.ts';
import { openSseSession } from '../http/sseSession.ts';
import { epochNow } from '../observability/clock.ts';
import type { Logger } from '../observability/logger.ts';
import { generateSecret } from '../webhooks/dispatcher.ts';
import { retryDelayMs } from '../webhooks/retry.ts';
import { sendOnce } from '../webhooks/send.ts';
import type { BoardService } from './service.ts';

/** Accepted webhook-ids the receiver side remembers for de-duplication. */
const MAX_REMEMBERED_IDS = 100_000;

export interface BoardRelayDeps {
  boards: BoardService;
  logger: Logger;
  /** Where the built-in receiver listens now; undefined until it does. */
  receiverOrigin: () => string | undefined;
  /** WEBHOOK_SCHEDULE_SCALE and WEBHOOK_ATTEMPT_TIMEOUT_MS, as the task webhooks use them. */
  scheduleScale: number;
  attemptTimeoutMs: number;
  bodyLimitBytes: number;
}

export interface BoardRelay {
  /** The receiver's part: answers the board's paths on the receiver, or returns false. */
  route(req: IncomingMessage, res: ServerResponse, path: string): boolean;
  close(): void;
}

interface Outbox {
  secret: string;
  queue: { id: string; body: string; attempt: number }[];
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body: ErrorEnvelope = { error: { code, message } };
  res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
  res.end(JSON.stringify(body));
}

/**
 * The board's webhook lane. The task webhooks' dispatcher is bound to tasks (a durable SQLite queue
 * keyed by task and seq, fed by the task engine), and a board lives in memory and ends with its
 * room, so the board has its own small in-memory outbox, built from the same parts: each change is
 * one Standard Webhooks delivery (`standardwebhooks` signs it, `webhooks/send.ts` sends it on a fresh
 * connection, `webhooks/retry.ts` schedules retries), in version order per board, one at a time, to
 * the built-in receiver only (so the SSRF guard has nothing to judge). The receiver's side verifies
 * the signature with the board's secret, de-duplicates by `webhook-id`, and relays each change to
 * the pages as SSE (`/relay/boards/{code}`, `id:` = version, Last-Event-ID resumes). A delivery that
 * is given up leaves a gap the page fills from `GET …/changes` (it never applies out of order).
 */
export function createBoardRelay(deps: BoardRelayDeps): BoardRelay {
  const { boards, logger } = deps;
  const log = logger.child({ component: 'board-relay' });
  const outboxes = new Map<string, Outbox>();
  const shutdown = new AbortController();

  const outboxOf = (code: string): Outbox => {
    let outbox = outboxes.get(code);
    if (!outbox) {
      outbox = { secret: generateSecret(), queue: [], busy: false, timer: undefined };
      outboxes.set(code, outbox);
    }
    return outbox;
  };

  async function pump(code: string, outbox: Outbox): Promise<void> {
    if (outbox.busy || shutdown.signal.aborted) return;
    const delivery = outbox.queue[0];
    const origin = deps.receiverOrigin();
    if (!delivery || !origin) return;
    outbox.busy = true;
    delivery.attempt += 1;
    const timestamp = new Date();
    const result = await sendOnce(new URL(BOARD_PATHS.receiverWebhooks, origin), {
      headers: {
        'content-type': 'application/json',
        [WEBHOOK_HEADERS.id]: delivery.id,
        [WEBHOOK_HEADERS.timestamp]: String(Math.floor(timestamp.getTime() / 1000)),
        [WEBHOOK_HEADERS.signature]: new Webhook(outbox.secret).sign(delivery.id, timestamp, delivery.body),
      },
      body: delivery.body,
      timeoutMs: deps.attemptTimeoutMs,
      signal: shutdown.signal,
    });
    outbox.busy = false;
    if (shutdown.signal.aborted) return;
    const delivered = result.httpStatus !== undefined && result.httpStatus >= 200 && result.httpStatus < 300;
    if (delivered) {
      outbox.queue.shift();
      void pump(code, outbox);
      return;
    }
    const delay = retryDelayMs(delivery.attempt, deps.scheduleScale);
    if (delay === undefined) {
      log.warn({ code, webhookId: delivery.id, ...result }, 'board delivery given up; pages fill the gap');
      outbox.queue.shift();
      void pump(code, outbox);
      return;
    }
    outbox.timer = setTimeout(() => void pump(code, outbox), delay);
  }

  const offChange = boards.onChange((code, change) => {
    const outbox = outboxOf(code);
    const payload: BoardWebhookPayload = {
      type: 'board.change',
      timestamp: new Date(change.at).toISOString(),
      data: { code, change },
    };
    outbox.queue.push({ id: `msg_${randomUUID()}`, body: JSON.stringify(payload), attempt: 0 });
    void pump(code, outbox);
  });

  // ——— the receiver's side ("your backend") ———
  const seen = new Set<string>();
  const history = new Map<string, BoardChange[]>();
  const sessions = new Map<string, Set<{ session: Session; res: ServerResponse }>>();

  function relay(code: string, change: BoardChange): void {
    const list = history.get(code) ?? [];
    // In order, once: a change at or below the newest relayed one is already relayed.
    if ((list.at(-1)?.version ?? 0) >= change.version) return;
    list.push(change);
    if (list.length > BOARD_LIMITS.retainedChanges) list.shift();
    history.set(code, list);
    for (const { session } of sessions.get(code) ?? []) {
      if (session.isConnected) session.push(change, BOARD_SSE.change, String(change.version));
    }
  }

  async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A connection that fails mid-body has nobody left to answer.
    const raw = await readBody(req, deps.bodyLimitBytes).catch(() => null);
    if (raw === null) return;
    if (raw === undefined) {
      // Answered at once; the rest is read and dropped so that the 413 arrives (http/body.ts).
      sendError(res, 413, 'PAYLOAD_TOO_LARGE', `Body larger than ${deps.bodyLimitBytes} bytes.`);
      return;
    }
    let claimed: string | undefined;
    try {
      const parsed = RoomCode.safeParse(
        (JSON.parse(raw.toString('utf8')) as { data?: { code?: unknown } })?.data?.code,
      );
      claimed = parsed.success ? parsed.data : undefined;
    } catch {
      claimed = undefined;
    }
    const secret = claimed === undefined ? undefined : outboxes.get(claimed)?.secret;
    if (!claimed || !secret) {
      sendError(
        res,
        401,
        'WEBHOOK_SIGNATURE_INVALID',
        'Cannot verify: the body names no board with a secret.',
      );
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of Object.values(WEBHOOK_HEADERS)) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    let verified: unknown;
    try {
      verified = new Webhook(secret).verify(raw, headers);
    } catch (error) {
      sendError(
        res,
        401,
        'WEBHOOK_SIGNATURE_INVALID',
        `Signature verification failed: ${(error as Error).message}.`,
      );
      return;
    }
    const webhookId = headers[WEBHOOK_HEADERS.id] as string;
    if (!seen.has(webhookId)) {
      const payload = BoardWebhookPayload.safeParse(verified);
      if (!payload.success) {
        sendError(res, 400, 'MALFORMED_WEBHOOK', 'Not a board change payload.');
        return;
      }
      seen.add(webhookId);
      if (seen.size > MAX_REMEMBERED_IDS) seen.delete(seen.values().next().value as string);
      relay(payload.data.data.code, payload.data.data.change);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, receivedAt: epochNow() }));
  }

  async function openRelay(req: IncomingMessage, res: ServerResponse, rawCode: string): Promise<void> {
    const parsed = RoomCode.safeParse(decodePathSegment(rawCode));
    if (!parsed.success) {
      sendError(res, 400, 'VALIDATION_FAILED', 'Invalid room code.');
      return;
    }
    const code = parsed.data;
    const header = req.headers['last-event-id'];
    const query = new URL(req.url ?? '/', 'http://receiver').searchParams.get('after');
    const raw = typeof header === 'string' ? header : (query ?? '0');
    if (!/^\d{1,9}$/.test(raw)) {
      sendError(res, 400, 'VALIDATION_FAILED', 'Last-Event-ID or after must be a version.');
      return;
    }
    const after = Number(raw);
    // Your backend shares this process, so it asks the board itself whether the room is still there
    // (a separate backend would learn it from a delivery). Without it, EventSource would reconnect
    // to a room that ended and wait there for ever; a 404 makes it stop, and the page asks the API.
    if (!(await boards.exists(code))) {
      sendError(res, 404, 'NOT_FOUND', `No room ${code}.`);
      return;
    }
    const session = await openSseSession(req, res, {
      headers: { 'access-control-allow-origin': '*', 'timing-allow-origin': '*', 'x-accel-buffering': 'no' },
      retry: SSE.retryMs,
      keepAlive: SSE.heartbeatMs,
    });
    for (const change of history.get(code) ?? []) {
      if (change.version > after) session.push(change, BOARD_SSE.change, String(change.version));
    }
    let set = sessions.get(code);
    if (!set) {
      set = new Set();
      sessions.set(code, set);
    }
    const member = { session, res };
    set.add(member);
    session.once('disconnected', () => {
      set.delete(member);
      if (set.size === 0 && sessions.get(code) === set) sessions.delete(code);
    });
  }

  // A board that ends: its outbox and relay history go, and its relay streams end.
  const offEnded = boards.onEnded((code) => {
    const outbox = outboxes.get(code);
    clearTimeout(outbox?.timer);
    outboxes.delete(code);
    history.delete(code);
    for (const { res } of sessions.get(code) ?? []) res.end();
    sessions.delete(code);
  });

  const relayPrefix = BOARD_PATHS.relay('');
  return {
    route(req, res, path) {
      const fail = (error: unknown) => {
        log.error({ err: error }, 'board relay request failed');
        if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'The receiver failed; it has been logged.');
        else res.end();
      };
      if (req.method === 'POST' && path === BOARD_PATHS.receiverWebhooks) {
        receive(req, res).catch(fail);
        return true;
      }
      if (req.method === 'GET' && path.startsWith(relayPrefix) && path.length > relayPrefix.length) {
        openRelay(req, res, path.slice(relayPrefix.length)).catch(fail);
        return true;
      }
      return false;
    },
    close() {
      shutdown.abort();
      offChange();
      offEnded();
      for (const outbox of outboxes.values()) clearTimeout(outbox.timer);
      for (const set of sessions.values()) for (const { res } of set) res.end();
    },
  };
}
