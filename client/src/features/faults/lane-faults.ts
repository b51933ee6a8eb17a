import type { Fault, LaneId, PushLaneId } from '@transport-lab/shared';

/**
 * Whether a fault reaches a lane (issue 12, item 6: faults marked on the cards they hit): a drop or a
 * blackhole, its own lane; a restart or a stalled downstream, every lane; the webhook receiver's faults, the webhook;
 * a buffering proxy, the event streams (SSE, the webhook relay, and the hybrid when it pushes by SSE);
 * lost create answers, every lane that creates with `POST /api/tasks`; a proxy's idle timeout, the held
 * answers; forged webhooks, the webhook; a busy backend, every lane (each task waits for its workers).
 */
export function faultHitsLane(fault: Fault, lane: LaneId, hybridPushLane: PushLaneId | undefined): boolean {
  switch (fault.kind) {
    case 'drop-connections':
    case 'blackhole-connections':
      return fault.lane === lane;
    case 'restart-server':
    case 'slow-downstream':
    case 'busy-backend':
      return true;
    case 'receiver':
      return lane === 'webhook';
    case 'buffer-streams':
      return lane === 'sse' || lane === 'webhook' || (lane === 'hybrid' && hybridPushLane === 'sse');
    case 'lose-answers':
      // The answers to `POST /api/tasks`: every lane that creates its task there.
      return lane !== 'request-response' && lane !== 'websocket';
    case 'idle-timeout':
      // Held GET answers of the API that can fall quiet: a long poll, a stream.
      return lane === 'long-polling' || lane === 'sse' || lane === 'hybrid';
    case 'attack-webhooks':
      return lane === 'webhook';
  }
}
