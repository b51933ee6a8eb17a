import type { ClockEstimate, ClockSample, LaneId } from '@transport-lab/shared';
import type { StateCreator } from 'zustand';
import type { TransportRegistry } from '../transports/registry.ts';
import type { LaneError, LaneReport } from '../transports/types.ts';
import type { WireCounts } from '../transports/wire.ts';
import type { FrameScheduler } from './frame-batcher.ts';

export const VIEW_MODES = ['auto', 'desktop', 'phone', 'projector'] as const;
export type ViewMode = (typeof VIEW_MODES)[number];

/** The form as typed: kept as text so that a half-typed value can be shown with its error. */
export interface SpecInput {
  durationMs: string;
  steps: string;
  /** Empty: the task never fails. */
  failAtStep: string;
}
export type SpecField = keyof SpecInput;

export interface SettingsSlice {
  /** Lanes this client implements (the registry's), in page order: the only ones offered. */
  availableLanes: readonly LaneId[];
  specInput: SpecInput;
  selectedLanes: LaneId[];
  viewMode: ViewMode;
  setSpecField(field: SpecField, value: string): void;
  setLaneSelected(id: LaneId, selected: boolean): void;
  setViewMode(mode: ViewMode): void;
}

/** `error`: the lane could not carry the task to its end (network, 504, …); `failed` is the task's own. */
export type LaneStatus = 'idle' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'error';

/** One lane's run, as measured. Times are client epoch ms; `shownAt` = the frame that put it on screen. */
export interface LaneRunState {
  status: LaneStatus;
  /** The status line: what the lane is doing or how it ended. */
  detail: string;
  taskId?: string;
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
}

export interface RaceState {
  /** Grows by one per Start; reports of an older run are ignored. */
  runId: number;
  /** When Start was pressed (client epoch ms). */
  actionAt?: number;
  lanes: Partial<Record<LaneId, LaneRunState>>;
  /** This race's completion messages, oldest first, for the live region (each added once). */
  announcements: Array<{ id: number; text: string }>;
}

export interface LaneReportItem {
  runId: number;
  lane: LaneId;
  report: LaneReport;
}

export interface RaceSlice {
  race: RaceState;
  /** Starts every selected lane in this tick. `actionAt` defaults to now. */
  startRace(actionAt?: number): void;
  cancelRace(): void;
  recoverLane(id: LaneId): void;
  /** Applies a frame's worth of reports at once; `shownAt` is that frame's time. */
  applyReports(items: readonly LaneReportItem[], shownAt: number): void;
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

export type AppState = SettingsSlice & RaceSlice & ClockSlice;

export type SliceCreator<T> = StateCreator<AppState, [], [], T>;

export interface StoreDeps {
  registry: TransportRegistry;
  now(): number;
  /** When batched reports reach the state: once per animation frame in the browser. */
  schedule: FrameScheduler;
  sampleClock(): Promise<ClockSample>;
  initialViewMode?: ViewMode;
}
