import { z } from 'zod';
import { TaskEvent } from './events.ts';
import { TaskId, TaskSpec, TaskState } from './task.ts';

/** Paths of the public HTTP API, written once; see docs/api in the README. */
export const API_PATHS = {
  run: '/api/tasks/run',
  tasks: '/api/tasks',
  task: (id: string) => `/api/tasks/${encodeURIComponent(id)}`,
  events: (id: string) => `/api/tasks/${encodeURIComponent(id)}/events`,
  stream: (id: string) => `/api/tasks/${encodeURIComponent(id)}/stream`,
  cancel: (id: string) => `/api/tasks/${encodeURIComponent(id)}/cancel`,
  deliveries: (id: string) => `/api/tasks/${encodeURIComponent(id)}/deliveries`,
  time: '/api/time',
  health: '/healthz',
  metrics: '/metrics',
} as const;

/** Response header, on every API answer, with the size in bytes of the request as the server read it
 *  off the wire (request line + headers + body), so that a browser can count the bytes it sent. */
export const REQUEST_BYTES_HEADER = 'x-request-bytes';
export const REQUEST_ID_HEADER = 'x-request-id';

/** `POST /api/tasks/run` body is a bare `TaskSpec`; the answer once the task has ended. */
export const RunResponse = z.object({ task: TaskState });
export type RunResponse = z.infer<typeof RunResponse>;

/** `details` of the 504 that `POST /api/tasks/run` answers past the sync timeout. */
export const SyncTimeoutDetails = z.object({
  taskId: TaskId,
  /** Where the task's state can be fetched: the work goes on and is not lost. */
  location: z.string(),
  waitedMs: z.number(),
});
export type SyncTimeoutDetails = z.infer<typeof SyncTimeoutDetails>;

/** `GET /api/tasks/{id}` answer. */
export const TaskResponse = z.object({ task: TaskState });
export type TaskResponse = z.infer<typeof TaskResponse>;

/** `POST /api/tasks` body. */
export const CreateTaskBody = z.strictObject({
  spec: TaskSpec,
  webhook: z.strictObject({ url: z.url(), secret: z.string().optional() }).optional(),
});
export type CreateTaskBody = z.infer<typeof CreateTaskBody>;

/** `GET /api/tasks/{id}/events` query: every event after `after`, held up to `waitMs` if none yet. */
export const EventsQuery = z.strictObject({
  after: z.coerce.number().pipe(z.int().min(0)).default(0),
  waitMs: z.coerce.number().pipe(z.int().min(0).max(30_000)).default(25_000),
});
export type EventsQuery = z.infer<typeof EventsQuery>;

export const EventsResponse = z.object({ events: z.array(TaskEvent), nextAfter: z.int().min(0) });
export type EventsResponse = z.infer<typeof EventsResponse>;

/** `GET /api/time`: server clock at receipt and at send (epoch ms), for NTP-style offset estimation. */
export const TimeResponse = z.object({ receivedAt: z.number(), sentAt: z.number() });
export type TimeResponse = z.infer<typeof TimeResponse>;

/** `GET /healthz`. */
export const HealthResponse = z.object({
  status: z.literal('ok'),
  protocolVersion: z.int(),
  store: z.string(),
  uptimeMs: z.number(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;
