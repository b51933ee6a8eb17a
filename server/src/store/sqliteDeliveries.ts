import { type Delivery, DeliveryAttempt } from '@transport-lab/shared';
import type Database from 'better-sqlite3';

// The durable webhook queue, in the same SQLite file as the tasks (WAL, synchronous=NORMAL: a
// committed row survives a crash of the process). Three tables (their schema: migrations.ts):
// - `webhook_subscribers`: one per task: url, secret, disabled flag and reason, `ended` once the
//   task's terminal event is queued (so start-up knows which tasks may still have events to queue);
// - `webhook_deliveries`: one per (task, event seq), its `webhook-id`, the exact body, its state,
//   how many attempts it has had and when the next one is due;
// - `webhook_attempts`: one per attempt, the log `GET /api/tasks/{id}/deliveries` serves.

export interface SubscriberRow {
  taskId: string;
  url: string;
  secret: string;
  /** Subscribed to the built-in receiver: delivered to wherever it listens now (its port may change). */
  builtin: boolean;
  ended: boolean;
  disabledAt?: number;
  disabledReason?: string;
}

export interface DeliveryRow {
  id: string;
  taskId: string;
  eventSeq: number;
  eventType: string;
  body: string;
  state: Delivery['state'];
  attempts: number;
  nextAttemptAt?: number;
}

export interface NewDelivery {
  id: string;
  taskId: string;
  eventSeq: number;
  eventType: string;
  body: string;
  createdAt: number;
  /** The event is its task's last: the subscriber will get no more. */
  terminal: boolean;
}

export interface AttemptRecord {
  deliveryId: string;
  attempt: DeliveryAttempt;
  /** The delivery's state after this attempt, and when the next attempt is due if still pending. */
  state: Delivery['state'];
  nextAttemptAt?: number;
  /** The receiver answered 410 Gone: disable its subscriber in the same transaction. */
  disableSubscriber?: { reason: string; at: number };
}

export interface DeliveryStore {
  insertSubscriber(row: {
    taskId: string;
    url: string;
    secret: string;
    builtin: boolean;
    createdAt: number;
  }): void;
  subscriber(taskId: string): SubscriberRow | undefined;
  /** Subscribers that are neither disabled nor past their task's terminal event. */
  openSubscribers(): SubscriberRow[];
  /** Queues a delivery unless one exists for this (task, seq); true when it was new. */
  enqueue(delivery: NewDelivery): boolean;
  /** Highest event seq queued for the task, 0 if none. */
  lastQueuedSeq(taskId: string): number;
  /** For each task with pending deliveries, the pending one with the lowest seq. */
  pendingHeads(): DeliveryRow[];
  /** How many deliveries are pending (queued or waiting for a retry): the queue's depth. */
  pendingCount(): number;
  /** The task has a delivery still pending. */
  hasPending(taskId: string): boolean;
  /** Records an attempt and the delivery's new state (and a 410's disabling: the subscriber and
   *  every pending delivery of its task), atomically. */
  recordAttempt(record: AttemptRecord): void;
  /** Moves a pending delivery's next attempt to `at` without counting an attempt. */
  postpone(deliveryId: string, at: number): void;
  deliveriesOf(taskId: string): Array<DeliveryRow & { attemptLog: DeliveryAttempt[] }>;
}

interface SubscriberDbRow {
  task_id: string;
  url: string;
  secret: string;
  builtin: number;
  ended: number;
  disabled_at: number | null;
  disabled_reason: string | null;
}

interface DeliveryDbRow {
  id: string;
  task_id: string;
  event_seq: number;
  event_type: string;
  body: string;
  state: Delivery['state'];
  attempts: number;
  next_attempt_at: number | null;
}

interface AttemptDbRow {
  delivery_id: string;
  attempt: number;
  started_at: number;
  duration_ms: number;
  http_status: number | null;
  outcome: string;
  error: string | null;
}

const toSubscriber = (row: SubscriberDbRow): SubscriberRow => ({
  taskId: row.task_id,
  url: row.url,
  secret: row.secret,
  builtin: row.builtin === 1,
  ended: row.ended === 1,
  ...(row.disabled_at === null ? {} : { disabledAt: row.disabled_at }),
  ...(row.disabled_reason === null ? {} : { disabledReason: row.disabled_reason }),
});

const toDelivery = (row: DeliveryDbRow): DeliveryRow => ({
  id: row.id,
  taskId: row.task_id,
  eventSeq: row.event_seq,
  eventType: row.event_type,
  body: row.body,
  state: row.state,
  attempts: row.attempts,
  ...(row.next_attempt_at === null ? {} : { nextAttemptAt: row.next_attempt_at }),
});

// Attempts are parsed with the shared schema on the way out: a corrupt row fails loudly, here.
const toAttempt = (row: AttemptDbRow): DeliveryAttempt =>
  DeliveryAttempt.parse({
    attempt: row.attempt,
    startedAt: row.started_at,
    durationMs: row.duration_ms,
    outcome: row.outcome,
    ...(row.http_status === null ? {} : { httpStatus: row.http_status }),
    ...(row.error === null ? {} : { error: row.error }),
  });

/** The webhook tables on an open database (the task store's); closing it is its owner's job. */
export function sqliteDeliveryStore(db: Database.Database): DeliveryStore {
  const insertSubscriber = db.prepare(
    'INSERT INTO webhook_subscribers (task_id, url, secret, builtin, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const selectSubscriber = db.prepare<[string], SubscriberDbRow>(
    'SELECT * FROM webhook_subscribers WHERE task_id = ?',
  );
  const selectOpenSubscribers = db.prepare<[], SubscriberDbRow>(
    'SELECT * FROM webhook_subscribers WHERE ended = 0 AND disabled_at IS NULL ORDER BY created_at',
  );
  const markEnded = db.prepare('UPDATE webhook_subscribers SET ended = 1 WHERE task_id = ?');
  const insertDelivery = db.prepare(
    `INSERT OR IGNORE INTO webhook_deliveries
       (id, task_id, event_seq, event_type, body, state, attempts, next_attempt_at, created_at)
     VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
  );
  const selectLastSeq = db.prepare<[string], { seq: number | null }>(
    'SELECT MAX(event_seq) AS seq FROM webhook_deliveries WHERE task_id = ?',
  );
  // SQLite returns the other columns from the row that holds the MIN (a documented SQLite feature
  // of bare columns in an aggregate query): the head of each task's pending queue.
  const selectHeads = db.prepare<[], DeliveryDbRow & { head: number }>(
    `SELECT id, task_id, MIN(event_seq) AS head, event_seq, event_type, body, state, attempts, next_attempt_at
       FROM webhook_deliveries WHERE state = 'pending' GROUP BY task_id`,
  );
  // Counted on the (state, …) index: a scrape's cost, not a table scan.
  const countPending = db.prepare<[], { n: number }>(
    "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE state = 'pending'",
  );
  const selectTaskPending = db.prepare<[string], { one: number }>(
    "SELECT 1 AS one FROM webhook_deliveries WHERE task_id = ? AND state = 'pending' LIMIT 1",
  );
  const insertAttempt = db.prepare(
    `INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, http_status, outcome, error)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const updateDelivery = db.prepare(
    'UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ? WHERE id = ?',
  );
  const postpone = db.prepare(
    "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND state = 'pending'",
  );
  const disable = db.prepare(
    'UPDATE webhook_subscribers SET disabled_at = ?, disabled_reason = ? WHERE task_id = ? AND disabled_at IS NULL',
  );
  const disablePending = db.prepare(
    "UPDATE webhook_deliveries SET state = 'disabled', next_attempt_at = NULL WHERE task_id = ? AND state = 'pending'",
  );
  const selectDeliveries = db.prepare<[string], DeliveryDbRow>(
    'SELECT * FROM webhook_deliveries WHERE task_id = ? ORDER BY event_seq',
  );
  const selectAttempts = db.prepare<[string], AttemptDbRow>(
    `SELECT a.* FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
      WHERE d.task_id = ? ORDER BY d.event_seq, a.attempt`,
  );

  const enqueue = db.transaction((delivery: NewDelivery): boolean => {
    const inserted = insertDelivery.run(
      delivery.id,
      delivery.taskId,
      delivery.eventSeq,
      delivery.eventType,
      delivery.body,
      delivery.createdAt,
      delivery.createdAt,
    );
    if (delivery.terminal) markEnded.run(delivery.taskId);
    return inserted.changes > 0;
  });

  const selectTaskOfDelivery = db.prepare<[string], { task_id: string }>(
    'SELECT task_id FROM webhook_deliveries WHERE id = ?',
  );

  const recordAttempt = db.transaction((record: AttemptRecord) => {
    const { attempt } = record;
    insertAttempt.run(
      record.deliveryId,
      attempt.attempt,
      attempt.startedAt,
      attempt.durationMs,
      attempt.httpStatus ?? null,
      attempt.outcome,
      attempt.error ?? null,
    );
    updateDelivery.run(record.state, attempt.attempt, record.nextAttemptAt ?? null, record.deliveryId);
    const taskId = record.disableSubscriber && selectTaskOfDelivery.get(record.deliveryId)?.task_id;
    if (record.disableSubscriber && taskId) {
      disable.run(record.disableSubscriber.at, record.disableSubscriber.reason, taskId);
      disablePending.run(taskId);
    }
  });

  return {
    insertSubscriber({ taskId, url, secret, builtin, createdAt }) {
      insertSubscriber.run(taskId, url, secret, builtin ? 1 : 0, createdAt);
    },
    subscriber(taskId) {
      const row = selectSubscriber.get(taskId);
      return row ? toSubscriber(row) : undefined;
    },
    openSubscribers() {
      return selectOpenSubscribers.all().map(toSubscriber);
    },
    enqueue,
    lastQueuedSeq(taskId) {
      return selectLastSeq.get(taskId)?.seq ?? 0;
    },
    pendingHeads() {
      return selectHeads.all().map(toDelivery);
    },
    pendingCount() {
      return countPending.get()?.n ?? 0;
    },
    hasPending(taskId) {
      return selectTaskPending.get(taskId) !== undefined;
    },
    recordAttempt,
    postpone(deliveryId, at) {
      postpone.run(at, deliveryId);
    },
    deliveriesOf(taskId) {
      const attempts = new Map<string, DeliveryAttempt[]>();
      for (const row of selectAttempts.all(taskId)) {
        const list = attempts.get(row.delivery_id) ?? [];
        list.push(toAttempt(row));
        attempts.set(row.delivery_id, list);
      }
      return selectDeliveries
        .all(taskId)
        .map((row) => ({ ...toDelivery(row), attemptLog: attempts.get(row.id) ?? [] }));
    },
  };
}
