/**
 * What a team must build to make a lane safe in production: the same few mechanisms recur across the
 * lanes, so each is named once here and the ranking lists the ones each lane needs.
 */
export const SAFEGUARD_IDS = [
  'idempotency-keys',
  'signatures-and-retries',
  'resume-cursors',
  'back-pressure',
  'heartbeats',
  'timeouts-and-recovery',
  'reconnect-with-jitter',
  'no-buffering',
  'reconciliation',
] as const;
export type SafeguardId = (typeof SAFEGUARD_IDS)[number];

export interface Safeguard {
  id: SafeguardId;
  title: string;
  /** What to build, and the failure it prevents. */
  what: string;
}

export const SAFEGUARDS: Record<SafeguardId, Safeguard> = {
  'idempotency-keys': {
    id: 'idempotency-keys',
    title: 'Idempotency keys',
    what:
      'Send an Idempotency-Key with every create and keep the first answer per key: a POST retried after ' +
      'a lost answer otherwise runs the operation twice (the "retried POST" scenario). A receiver dedupes ' +
      'by event id for the same reason.',
  },
  'signatures-and-retries': {
    id: 'signatures-and-retries',
    title: 'Signatures and retries',
    what:
      'Sign each delivery (Standard Webhooks: HMAC-SHA256 over id.timestamp.body), refuse old timestamps ' +
      'and unknown signatures, and retry failed deliveries on a backoff schedule that honours Retry-After, ' +
      'in order, from a durable queue.',
  },
  'resume-cursors': {
    id: 'resume-cursors',
    title: 'Resume cursors',
    what:
      'Number every event and let a client resume after the last one it applied (Last-Event-ID, ?after=seq, ' +
      'socket recovery), dropping duplicates: a dropped connection then loses nothing and repeats nothing.',
  },
  'back-pressure': {
    id: 'back-pressure',
    title: 'Back-pressure',
    what:
      'Bound what each client and all clients together may hold (connections, queued tasks, send buffers) ' +
      'and refuse past it with 429/503 and Retry-After, which clients honour with jitter: an overloaded ' +
      'server then says so instead of getting slower for everyone.',
  },
  heartbeats: {
    id: 'heartbeats',
    title: 'Heartbeats',
    what:
      'Send something on a quiet connection more often than the shortest idle timeout on the path (15 s ' +
      'here; proxies often cut at 30–60 s), and treat a missed heartbeat as a dead connection.',
  },
  'timeouts-and-recovery': {
    id: 'timeouts-and-recovery',
    title: 'Timeouts and a way to recover',
    what:
      'Give the held request a timeout below every gateway’s on the path, and answer it with the task’s ' +
      'address (504 + Location) so that a client can find the result instead of starting again.',
  },
  'reconnect-with-jitter': {
    id: 'reconnect-with-jitter',
    title: 'Reconnect with jittered backoff',
    what:
      'Reconnect after a growing, randomised delay: after a restart every client reconnecting at once is a ' +
      'storm that keeps the server down.',
  },
  'no-buffering': {
    id: 'no-buffering',
    title: 'Buffering off on the stream’s route',
    what:
      'Tell every proxy on the path not to buffer the stream (X-Accel-Buffering: no, proxy_buffering off): ' +
      'buffered, its events arrive in one lump at the end (the "proxy that buffers" scenario).',
  },
  reconciliation: {
    id: 'reconciliation',
    title: 'Reconciliation',
    what:
      'Poll the task’s state when a delivery is overdue: a receiver that was down past the last retry ' +
      'still learns the outcome.',
  },
};
