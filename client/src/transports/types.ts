import type {
  DeliveriesResponse,
  LabTag,
  LaneId,
  LaneSettings,
  PublicSettings,
  PushLaneId,
  TaskEvent,
  TaskSpec,
  TaskState,
} from '@transport-lab/shared';
import type { AsyncDeps, Follower } from './async-task.ts';

/** What a lane put on the wire for one run, headers and framing included. */
export interface WireDelta {
  /** HTTP requests sent, WebSocket handshakes included. */
  requests?: number;
  /** Bytes sent, as on the wire; absent when this report did not measure them. */
  bytesUp?: number;
  /** Bytes received, as on the wire; absent when this report did not measure them. */
  bytesDown?: number;
  /**
   * Exchanges whose bytes up could not be measured (an EventSource shows no answer headers, so no
   * `x-request-bytes`): the lane's byte total is then a lower bound. Negative when a later measurement
   * replaces an earlier count.
   */
  unmeasuredUp?: number;
  /** Exchanges whose bytes down are counted only in part (a stream's frames before its end), or not at all. */
  unmeasuredDown?: number;
  /**
   * New connections the page saw an exchange open: Resource Timing's `connectStart`/`connectEnd` show a
   * connection made for it (a reused one reads both as `fetchStart`); a WebSocket is one per handshake.
   */
  connections?: number;
  /** Exchanges whose Resource Timing entry could not tell whether they opened a connection. */
  unmeasuredConnections?: number;
}

/** What travels in one exchange: an HTTP request and its answer, an event stream, a WebSocket. */
export type ExchangeKind = 'http' | 'stream' | 'socket';

/** How an exchange ended: answered (any status), failed on the network, or abandoned by the page. */
export type ExchangeOutcome = 'answered' | 'failed' | 'aborted' | 'closed';

/** One poll of a polling lane: a `GET` that brought news, brought nothing new (wasted), or failed. */
export interface PollRecord {
  outcome: 'news' | 'wasted' | 'error';
  /** HTTP status of the answer; absent when none came. */
  status?: number;
  /** What the poll brought, in words: "304 Not Modified", "3 events", "network error". */
  label: string;
}

/** Which way a hybrid run went: the answer itself, or a 202 and then a push lane. */
export interface LanePath {
  kind: 'answered' | 'pushed';
  /** "Answered in 1 request", "202 → SSE". */
  text: string;
  /** What the server said it did: its `Preference-Applied`. */
  detail?: string;
}

/** A relayed webhook's times, for the delivery and relay hops (server and receiver share one clock). */
export interface RelayHop {
  seq: number;
  /** The event's own time, server clock. */
  eventAt: number;
  /** When the receiver ("your backend") accepted the delivery, server clock. */
  receivedAt: number;
  /** When the receiver relayed it to the page, server clock. */
  relayedAt: number;
  /** Which delivery attempt got through. */
  attempt: number;
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
  /**
   * A whole task state arrived: an acknowledgement, a final answer, a poll. `progress` is the server
   * time of the progress value it shows, when the lane knows one; `exact: false` says it is a lower
   * bound of that time (so the age computed from it is an upper bound).
   */
  | { type: 'task'; task: TaskState; at: number; progress?: { serverAt: number; exact: boolean } }
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
  | { type: 'recovered'; task: TaskState; at: number }
  /** One poll answered (or failed): the card draws every poll and counts the wasted ones. */
  | { type: 'poll'; poll: PollRecord; at: number }
  /** How often the lane's stream has dropped and been reopened by the browser: 0 when it first opens. */
  | { type: 'reconnect'; count: number; at: number }
  /** Which path a hybrid run took. */
  | { type: 'path'; path: LanePath; at: number }
  /** A relayed webhook event was applied: its hop times. Reported right after its `event`. */
  | { type: 'relay'; hop: RelayHop; at: number }
  /** The webhook delivery log as the server keeps it (fetched by the lab, not the lane's cost). */
  | { type: 'deliveries'; log: DeliveriesResponse; at: number }
  /**
   * For the timeline, each exchange on the wire: `sent` when it leaves (`id` unique in the page),
   * `opened` when a stream's or socket's connection is up, `ended` when its answer is whole or it
   * failed, closed or was abandoned. `at` is the moment itself, not when the report was read.
   */
  | { type: 'sent'; id: number; kind: ExchangeKind; label: string; at: number }
  | { type: 'opened'; id: number; at: number }
  | { type: 'ended'; id: number; outcome: ExchangeOutcome; status?: number; at: number }
  /** One WebSocket frame, for the timeline (its bytes are in a `wire` report too). */
  | { type: 'frame'; direction: 'up' | 'down'; bytes: number; at: number };

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

// The lane settings and the push lanes are protocol (a link and an export name them): defined in shared.
export { DEFAULT_LANE_SETTINGS, type LaneSettings, PUSH_LANES, type PushLaneId } from '@transport-lab/shared';

/** What a run may need beyond the task: the person's lane settings and the server's public settings. */
export interface RunOptions {
  settings: LaneSettings;
  /** `GET /api/settings`, when the page has it; a lane that needs it and lacks it fetches it. */
  server?: PublicSettings;
  /** The lane and race to tag the run's traffic with, for the server's own count. */
  tag?: LabTag;
  /**
   * The run's task's correlation id (a W3C trace-id, chosen by the page): the request that creates
   * the task carries it in a `traceparent` (a socket's `task:start` in its payload), and the server
   * adopts it, so that the id the page shows is the one in the server's logs and webhook deliveries.
   */
  traceId?: string;
}

/** One interface for every lane, as tRPC's links: the page drives all of them the same way. */
export interface TransportClient {
  readonly id: LaneId;
  /** Starts the task now (synchronously puts the first bytes on their way) and reports as it goes. */
  run(spec: TaskSpec, report: Report, options?: RunOptions): LaneRun;
  /**
   * Opens, ahead of the race tagged `tag`, the connection its run will use (a lane that keeps one
   * open, as an application keeps its socket): a run with that same tag adopts it, with everything it
   * carried counted; any other run, or another call, closes it.
   */
  preconnect?(tag: LabTag): void;
  /** The tag of the connection opened ahead and still usable, if there is one. */
  preconnected?(): LabTag | undefined;
  /**
   * A push lane lends its own follower (what it does after the `202`) to a lane that composes it: the
   * hybrid hands a task it did not get the answer for to the chosen push lane's `follow`, so a lane is
   * reached through this list, never imported by another (registry.ts composes them).
   */
  follow?: PushFollow;
}

/** Follows an already-created task to its end on one push lane's channel, with that lane's settings. */
export type PushFollow = (
  deps: AsyncDeps,
  task: TaskState,
  report: Report,
  options: RunOptions | undefined,
) => Follower;

/** The push lanes' followers, by lane: registry.ts gathers them from the lanes' clients (`follow`). */
export type PushFollowers = Partial<Record<PushLaneId, PushFollow>>;

/**
 * What each lane folder's `index.ts` exports as its default: how registry.ts makes the lane's client
 * from what it composes. The registry finds the folders by the shared `LANE_IDS`, so a new lane is
 * its folder and its entry in that list. A lane that follows other lanes' pushes (the hybrid) says
 * `composes: 'push-followers'` and is handed them, never importing another lane.
 */
export type ClientLane =
  | { readonly id: LaneId; readonly composes?: undefined; create(): TransportClient }
  | {
      readonly id: LaneId;
      readonly composes: 'push-followers';
      create(followers: PushFollowers): TransportClient;
    };
