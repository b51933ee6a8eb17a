import type { TaskEvent, TaskState } from '@transport-lab/shared';

/**
 * Durable task state and event logs. The embedded SQLite store implements it now; a Redis store
 * (scale-out) will implement the same interface, so it is asynchronous even where SQLite is not.
 */
export interface TaskStore {
  readonly kind: 'sqlite' | 'redis';
  /** Stores a new task together with its first event, atomically. */
  createTask(task: TaskState, first: TaskEvent): Promise<void>;
  /** Appends `event` to its task's log and stores the task's new state, atomically. */
  appendEvent(event: TaskEvent, next: TaskState): Promise<void>;
  getTask(id: string): Promise<TaskState | undefined>;
  /** Events with seq > afterSeq, in seq order. */
  eventsAfter(id: string, afterSeq: number): Promise<TaskEvent[]>;
  /** Tasks that were accepted and have not ended (queued or running), oldest first. */
  unfinishedTasks(): Promise<TaskState[]>;
  close(): Promise<void>;
}
