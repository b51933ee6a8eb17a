import { z } from 'zod';

/** Every error code the API answers with, and the HTTP status each one travels with. */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  /** A stream token that is unknown or has expired (`GET …/stream?token=`): ask for a new one. */
  TOKEN_INVALID: 401,
  /** Not yours to do: a presenter-only room action without the proof, another owner's task or
   *  board, or an action that reaches everyone without the operator (docs/security.md). */
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TASK_FINISHED: 409,
  /** The Idempotency-Key's first request is still being handled (IETF httpapi-idempotency-key-header). */
  IDEMPOTENCY_KEY_IN_USE: 409,
  /** The room already holds its `ROOM_MAX_PARTICIPANTS`. */
  ROOM_FULL: 409,
  /** A board edit that cannot apply to the board as it is now: a note id taken, the board full. */
  BOARD_CONFLICT: 409,
  /** A fault allowed once per target was applied to it already (attack-webhooks: once per task). */
  FAULT_ALREADY_APPLIED: 409,
  /** The room was ended by its presenter or expired after its idle time. */
  ROOM_ENDED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** The Idempotency-Key was used before with a different body. */
  IDEMPOTENCY_KEY_REUSED: 422,
  /** A webhook URL the SSRF guard refuses: not the built-in receiver nor allow-listed, or private. */
  WEBHOOK_URL_REFUSED: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  SYNC_TIMEOUT: 504,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;
export const ErrorCode = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

/** Why a task itself failed; carried by the `failed` event, not an HTTP status. */
export const TASK_FAILURE_CODES = {
  /** The spec's failAtStep was reached: the simulated job broke. */
  STEP_FAILED: 'STEP_FAILED',
} as const;

export const ErrorBody = z.object({
  code: z.string().min(1),
  message: z.string(),
  details: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The one error shape: `{ "error": { "code", "message", "details"? } }`. */
export const ErrorEnvelope = z.object({ error: ErrorBody });
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/**
 * Why a server past what it can serve truthfully refuses new work (`503 UNAVAILABLE` with
 * `Retry-After`, or a socket ack with the same error): its event loop is late (events would be
 * stamped late and delivered later still), or it runs as many tasks, or holds as many open streams,
 * as it is configured to. Tasks already running are not affected.
 */
export const OVERLOAD_REASONS = {
  eventLoopDelay: 'event-loop-delay',
  runningTasks: 'running-tasks',
  openStreams: 'open-streams',
  /** The worker pool's queue holds MAX_QUEUED_TASKS tasks waiting for a worker (WORKERS busy). */
  queueFull: 'queue-full',
} as const;
export const OverloadReason = z.enum(OVERLOAD_REASONS);
export type OverloadReason = z.infer<typeof OverloadReason>;

/** `details` of an overload refusal: the reason, and when to try again (as `Retry-After` says). */
export const OverloadDetails = z.object({ reason: OverloadReason, retryAfterS: z.int().min(1) });
export type OverloadDetails = z.infer<typeof OverloadDetails>;

/**
 * Which per-client bound refused a request (`429 RATE_LIMITED` + `Retry-After`, a socket ack with
 * the same error, or a socket.io connect error whose `data` is the error body): one device (one
 * address) asked for more than its share, so that everyone else's races stay true (issue 11).
 */
export const CLIENT_LIMIT_REASONS = {
  tasksRunning: 'tasks-running',
  tasksPerMinute: 'tasks-per-minute',
  taskEventsPerMinute: 'task-events-per-minute',
  resultBytesPerMinute: 'result-bytes-per-minute',
  streams: 'streams',
  /** A room's seats one address holds at once (ROOM_MAX_SEATS_PER_CLIENT_PERCENT of them). */
  roomSeats: 'room-seats',
  /** New participants one address makes per minute, in any room (a resume is not one). */
  roomJoinsPerMinute: 'room-joins-per-minute',
  /** Live rooms one socket.io connection has created. */
  roomsPerConnection: 'rooms-per-connection',
  /** Live rooms one address has created. */
  rooms: 'rooms',
  /** Notes one participant has on a room's board at once. */
  boardNotes: 'board-notes',
  /** Network-condition links (`lab-link` cookies) one address holds. */
  networkLinks: 'network-links',
} as const;
export const ClientLimitReason = z.enum(CLIENT_LIMIT_REASONS);
export type ClientLimitReason = z.infer<typeof ClientLimitReason>;

/** `details` of a per-client refusal: which bound, its value, and when to try again (as `Retry-After`). */
export const ClientLimitDetails = z.object({
  reason: ClientLimitReason,
  limit: z.int().min(1),
  retryAfterS: z.int().min(1),
});
export type ClientLimitDetails = z.infer<typeof ClientLimitDetails>;
