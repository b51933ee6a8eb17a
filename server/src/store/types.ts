import type { TaskEvent, TaskState } from '@transport-lab/shared';

/**
 * Durable task state and event logs: the embedded SQLite store (sqlite.ts) and the Redis one
 * (redisTasks.ts, REDIS_URL), both held to taskStore.contract.test.ts. Asynchronous, for Redis, even
 * where SQLite is not.
 *
 * The log is the truth; the stored state is the task as of its last change of status (queued,
 * running, its end). A running task's progress since is in the log after the state's `lastSeq`:
 * whoever needs it replays those events (the engine does, when it resumes a task).
 */
export interface TaskStore {
  readonly kind: 'sqlite' | 'redis';
  /** Stores a new task together with its first event, atomically; resolves once durable. */
  createTask(task: TaskState, first: TaskEvent): Promise<void>;
  /**
   * Appends `event` to its task's log and stores the task's new state, atomically; resolves once
   * durable; the state is stored only when `event` changes the task's status. A task hands over its
   * events in seq order, the next before the previous is durable: they are written in that order, and
   * once one fails none of the task's later ones is written (no gap).
   * Writes may be committed together with others of the same turn (SQLite: writeBatch.ts).
   */
  appendEvent(event: TaskEvent, next: TaskState): Promise<void>;
  getTask(id: string): Promise<TaskState | undefined>;
  /** Events with seq > afterSeq, in seq order. */
  eventsAfter(id: string, afterSeq: number): Promise<TaskEvent[]>;
  /** Tasks that were accepted and have not ended (queued or running), oldest first. */
  unfinishedTasks(): Promise<TaskState[]>;
  close(): Promise<void>;
}

/** A stored answer, replayed verbatim for a repeated Idempotency-Key. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type IdempotencyClaim =
  /** First use: go ahead, then `complete` (or `release` on failure). */
  | { kind: 'claimed' }
  /** The first request with this key is still being handled: 409. */
  | { kind: 'in-progress' }
  /** The key was used with another request body: 422. */
  | { kind: 'mismatch' }
  /** The same key and body were answered before: send that answer again. */
  | { kind: 'replay'; response: StoredResponse };

/** Idempotency-Key records (IETF draft-ietf-httpapi-idempotency-key-header), durable: in SQLite
 *  (sqliteIdempotency.ts) or on Redis (redisIdempotency.ts), both held to
 *  idempotencyStore.contract.test.ts. A key is its client's: `scope` names the client
 *  (http/createTask.ts), and the same key in another scope is another record, so that nobody
 *  replays someone else's answer (its webhook secret) by its key. */
export interface IdempotencyStore {
  claim(scope: string, key: string, fingerprint: string): Promise<IdempotencyClaim>;
  complete(scope: string, key: string, response: StoredResponse): Promise<void>;
  /** Forgets a claim whose request failed, so the client may retry with the same key. */
  release(scope: string, key: string): Promise<void>;
}

/**
 * A task's live events when another instance runs it (REDIS_URL: redisRemoteEvents.ts); absent on
 * SQLite, where every task runs in this process. The engine follows a task through it only while
 * something listens to that task and this process does not run it (tasks/engine.ts).
 */
export interface RemoteEvents {
  /**
   * Calls `onEvent` with each event appended to the task's log after the log's end as it is now, in
   * seq order, until the returned function is called. "Now" is ordered with the store's own reads:
   * an event is either in a store read made after this call, or delivered here (or both).
   * One follow per task at a time (the engine keeps one and fans it out).
   */
  follow(taskId: string, onEvent: (event: TaskEvent) => void): () => void;
  /** Asks the instance that runs the task to cancel it: every instance hears it (`onCancelRequest`),
   *  the one running it acts. Fire and forget: an instance that runs the task later (a takeover)
   *  has not heard it, and the caller learns the outcome from the task's log. */
  requestCancel(taskId: string): Promise<void>;
  /** Hears every cancel request of every instance, this one's included, until the returned function
   *  is called. */
  onCancelRequest(onRequest: (taskId: string) => void): () => void;
  close(): Promise<void>;
}
