import type {
  ClockEstimate,
  ClockSample,
  DeliveriesResponse,
  FaultRecord,
  LaneId,
  PageBusy,
  PerceivedMetrics,
  PublicSettings,
  RaceSettings,
  ViewMode,
  WireReport,
} from '@transport-lab/shared';
import type { StateCreator } from 'zustand';
import type { PageBusyMonitor } from '../lib/page-busy.ts';
import type { TransportRegistry } from '../transports/registry.ts';
import type {
  LaneError,
  LanePath,
  LaneReport,
  PollRecord,
  PushLaneId,
  RelayHop,
} from '../transports/types.ts';
import type { WireCounts } from '../transports/wire.ts';
import type { FrameScheduler } from './frame-batcher.ts';
import type { RaceLog } from './race-log.ts';
import type { RoomDeps, RoomSlice } from './room-types.ts';

export { VIEW_MODES, type ViewMode } from '@transport-lab/shared';

/** The form as typed: kept as text so that a half-typed value can be shown with its error. */
export interface SpecInput {
  durationMs: string;
  steps: string;
  /** Empty: the task never fails. */
  failAtStep: string;
}
export type SpecField = keyof SpecInput;

/** The lane settings as typed; `hybridPushLane` comes from a select and is always one of the push lanes. */
export interface LaneSettingsInput {
  /** Empty: the server's Retry-After. */
  pollIntervalMs: string;
  longPollWaitMs: string;
  hybridWaitS: string;
  hybridPushLane: PushLaneId;
}
export type LaneSettingField = Exclude<keyof LaneSettingsInput, 'hybridPushLane'>;

/** `GET /api/settings`, fetched once when the page opens. */
export interface ServerSettingsState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  settings?: PublicSettings;
  error?: string;
}

export interface SettingsSlice {
  /** Lanes this client implements (the registry's), in page order: the only ones offered. */
  availableLanes: readonly LaneId[];
  specInput: SpecInput;
  selectedLanes: LaneId[];
  viewMode: ViewMode;
  laneSettingsInput: LaneSettingsInput;
  server: ServerSettingsState;
  setSpecField(field: SpecField, value: string): void;
  setLaneSetting(field: LaneSettingField, value: string): void;
  setHybridPushLane(lane: PushLaneId): void;
  loadServerSettings(): Promise<void>;
  setLaneSelected(id: LaneId, selected: boolean): void;
  setViewMode(mode: ViewMode): void;
  /** What the page's link asked for that could not be used, said once on the page. */
  linkNotes: string[];
  dismissLinkNotes(): void;
}

/** The settings a link carries. */
export interface LinkSettingsState {
  specInput: SpecInput;
  selectedLanes: LaneId[];
  laneSettingsInput: LaneSettingsInput;
  viewMode: ViewMode;
}

/** `error`: the lane could not carry the task to its end (network, 504, …); `failed` is the task's own. */
export type LaneStatus = 'idle' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'error';

/** One lane's run, as measured. Times are client epoch ms; `shownAt` = the frame that put it on screen. */
export interface LaneRunState {
  status: LaneStatus;
  /** The status line: what the lane is doing or how it ended. */
  detail: string;
  taskId?: string;
  /**
   * The task's correlation id (W3C trace-id): chosen by the page at the start and sent with the
   * create, then the one the server's state names (the id in its logs and webhook deliveries).
   */
  traceId?: string;
  step: number;
  steps?: number;
  percent: number;
  /** Seq of the newest event applied. */
  lastSeq: number;
  eventsApplied: number;
  firstFeedbackAt?: number;
  /** Each progress value that reached the screen, with the server time it describes. */
  progressShown: Array<{ serverAt: number; shownAt: number }>;
  /** Server clock: when the task ended. */
  serverFinishedAt?: number;
  /** When the page showed the server's word that the task ended. */
  finishedShownAt?: number;
  /** When the card stopped running, for whatever reason. */
  endedAt?: number;
  wire: WireCounts;
  error?: LaneError;
  /** The task's own failure (`failed` event or state). */
  failure?: { code: string; message: string };
  /** What a recovery fetch after an error found. */
  recovered?: { status: string; step: number; steps: number; percent: number; shownAt: number };
  notes: string[];
  /** Set when progress ages were measured from a lower bound of the server time: upper bounds. */
  progressAgeBound?: 'upper';
  /** Every poll of a polling lane, in order, with the frame that showed it. */
  polls?: Array<PollRecord & { shownAt: number }>;
  /** Polls that brought nothing new. */
  wastedPolls?: number;
  /** Times a stream dropped and the browser reconnected. */
  reconnects?: number;
  /** The hybrid's path. */
  path?: LanePath;
  /** Each relayed webhook event's hop times, with the frame that showed the event. */
  hops?: Array<RelayHop & { shownAt: number }>;
  /** The webhook delivery log, as last fetched. */
  deliveries?: DeliveriesResponse;
  /** The most the server ran behind its own schedule for this lane's task, ms, from the events'
   *  `dueAt` or the states' `latenessMs`; absent when the server said nothing of it. */
  serverLatenessMs?: number;
  /** Server clock: when the server accepted the task (its `queued` event, its state's `createdAt`). */
  serverQueuedAt?: number;
  /** Server clock: when a worker took it (its `started` event, its state's `startedAt`). Queue time
   *  is the one minus the other (`laneQueueMs`): both the server's, so no clock offset enters. */
  serverStartedAt?: number;
  /** While it waits for a worker: its place in the queue, 1 = next (the queued event's, or the
   *  latest state's). */
  queuePosition?: number;
  /** The first place the card showed, kept after the task started: what a check reads. */
  firstQueuePosition?: number;
  /** A replayed recording's queue time, ms, as the export recorded it (`measurements.queueMs`). */
  recordedQueueMs?: number;
  /**
   * A replayed recording's figures, as the export recorded them: shown instead of being computed
   * from this state (`laneMetrics`), so that a replay never shows a figure the race did not.
   */
  recordedMetrics?: PerceivedMetrics;
}

/** What the page says of a recording while it is shown instead of a live race. */
export interface RecordingInfo {
  /** The file or address it was opened from. */
  source: string;
  /** When its race was exported (page clock of the recording, epoch ms). */
  exportedAt: number;
  /** The page's origin where the race ran; absent in files from before it was written. */
  origin?: string;
  /** The race's id on the wire. */
  runTag: string;
}

/** One moment of a replay: the race state and its timeline log as they were then. */
export interface RecordedMoment {
  race: Omit<RaceState, 'runId' | 'recording'>;
  log: Omit<RaceLog, 'runId'>;
  clock: ClockEstimate | undefined;
}

export interface RaceState {
  /** Grows by one per Start; reports of an older run are ignored. */
  runId: number;
  /**
   * The user's action: the timestamp of the animation frame in which every lane of the race was
   * started (client epoch ms). The same for all lanes; 0 on the timeline.
   */
  actionAt?: number;
  /** When the button was pressed (client epoch ms): the frame came this much later. */
  pressedAt?: number;
  /** The lane run by itself ("Run alone"), when this race has one lane by choice. */
  alone?: LaneId;
  /** Every lane's run has settled: its byte counts are all in. */
  settled: boolean;
  /** The race's id on the wire (`RunId`): every lane tags its traffic with it and its lane id. */
  runTag?: string;
  /** What the race ran with, validated: the export and its link say it. */
  settings?: RaceSettings;
  /** The server's own count of this race's traffic, fetched once the race has settled. */
  wire: WireReportState;
  lanes: Partial<Record<LaneId, LaneRunState>>;
  /** This race's completion messages, oldest first, for the live region (each added once). */
  announcements: Array<{ id: number; text: string }>;
  /** How busy the page's own main thread was during the race, read once every lane had settled. */
  pageBusy?: PageBusy;
  /** Set while a recorded race is replayed: nothing live starts, connects or fetches for it. */
  recording?: RecordingInfo;
}

export interface WireReportState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  report?: WireReport;
  /** False while the server still had some of the run's exchanges open when it last answered. */
  final?: boolean;
  error?: string;
}

export interface LaneReportItem {
  runId: number;
  lane: LaneId;
  report: LaneReport;
}

export interface StartOptions {
  /** Run this lane by itself with the current task ("Run alone"). */
  only?: LaneId;
  /** When the button was pressed (client epoch ms), for the record. */
  pressedAt?: number;
  /**
   * Every lane connects at Start, as on a first visit: a connection opened ahead for the next race is
   * not adopted (a guided scenario about round trips counts the websocket's own connect).
   */
  cold?: boolean;
  /**
   * The race's run id, chosen by the caller: a guided scenario that prepares the server for the race
   * first (a busy backend of its own) names the run before it starts. A connection opened ahead under
   * another tag is then not adopted.
   */
  runTag?: string;
}

export interface RaceSlice {
  race: RaceState;
  /**
   * The fair start: asks for one animation frame and starts every lane of the race in its callback,
   * with that frame's timestamp as everyone's action time.
   */
  requestStart(options?: StartOptions): void;
  /** Starts every selected lane (or the one of `only`) now, in this tick. `actionAt` defaults to now. */
  startRace(actionAt?: number, options?: StartOptions): void;
  /**
   * While no race runs: has the selected lanes that keep a connection open (the websocket) open it now
   * for the next race, so that its connect is not on that race's clock. Again when the conditions
   * changed (`connectionEpoch`) or that connection was lost; nothing when it is still good.
   */
  prepareNextRace(): void;
  /** Fetches the server's count of the settled race (again, if asked); waits while it has exchanges open. */
  loadWireReport(): Promise<void>;
  /** The race's timeline log: plain arrays, appended per frame, not state. */
  raceLog(): RaceLog;
  /** Called after each frame's reports are recorded, and when a race starts; returns an unsubscribe. */
  subscribeRaceLog(listener: () => void): () => void;
  cancelRace(): void;
  recoverLane(id: LaneId): void;
  /**
   * A fault the server applied to this race (`record`, from `POST /api/faults` or the run's list):
   * kept in the race log for the timeline and the export, announced once. A record already known, or
   * of another race, is ignored.
   */
  recordFault(runTag: string, record: FaultRecord, receivedAt: number): void;
  /** Applies a frame's worth of reports at once; `shownAt` is that frame's time. */
  applyReports(items: readonly LaneReportItem[], shownAt: number): void;
  /**
   * Shows a moment of a recorded race (features/replay) in place of the live one: its lanes, log,
   * clock estimate and the lanes it raced. Called again for each moment of the playback.
   */
  showRecording(info: RecordingInfo, moment: RecordedMoment): void;
  /** Back to live: an empty race, the page's own clock measured again. */
  leaveRecording(): void;
}

export interface ClockState {
  status: 'idle' | 'measuring' | 'ready' | 'error';
  estimate?: ClockEstimate;
  error?: string;
}

export interface ClockSlice {
  clock: ClockState;
  measureClock(): Promise<void>;
}

export type AppState = SettingsSlice & RaceSlice & ClockSlice & RoomSlice;

export type SliceCreator<T> = StateCreator<AppState, [], [], T>;

export interface RenderGate {
  hold(): void;
  release(): void;
}

export interface StoreDeps {
  registry: TransportRegistry;
  now(): number;
  /** When batched reports reach the state: once per animation frame in the browser. */
  schedule: FrameScheduler;
  /**
   * Runs a callback in the next animation frame with that frame's time (client epoch ms): the race
   * starts there. Defaults to `schedule` with `now()`.
   */
  startFrame?(callback: (frameAt: number) => void): void;
  sampleClock(): Promise<ClockSample>;
  /** `GET /api/settings`; without it the page runs on the lanes' defaults. */
  loadSettings?(): Promise<PublicSettings>;
  /** A fresh `RunId` for each race; defaults to 32 random hex digits. */
  newRunId?(): string;
  /** A new W3C trace-id for each lane's task of a race (tests fix it). */
  newTraceId?(): string;
  /** `GET /api/wire/{runId}`: the lab's own request, untagged. Without it no server count is shown. */
  loadWireReport?(runId: string): Promise<WireReport>;
  /** Resolves after `ms`: the pause before asking again for a wire report still open. */
  wait?(ms: number): Promise<void>;
  initialViewMode?: ViewMode;
  /** Settings from the page's link (`?durationMs=…&lanes=…`), and what in it could not be used. */
  initialLink?: { settings: Partial<LinkSettingsState>; notes: string[] };
  /** The room socket, storage and device; without it the page offers no rooms. */
  room?: RoomDeps;
  /** `?room=CODE` as the page was opened: the join form starts filled in. */
  initialRoomCode?: string;
  /** The page's own long frames; without it a race says nothing of the page's busyness. */
  pageBusy?: PageBusyMonitor;
  /**
   * Holds the page's render of state changes until `release` (the next frame's batch): a race's start
   * changes the state at once and renders with its first batch. Without it, every change renders as
   * it comes.
   */
  renderGate?: RenderGate;
  /** Called in each frame that applied reports, after them: what else may render in that frame. */
  onFrame?(): void;
  /**
   * Names the network conditions under which a connection opened now would run (the browser's
   * link), or undefined while they are changing. A connection opened ahead of a race is used only
   * under the conditions it was opened under. Without it, conditions are taken never to change.
   */
  connectionEpoch?(): string | undefined;
}
