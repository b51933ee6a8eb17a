import { z } from 'zod';
import { LaneId } from './lanes.ts';
import { RunId } from './wire.ts';

/**
 * Faults, one click each during a race (issue 5). Every fault but the restart is scoped to one race
 * (its run id, the lab tag every lane's traffic carries), so that one person's fault never touches
 * another's race on the same server. The restart is the whole process, by nature: it, and any fault
 * that reaches other runs (`faultReachesOthers`), is the operator's (issue 11); the `FAULTS` setting
 * turns the faults API off altogether.
 */

/** How the built-in webhook receiver answers the run's deliveries while the fault holds. */
export const RECEIVER_MODES = ['normal', 'fail-500', 'timeout', 'throttle-429', 'unavailable-503'] as const;
export const ReceiverMode = z.enum(RECEIVER_MODES);
export type ReceiverMode = z.infer<typeof ReceiverMode>;

/** Destroys every TCP connection the lane's traffic of this run uses now (streams, sockets, idle keep-alives). */
const DropConnections = z.strictObject({ kind: z.literal('drop-connections'), runId: RunId, lane: LaneId });
/**
 * A network switch: the path under the lane's connections of this run goes dead without closing them
 * (a phone moved from Wi-Fi to mobile data, a NAT that forgot the mapping). From now on every byte
 * either way is dropped silently and nothing ends them: each side learns only from its own timeout
 * (socket.io's heartbeat). Connections opened later are not touched.
 */
const BlackholeConnections = z.strictObject({
  kind: z.literal('blackhole-connections'),
  runId: RunId,
  lane: LaneId,
});
/**
 * Ends the server process mid-task; the supervisor (`npm start`) starts it again at once. It touches
 * every run; `runId` (optional, additive) names the race that asked, so that its fault list has it.
 */
const RestartServer = z.strictObject({ kind: z.literal('restart-server'), runId: RunId.optional() });
/**
 * The receiver answers the run's next `count` deliveries (all, when absent, until `normal`) this
 * way. `retryAfterS` goes with 429 and 503 as `Retry-After`; `timeout` holds the delivery past the
 * dispatcher's attempt timeout without answering.
 */
const ReceiverFault = z.strictObject({
  kind: z.literal('receiver'),
  runId: RunId,
  mode: ReceiverMode,
  retryAfterS: z.int().min(0).max(3_600).optional(),
  count: z.int().min(1).max(1_000).optional(),
});
/** The task's downstream stalls: each running task of the run makes no progress for `stallMs`. */
const SlowDownstream = z.strictObject({
  kind: z.literal('slow-downstream'),
  runId: RunId,
  stallMs: z.int().min(1).max(120_000),
});
/**
 * A proxy that buffers: the run's event streams (SSE, the hybrid's push, the webhook relay) are held
 * until `bufferBytes` have gathered or the stream ends, as nginx does without `X-Accel-Buffering: no`.
 * `on: false` ends it (what is held is sent at once).
 */
const BufferStreams = z.strictObject({
  kind: z.literal('buffer-streams'),
  runId: RunId,
  on: z.boolean(),
  bufferBytes: z.int().min(1).max(1_048_576).optional(),
});

/**
 * The answers to the run's next `count` task creations (`POST /api/tasks`) are lost on the way back:
 * the server creates the task (and stores the answer under its Idempotency-Key, if it had one), then
 * cuts the connection before the answer leaves, as a proxy's read timeout or a mobile link that drops
 * does. The client cannot tell that from a request that never arrived; whether its retry runs the work
 * twice is the lesson (RFC 9110 §9.2.2; the IETF Idempotency-Key draft).
 */
const LoseAnswers = z.strictObject({
  kind: z.literal('lose-answers'),
  runId: RunId,
  count: z.int().min(1).max(100),
});

/**
 * A proxy's idle timeout in front of the run's answers (nginx's `proxy_read_timeout`, 60 s by default):
 * an answer on which the server writes nothing for `idleMs` is cut: a quiet event stream, a long poll
 * held with nothing to say. A heartbeat written more often keeps a stream. `on: false` ends it.
 */
const IdleTimeout = z.strictObject({
  kind: z.literal('idle-timeout'),
  runId: RunId,
  on: z.boolean(),
  idleMs: z.int().min(1_000).max(600_000),
});

/**
 * An attacker at the run's built-in receiver: for one of the run's webhook tasks (its subscriber must be
 * the built-in receiver, so that this sends to nobody else), the server takes a delivery it made and
 * sends the receiver four copies an attacker could: the body altered under the captured signature; a
 * new message signed with a secret the attacker made up; the captured delivery re-sent as it was
 * (same webhook-id, timestamp and signature); and a delivery signed more than the receiver's 5-minute
 * tolerance ago, under an id the receiver has not seen. The record lists each answer
 * (`webhookAttacks`). Once per task (Standard Webhooks: signature, webhook-timestamp, webhook-id).
 */
const AttackWebhooks = z.strictObject({
  kind: z.literal('attack-webhooks'),
  runId: RunId,
  taskId: z.string().min(1).max(200),
});

/** Bounds of a busy backend: a few workers, a backlog a race can wait through (32 × 60 s at most). */
export const BUSY_BACKEND_LIMITS = { maxWorkers: 16, maxBacklog: 32, maxBacklogTaskMs: 60_000 } as const;

/**
 * A busy backend (issue 15): from now on the run's tasks wait for `workers` workers of their own,
 * first in, first out, and `backlog` tasks of `backlogTaskMs` (one step each) go in first, as other
 * people's work ahead of the race. Scoped to the run: its pool keeps no one else's task waiting (the
 * process's own is `WORKERS`). Once per run. In memory: after a restart its queued tasks wait for the
 * process's workers.
 */
const BusyBackend = z.strictObject({
  kind: z.literal('busy-backend'),
  runId: RunId,
  workers: z.int().min(1).max(BUSY_BACKEND_LIMITS.maxWorkers),
  backlog: z.int().min(0).max(BUSY_BACKEND_LIMITS.maxBacklog),
  backlogTaskMs: z.int().min(1).max(BUSY_BACKEND_LIMITS.maxBacklogTaskMs),
});

export const Fault = z.discriminatedUnion('kind', [
  DropConnections,
  BlackholeConnections,
  RestartServer,
  ReceiverFault,
  SlowDownstream,
  BufferStreams,
  LoseAnswers,
  AttackWebhooks,
  IdleTimeout,
  BusyBackend,
]);
export type Fault = z.infer<typeof Fault>;

/**
 * A fault of one race, before it is given that race's run id: what a guided scenario schedules and a
 * presenter sends a whole room (each page fills in its own run). The process restart is not one: it
 * is the whole server's.
 */
export const RaceFaultTemplate = z.discriminatedUnion('kind', [
  DropConnections.omit({ runId: true }),
  BlackholeConnections.omit({ runId: true }),
  ReceiverFault.omit({ runId: true }),
  SlowDownstream.omit({ runId: true }),
  BufferStreams.omit({ runId: true }),
  LoseAnswers.omit({ runId: true }),
  IdleTimeout.omit({ runId: true }),
  BusyBackend.omit({ runId: true }),
]);
export type RaceFaultTemplate = z.infer<typeof RaceFaultTemplate>;

/** The template as the fault of the race `runId`. */
export function faultForRun(template: RaceFaultTemplate, runId: string): Fault {
  return { ...template, runId } as Fault;
}
export type FaultKind = Fault['kind'];

/**
 * What a fault that reaches beyond its own run does, said for the refusal; undefined for one that
 * stays within its run, which whoever names the run may inject (the run id is the capability:
 * docs/security.md). Beyond its run: the restart ends every race at once; a receiver that never
 * answers holds one of the webhook dispatcher's few concurrent attempts (shared by every run) for a
 * whole attempt timeout per delivery, so a run with a few webhook tasks stalls everyone's deliveries.
 * Every other receiver mode answers at once; a stall holds only the run's own tasks; dropped
 * connections and buffered streams are the run's own.
 */
export function faultReachesOthers(fault: Fault): string | undefined {
  if (fault.kind === 'restart-server') return 'Restarting the server';
  if (fault.kind === 'receiver' && fault.mode === 'timeout') return 'A receiver that never answers';
  return undefined;
}

/** Default of `bufferBytes`: nginx's `proxy_buffer_size` on most platforms (one memory page, ×2). */
export const DEFAULT_PROXY_BUFFER_BYTES = 8_192;

/** The four copies an attack-webhooks fault sends. */
export const WEBHOOK_ATTACK_KINDS = ['tampered-body', 'wrong-secret', 'replayed', 'stale-timestamp'] as const;

/** How the receiver answered one copy an attacker sent. */
export const WebhookAttack = z.object({
  kind: z.enum(WEBHOOK_ATTACK_KINDS),
  /** The webhook-id it carried. */
  webhookId: z.string(),
  /** Its webhook-timestamp, epoch seconds. */
  timestampS: z.int(),
  /** The receiver's status; absent when no answer came. */
  httpStatus: z.int().optional(),
  /** The receiver's error code and message (its one envelope), when it refused. */
  code: z.string().optional(),
  message: z.string().optional(),
  /** The receiver acknowledged it as a webhook-id it had already accepted, without processing it again. */
  duplicate: z.boolean(),
});
export type WebhookAttack = z.infer<typeof WebhookAttack>;

/** A fault as applied: when (server time, epoch ms), and what it touched. */
export const FaultRecord = z.object({
  id: z.string().min(1),
  fault: Fault,
  /** Server time the fault took effect, epoch ms: where it goes on the timeline. */
  at: z.number(),
  /** What it did, counted: connections destroyed, tasks stalled, streams buffered. */
  affected: z.int().min(0),
  /** In words, for the timeline's tooltip and the export. */
  summary: z.string(),
  /** An attack-webhooks fault: how the receiver answered each copy. */
  webhookAttacks: z.array(WebhookAttack).optional(),
});
export type FaultRecord = z.infer<typeof FaultRecord>;

/** `POST /api/faults` → 201 `{ fault }` (the restart answers before the process ends). */
export const FaultResponse = z.object({ fault: FaultRecord });
export type FaultResponse = z.infer<typeof FaultResponse>;

/** `GET /api/faults?runId=…` → every fault applied to the run, oldest first (a restart: all runs). */
export const FaultsQuery = z.strictObject({ runId: RunId });
export const FaultsResponse = z.object({ faults: z.array(FaultRecord) });
export type FaultsResponse = z.infer<typeof FaultsResponse>;

export const FAULT_PATHS = { faults: '/api/faults' } as const;
