import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  type DeliveriesResponse,
  type Delivery,
  formatTraceparent,
  isTerminalEvent,
  newSpanId,
  type TaskEvent,
  TRACEPARENT_HEADER,
  WEBHOOK_HEADERS,
  type WebhookAttack,
  type WebhookPayload,
  type WebhookSubscription,
} from '@transport-lab/shared';
import type Database from 'better-sqlite3';
import { Webhook } from 'standardwebhooks';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { epochNow } from '../observability/clock.ts';
import type { Logger } from '../observability/logger.ts';
import { type DeliveryRow, type SubscriberRow, sqliteDeliveryStore } from '../store/sqliteDeliveries.ts';
import type { TaskEngine, Unsubscribe } from '../tasks/engine.ts';
import { attackReceiver, type CapturedDelivery } from './attacks.ts';
import { createFairShare, type DeliveryOwner } from './fairShare.ts';
import type { WebhookHandover } from './handover.ts';
import { MAX_ATTEMPTS, parseRetryAfterMs, RETRY_AFTER_STATUSES, retryDelayMs } from './retry.ts';
import { type SendOptions, type SendResult, sendOnce } from './send.ts';
import { type Resolve, UrlGuard, type WebhookTarget } from './ssrf.ts';
import type { WebhookService, WebhookStats } from './types.ts';

/** Attempts in flight at once, over all tasks (each task has at most one: deliveries go in order);
 *  shared fairly between devices and runs, each run holding at most WEBHOOK_MAX_IN_FLIGHT_PER_RUN. */
export const MAX_CONCURRENT_ATTEMPTS = 8;

/** A delivery to the built-in receiver before it listens (at start-up) waits this long, ms, and
 *  is not counted as an attempt: the receiver is this process's own, not a failing endpoint. */
const RECEIVER_NOT_LISTENING_WAIT_MS = 200;

/** setTimeout's ceiling is 2^31 − 1 ms (≈ 24.8 days); a later due time is reached by re-arming. */
const MAX_TIMER_MS = 2_147_483_647;

export interface WebhooksDeps {
  /** The database the task store uses (openSqliteDatabase); the webhook tables live beside it. */
  db: Database.Database;
  engine: TaskEngine;
  config: Pick<
    Config,
    | 'WEBHOOK_SCHEDULE_SCALE'
    | 'WEBHOOK_ATTEMPT_TIMEOUT_MS'
    | 'WEBHOOK_ALLOWED_HOSTS'
    | 'WEBHOOK_MAX_IN_FLIGHT_PER_RUN'
  >;
  logger: Logger;
  /** Where the built-in receiver listens now, e.g. `http://127.0.0.1:3001/webhooks`; undefined
   *  until it listens. Asked at each subscribe and each attempt, since its port may change. */
  builtInReceiverUrl: () => string | undefined;
  /** Handed each attempt's socket, for the wire ledger to count under the task's run and lane. */
  onAttemptSocket?: (taskId: string, socket: Socket) => void;
  /** Makes an attempt's connection for a task (the network conditions' shaped socket, by the link of
   *  the request that created the task), or undefined to connect as usual. */
  attemptConnection?: (taskId: string) => SendOptions['createConnection'];
  /** DNS for the SSRF guard (tests give one that answers what they need). */
  resolve?: Resolve;
  /** [0, 1) for the retry jitter (tests may fix it). */
  random?: () => number;
  /** The run a task was tagged with (task_runs): whose the deliveries left pending by the previous
   *  process are, since only `subscribe` hears the device and run of a new one. */
  runOfTask?: (taskId: string) => Promise<string | undefined>;
  /** On Redis: where a task's subscriber and settled seq are kept for an instance that takes the
   *  task over (handover.ts). */
  handover?: WebhookHandover;
}

export interface Webhooks extends WebhookService {
  /** The secret of a task's subscriber: what "your backend" (the built-in receiver) is configured with. */
  secretForTask(taskId: string): string | undefined;
  /** Settles once the deliveries that were pending at start-up are queued again and sending began. */
  readonly ready: Promise<void>;
  /**
   * The attack-webhooks fault: copies of one of the task's delivered webhooks, as an attacker could
   * send them, sent to the built-in receiver (never to another: a task whose subscriber is not the
   * built-in receiver is refused), and how it answered each (`attacks.ts`).
   */
  attackReceiver(taskId: string): Promise<WebhookAttack[]>;
  /**
   * This instance took over a task another instance accepted (tasks/leases.ts): its webhooks go on
   * from here, from the delivery after the last one that settled there (handover.ts). Does nothing
   * without a handover record (no webhook, or SQLite alone).
   */
  adopt(taskId: string): Promise<void>;
  /**
   * Resolves once this instance has nothing more to send for the task: no listener (its last event
   * is queued), no delivery pending or in flight. Rejects when the dispatcher closes first. What the
   * task's lease waits for after the task ended, so that webhooks still retrying when the instance
   * dies are taken over with it (tasks/leases.ts).
   */
  whenSettled(taskId: string): Promise<void>;
}

/** `whsec_` + base64 of 32 random bytes (256 bits, the size of the HMAC-SHA256 key). */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The Standard Webhooks body of one task event. */
export function webhookPayload(event: TaskEvent): WebhookPayload {
  return { type: `task.${event.type}`, timestamp: new Date(event.at).toISOString(), data: event };
}

/**
 * The webhook dispatcher: every event of a subscribed task becomes one durable delivery row
 * (SQLite, before anything is sent), sent at least once, in seq order per task, signed with the
 * `standardwebhooks` library, retried on the Standard Webhooks schedule × WEBHOOK_SCHEDULE_SCALE
 * with ±10 % jitter, honouring Retry-After on 429/503, disabled by 410. See docs/webhooks.md.
 */
export function createWebhooks(deps: WebhooksDeps): Webhooks {
  const { engine, config, logger } = deps;
  const store = sqliteDeliveryStore(deps.db);
  const guard = new UrlGuard({
    allowedHosts: config.WEBHOOK_ALLOWED_HOSTS,
    builtInReceiverUrl: deps.builtInReceiverUrl,
    ...(deps.resolve ? { resolve: deps.resolve } : {}),
  });
  const random = deps.random ?? Math.random;
  const log = logger.child({ component: 'webhooks' });

  /** Task id → its attempt in flight. One per task keeps its deliveries in seq order. */
  const inFlight = new Map<string, Promise<void>>();
  /** Attempts this process made, by outcome: plain numbers, read at a metrics scrape. */
  const attempts: WebhookStats['attempts'] = { delivered: 0, retry: 0, 'gave-up': 0, disabled: 0 };
  /** Who gets the next free attempt (fairShare.ts): a run's backlog never holds every slot. */
  const fairShare = createFairShare({
    maxInFlight: MAX_CONCURRENT_ATTEMPTS,
    maxInFlightPerRun: config.WEBHOOK_MAX_IN_FLIGHT_PER_RUN,
  });
  /** Task id → whose its deliveries are, while it may still have some to send. */
  const owners = new Map<string, DeliveryOwner>();
  /** A task subscribed without an owner (a test's direct subscribe), or pending from before a restart
   *  with no run: its own device and run. */
  const ownerOf = (taskId: string): DeliveryOwner =>
    owners.get(taskId) ?? { client: `task:${taskId}`, run: `task:${taskId}` };
  const shutdown = new AbortController();
  /** Tasks being adopted (their handover read, their events queued), and who waits for each task's
   *  webhooks to settle. */
  const adopting = new Map<string, Promise<void>>();
  const settledWaiters = new Map<string, Array<{ resolve: () => void; reject: (error: Error) => void }>>();
  const hasWork = (taskId: string) =>
    adopting.has(taskId) || listening.has(taskId) || inFlight.has(taskId) || store.hasPending(taskId);
  function checkSettled(taskId: string): void {
    const waiters = settledWaiters.get(taskId);
    if (!waiters || hasWork(taskId)) return;
    settledWaiters.delete(taskId);
    for (const { resolve } of waiters) resolve();
  }
  let closed = false;
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  let pumpQueued = false;

  function enqueue(event: TaskEvent): void {
    const subscriber = store.subscriber(event.taskId);
    if (!subscriber || subscriber.disabledAt !== undefined) return;
    const queued = store.enqueue({
      // The delivery's id is its task's and seq's, the same on every instance: a delivery sent again
      // by an instance that took the task over (handover.ts) is one a receiver deduplicates.
      id: `msg_${event.taskId}_${event.seq}`,
      taskId: event.taskId,
      eventSeq: event.seq,
      eventType: event.type,
      body: JSON.stringify(webhookPayload(event)),
      createdAt: epochNow(),
      terminal: isTerminalEvent(event),
    });
    if (queued) schedulePump();
  }

  /** Task id → the dispatcher's listener on that task's events. Only tasks with an open subscriber
   *  are listened to: a task without a webhook costs the dispatcher nothing per event (issue 10). */
  const listening = new Map<string, Unsubscribe>();

  // Events are stored before they are published, and each is queued here as it is published.
  function listen(taskId: string): void {
    if (closed || listening.has(taskId)) return;
    const off = engine.onTaskEvent(taskId, (event) => {
      enqueue(event);
      if (isTerminalEvent(event)) {
        off();
        listening.delete(taskId);
        checkSettled(taskId);
      }
    });
    listening.set(taskId, off);
  }

  // A crash between the engine storing an event and this listener queueing it would lose that
  // delivery; so at start-up, every subscriber whose task had not ended gets the events after its
  // last queued one from the task log. (The enqueue ignores a (task, seq) already queued.) The
  // last queued seqs are read now, before any live event can be queued.
  const gaps = store.openSubscribers().map((s) => {
    listen(s.taskId);
    return { taskId: s.taskId, after: store.lastQueuedSeq(s.taskId) };
  });
  const ready = (async () => {
    for (const { taskId, after } of gaps) {
      const events = await engine.eventsAfter(taskId, after);
      if (closed) return;
      for (const event of events) enqueue(event);
    }
    await recallOwners(gaps.map((gap) => gap.taskId));
    if (closed) return;
    started = true;
    schedulePump();
  })();
  ready.catch((error) => log.error({ err: error }, 'could not re-queue deliveries at start-up'));

  /** The owners of the tasks the previous process left deliveries or a subscription to: their run from
   *  task_runs (the device is not stored: the run stands for it), else each task its own. */
  async function recallOwners(open: string[]): Promise<void> {
    const taskIds = new Set([...open, ...store.pendingHeads().map((head) => head.taskId)]);
    for (const taskId of taskIds) {
      if (owners.has(taskId)) continue;
      const runId = await deps.runOfTask?.(taskId);
      if (runId !== undefined && !owners.has(taskId))
        owners.set(taskId, { client: `run:${runId}`, run: `run:${runId}` });
    }
  }

  function schedulePump(): void {
    if (pumpQueued || closed) return;
    pumpQueued = true;
    setImmediate(() => {
      pumpQueued = false;
      pump();
    });
  }

  /** Starts the due heads of the tasks' queues that the fair share chooses (up to the bounds), then
   *  sleeps until the next one is due. An attempt's end pumps again. */
  function pump(): void {
    if (closed || !started) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    const now = epochNow();
    let nextDue = Number.POSITIVE_INFINITY;
    const due = new Map<string, DeliveryRow>();
    const heads = store.pendingHeads();
    for (const head of heads) {
      if (inFlight.has(head.taskId)) continue; // its attempt's end pumps again
      const dueAt = head.nextAttemptAt ?? now;
      if (dueAt > now) nextDue = Math.min(nextDue, dueAt);
      else due.set(head.taskId, head);
    }
    const chosen = fairShare.choose(
      [...due.values()].map((head) => ({
        taskId: head.taskId,
        due: head.nextAttemptAt ?? now,
        owner: ownerOf(head.taskId),
      })),
    );
    for (const { taskId, owner } of chosen) {
      const head = due.get(taskId);
      if (head) start(head, owner);
    }
    forgetOwners(heads);
    if (nextDue !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(pump, Math.min(nextDue - now, MAX_TIMER_MS));
      timer.unref();
    }
  }

  /** Owners of tasks that will send nothing more: no listener (their last event is queued), nothing
   *  pending, nothing in flight. */
  function forgetOwners(heads: DeliveryRow[]): void {
    if (owners.size === 0) return;
    const pending = new Set(heads.map((head) => head.taskId));
    for (const taskId of owners.keys())
      if (!listening.has(taskId) && !pending.has(taskId) && !inFlight.has(taskId)) owners.delete(taskId);
  }

  function start(delivery: DeliveryRow, owner: DeliveryOwner): void {
    const run = attempt(delivery)
      .catch((error) => log.error({ err: error, deliveryId: delivery.id }, 'delivery attempt failed to run'))
      .finally(() => {
        inFlight.delete(delivery.taskId);
        fairShare.release(owner);
        checkSettled(delivery.taskId);
        schedulePump();
      });
    inFlight.set(delivery.taskId, run);
  }

  /** Where an attempt goes: a built-in subscriber follows the receiver to its current port. */
  function targetOf(subscriber: SubscriberRow): WebhookTarget {
    if (!subscriber.builtin) return guard.classify(subscriber.url);
    const current = deps.builtInReceiverUrl();
    if (current === undefined) throw new Error('the built-in receiver stopped listening');
    const stored = new URL(subscriber.url);
    return { url: new URL(`${stored.pathname}${stored.search}`, new URL(current).origin), kind: 'builtin' };
  }

  async function attempt(delivery: DeliveryRow): Promise<void> {
    const subscriber = store.subscriber(delivery.taskId);
    // A disabled subscriber's pending deliveries were disabled in the same transaction.
    if (!subscriber || subscriber.disabledAt !== undefined) return;
    if (subscriber.builtin && deps.builtInReceiverUrl() === undefined) {
      store.postpone(delivery.id, epochNow() + RECEIVER_NOT_LISTENING_WAIT_MS);
      return;
    }
    const number = delivery.attempts + 1;
    // The task's correlation id: each attempt is a new span of its trace (W3C Trace Context).
    const traceId = (await engine.get(delivery.taskId))?.traceId;
    const startedAt = epochNow();
    let result: SendResult;
    try {
      const target = targetOf(subscriber);
      // webhook-timestamp is the time of this attempt (Standard Webhooks), so that a retry hours
      // later still passes the receiver's 5-minute tolerance; webhook-id stays the delivery's own.
      const timestamp = new Date();
      const signature = new Webhook(subscriber.secret).sign(delivery.id, timestamp, delivery.body);
      result = await sendOnce(target.url, {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'transport-lab-webhooks',
          [WEBHOOK_HEADERS.id]: delivery.id,
          [WEBHOOK_HEADERS.timestamp]: String(Math.floor(timestamp.getTime() / 1000)),
          [WEBHOOK_HEADERS.signature]: signature,
          ...(traceId ? { [TRACEPARENT_HEADER]: formatTraceparent(traceId, newSpanId()) } : {}),
        },
        body: delivery.body,
        timeoutMs: config.WEBHOOK_ATTEMPT_TIMEOUT_MS,
        ...(target.kind === 'name' ? { lookup: guard.connectLookup() } : {}),
        signal: shutdown.signal,
        createConnection: deps.attemptConnection?.(delivery.taskId),
        ...(deps.onAttemptSocket
          ? { onSocket: (socket: Socket) => deps.onAttemptSocket?.(delivery.taskId, socket) }
          : {}),
      });
    } catch (error) {
      result = { error: error instanceof Error ? error.message : String(error) };
    }
    // Cut short by shutdown with no answer: not an attempt. It stays pending for the next start.
    if (shutdown.signal.aborted && result.httpStatus === undefined) return;
    const endedAt = epochNow();
    const durationMs = Math.max(0, endedAt - startedAt);
    const status = result.httpStatus;
    const base = {
      attempt: number,
      startedAt,
      durationMs,
      ...(status === undefined ? {} : { httpStatus: status }),
    };
    const error =
      result.error ??
      (status !== undefined && (status < 200 || status >= 300) ? `HTTP ${status}` : undefined);
    const fields = {
      taskId: delivery.taskId,
      traceId,
      seq: delivery.eventSeq,
      webhookId: delivery.id,
      attempt: number,
      status,
      durationMs,
    };

    const record: typeof store.recordAttempt = (entry) => {
      store.recordAttempt(entry);
      attempts[entry.attempt.outcome]++;
      if (!deps.handover || entry.state === 'pending') return;
      const kept =
        entry.state === 'disabled'
          ? deps.handover.disabled(delivery.taskId, endedAt)
          : deps.handover.settled(delivery.taskId, delivery.eventSeq);
      kept.catch((error: unknown) =>
        log.error({ err: error, taskId: delivery.taskId }, 'could not keep the webhook handover in Redis'),
      );
    };
    if (status !== undefined && status >= 200 && status < 300) {
      record({
        deliveryId: delivery.id,
        attempt: { ...base, outcome: 'delivered' },
        state: 'delivered',
      });
      log.debug(fields, 'webhook delivered');
      return;
    }
    if (status === 410) {
      const reason = `the receiver answered 410 Gone at ${new Date(endedAt).toISOString()}`;
      record({
        deliveryId: delivery.id,
        attempt: { ...base, outcome: 'disabled', ...(error ? { error } : {}) },
        state: 'disabled',
        disableSubscriber: { reason, at: endedAt },
      });
      log.warn(fields, 'webhook subscriber disabled: 410 Gone');
      return;
    }
    const delay = retryDelayMs(number, config.WEBHOOK_SCHEDULE_SCALE, random);
    if (delay === undefined) {
      record({
        deliveryId: delivery.id,
        attempt: { ...base, outcome: 'gave-up', ...(error ? { error } : {}) },
        state: 'failed',
      });
      log.warn({ ...fields, error }, `webhook delivery failed after ${MAX_ATTEMPTS} attempts`);
      return;
    }
    // Retry-After on 429/503 is a floor: the receiver asked for at least that long; the schedule
    // may ask for longer, and then the schedule wins.
    const asked =
      status !== undefined && RETRY_AFTER_STATUSES.has(status)
        ? parseRetryAfterMs(result.retryAfter)
        : undefined;
    const nextAttemptAt = epochNow() + Math.max(delay, asked ?? 0);
    record({
      deliveryId: delivery.id,
      attempt: { ...base, outcome: 'retry', ...(error ? { error } : {}) },
      state: 'pending',
      nextAttemptAt,
    });
    log.info(
      { ...fields, error, retryInMs: Math.round(nextAttemptAt - endedAt) },
      'webhook attempt failed; will retry',
    );
  }

  async function adoptTask(taskId: string): Promise<void> {
    if (closed || !deps.handover) return;
    const kept = await deps.handover.read(taskId);
    if (!kept || kept.disabledAt !== undefined || closed) return;
    if (!store.subscriber(taskId)) {
      store.insertSubscriber({
        taskId,
        url: kept.url,
        secret: kept.secret,
        builtin: kept.builtin,
        createdAt: kept.createdAt,
      });
    }
    // Listen first, then read the log after the settled seq: an event in between is queued both
    // ways, once (the queue ignores a (task, seq) it holds).
    listen(taskId);
    const events = await engine.eventsAfter(taskId, kept.settledSeq);
    for (const event of events) enqueue(event);
    // A task that had ended (its webhooks still retrying when its instance died): its last event is
    // queued, so nothing is left to listen for.
    if (events.some(isTerminalEvent)) {
      listening.get(taskId)?.();
      listening.delete(taskId);
    }
    log.info({ taskId, afterSeq: kept.settledSeq }, 'webhooks of a task taken over go on from here');
    schedulePump();
  }

  return {
    ready,

    async subscribe(taskId, webhook, owner): Promise<WebhookSubscription> {
      if (closed) throw new AppError('UNAVAILABLE', 'The server is shutting down; try again shortly.');
      const target = await guard.check(webhook.url);
      let secret = webhook.secret;
      if (secret !== undefined) {
        try {
          new Webhook(secret);
        } catch (error) {
          throw new AppError('VALIDATION_FAILED', `Invalid webhook secret: ${(error as Error).message}`);
        }
      }
      const generated = secret === undefined;
      secret ??= generateSecret();
      const url = target.url.href;
      store.insertSubscriber({
        taskId,
        url,
        secret,
        builtin: target.kind === 'builtin',
        createdAt: epochNow(),
      });
      if (owner) owners.set(taskId, owner);
      listen(taskId);
      // Kept for an instance that takes the task over; without it, the webhooks end with this one.
      await deps.handover
        ?.subscribed(taskId, { url, secret, builtin: target.kind === 'builtin', createdAt: epochNow() })
        .catch((error: unknown) =>
          log.error({ err: error, taskId }, 'could not keep the webhook handover in Redis'),
        );
      return generated ? { url, secret } : { url };
    },

    async deliveries(taskId): Promise<DeliveriesResponse> {
      await engine.getOrThrow(taskId);
      const subscriber = store.subscriber(taskId);
      if (!subscriber) return { taskId, subscriber: null, deliveries: [] };
      // A pending delivery waits for the ones before it: it goes no earlier than its queue's head.
      let headDue: number | undefined;
      const deliveries = store.deliveriesOf(taskId).map((row): Delivery => {
        let nextAttemptAt: number | undefined;
        if (row.state === 'pending') {
          headDue ??= row.nextAttemptAt;
          nextAttemptAt = Math.max(row.nextAttemptAt ?? 0, headDue ?? 0);
        }
        return {
          id: row.id,
          eventSeq: row.eventSeq,
          eventType: row.eventType,
          state: row.state,
          attempts: row.attemptLog,
          ...(nextAttemptAt === undefined ? {} : { nextAttemptAt }),
        };
      });
      return {
        taskId,
        subscriber: {
          url: subscriber.url,
          disabled: subscriber.disabledAt !== undefined,
          ...(subscriber.disabledReason === undefined ? {} : { disabledReason: subscriber.disabledReason }),
        },
        deliveries,
      };
    },

    stats() {
      return { attempts: { ...attempts }, pending: store.pendingCount(), inFlight: inFlight.size };
    },

    secretForTask(taskId) {
      return store.subscriber(taskId)?.secret;
    },

    async attackReceiver(taskId) {
      const subscriber = store.subscriber(taskId);
      if (!subscriber) throw new AppError('NOT_FOUND', 'This task has no webhook subscriber.');
      if (!subscriber.builtin) {
        throw new AppError(
          'FORBIDDEN',
          'Only a task whose webhooks go to the built-in receiver can be attacked: this server sends its attacks nowhere else.',
        );
      }
      const url = deps.builtInReceiverUrl();
      if (url === undefined) throw new AppError('UNAVAILABLE', 'The built-in receiver is not listening.');
      let captured: CapturedDelivery | undefined;
      for (const row of store.deliveriesOf(taskId)) {
        const sent = row.attemptLog.find((a) => a.outcome === 'delivered');
        if (sent) {
          captured = { id: row.id, body: row.body, sentAt: sent.startedAt };
          break;
        }
      }
      if (!captured) {
        throw new AppError(
          'NOT_FOUND',
          'None of this task’s webhooks has been delivered yet: nothing to capture.',
        );
      }
      return attackReceiver(
        captured,
        subscriber.secret,
        async (headers, body) => {
          try {
            const res = await fetch(url, {
              method: 'POST',
              headers,
              body,
              signal: AbortSignal.timeout(config.WEBHOOK_ATTEMPT_TIMEOUT_MS),
            });
            return { status: res.status, body: await res.text() };
          } catch (error) {
            return { error: error instanceof Error ? error.message : String(error) };
          }
        },
        epochNow(),
      );
    },

    adopt(taskId) {
      const running = adoptTask(taskId).finally(() => {
        adopting.delete(taskId);
        checkSettled(taskId);
      });
      adopting.set(taskId, running);
      return running;
    },

    whenSettled(taskId) {
      if (closed) return Promise.reject(new Error('the webhook dispatcher is closed'));
      if (!hasWork(taskId)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const waiters = settledWaiters.get(taskId) ?? [];
        waiters.push({ resolve, reject });
        settledWaiters.set(taskId, waiters);
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const [taskId, waiters] of settledWaiters) {
        settledWaiters.delete(taskId);
        for (const { reject } of waiters) reject(new Error('the webhook dispatcher closed'));
      }
      for (const off of listening.values()) off();
      listening.clear();
      if (timer) clearTimeout(timer);
      shutdown.abort();
      await ready.catch(() => undefined);
      await Promise.all(inFlight.values());
    },
  };
}
