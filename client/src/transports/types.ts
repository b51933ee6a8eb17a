import type { LaneId, TaskEvent, TaskSpec, TaskState } from '@transport-lab/shared';

/** What a lane put on the wire for one run, headers and framing included. */
export interface WireDelta {
  /** HTTP requests sent, WebSocket handshakes included. */
  requests?: number;
  /** Bytes sent, as on the wire; absent when this report did not measure them. */
  bytesUp?: number;
  /** Bytes received, as on the wire; absent when this report did not measure them. */
  bytesDown?: number;
}

/** Why a lane could not carry its task to the end (the task's own `failed` is not an error here). */
export interface LaneError {
  /** An `ErrorCode` from the server's envelope, or a client one: NETWORK, CONNECT_FAILED, BAD_RESPONSE, … */
  code: string;
  message: string;
  /** HTTP status, when the error came as an HTTP answer. */
  status?: number;
  /** The task, when the server created one before the lane gave up (a 504 names it). */
  taskId?: string;
  /** Where the task's state can be fetched to recover it (the 504's `Location`). */
  location?: string;
  /** True when the server answered: that answer was feedback the user saw. */
  fromServer: boolean;
}

/**
 * Everything a lane run tells the page, each stamped with its receipt time `at` on the client clock
 * (`clientNow()`, epoch ms). Events arrive de-duplicated and in seq order.
 */
export type LaneReport =
  /** A whole task state arrived: an acknowledgement, a final answer. */
  | { type: 'task'; task: TaskState; at: number }
  /** One task event, in seq order, each seq once. */
  | { type: 'event'; event: TaskEvent; at: number }
  | { type: 'wire'; delta: WireDelta; at: number }
  /** The link's own state, for the status line (connecting, reconnecting, …). */
  | { type: 'link'; detail: string; at: number }
  /** Something the measurement could not see, said on the card rather than hidden. */
  | { type: 'note'; text: string; at: number }
  | { type: 'error'; error: LaneError; at: number }
  /** The client gave up on the task before the server said it ended (an aborted request). */
  | { type: 'aborted'; at: number }
  /** The answer to a recovery fetch after an error: the task as the server knows it now. */
  | { type: 'recovered'; task: TaskState; at: number };

export type Report = (report: LaneReport) => void;

/** One run of one lane. */
export interface LaneRun {
  /** Asks the server to cancel, or abandons the request where that is how the lane cancels. */
  cancel(): void;
  /** After a recoverable error (a 504 with a `Location`), fetches the task's state once; settles after. */
  recover?(): Promise<void>;
  /** Settles when the run has nothing more to report. */
  readonly done: Promise<void>;
}

/** One interface for every lane, as tRPC's links: the page drives all of them the same way. */
export interface TransportClient {
  readonly id: LaneId;
  /** Starts the task now (synchronously puts the first bytes on their way) and reports as it goes. */
  run(spec: TaskSpec, report: Report): LaneRun;
}
