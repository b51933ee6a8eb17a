import type {
  DeviceClass,
  Fault,
  Participant,
  ParticipantId,
  RaceAggregate,
  RaceId,
  RaceProgress,
  RaceResult,
  RoomEnded,
  RoomFault,
  RoomRace,
  RoomRaceExport,
  RoomScenario,
} from '@transport-lab/shared';
import type { RoomConnection } from '../services/room-connection.ts';
import type { KeyValueStorage } from '../services/room-storage.ts';

/*
 * The room slice's state and actions, apart from room-slice.ts so that the store's AppState
 * (types.ts) can name them without importing the slice that imports it.
 */

/** What the room needs from the browser; tests hand in fakes. */
export interface RoomDeps {
  /** Opens the `/room` namespace on a connection of its own. */
  connect(): RoomConnection;
  /** Where a room's participant token and presenter secret are kept across reloads (localStorage). */
  storage: KeyValueStorage;
  device(): DeviceClass;
  /**
   * After every lane has ended, how long to wait for the byte counts to settle (a stream's last bytes,
   * a socket's close) before reporting anyway, ms.
   */
  settleWaitMs?: number;
  /** A race that has not started this long after `room:race` is reported as not run, ms. */
  startGuardMs?: number;
  /** Timers, so tests can run them by hand. */
  setTimer?(callback: () => void, ms: number): () => void;
  /** Applies a fault to this page's own race (`POST /api/faults`); resolves to its summary. */
  injectFault?(fault: Fault): Promise<string>;
}

export type RoomPhase = 'idle' | 'connecting' | 'joined' | 'ended';
export type RoomScreen = 'race' | 'room';
export type RoomAction =
  | 'create'
  | 'join'
  | 'scenario'
  | 'start'
  | 'fault'
  | 'end'
  | 'leave'
  | 'result'
  | 'clock';

/** A refusal or failure, shown where the action was taken. `code` is the server's ErrorCode or a client one. */
export interface RoomProblem {
  action: RoomAction;
  code: string;
  message: string;
}

/** This page's own run of the room's race (audience), from `room:race` to its `room:result`. */
export interface MyRoomRace {
  raceId: RaceId;
  status: 'running' | 'reporting' | 'reported' | 'failed';
  /** What was sent (or is to be sent): shown beside the page's own table. */
  result?: RaceResult;
  problem?: RoomProblem;
}

export interface RoomSessionState {
  phase: RoomPhase;
  /** The page shows the race or the room; a presenter can go back to the race settings and return. */
  screen: RoomScreen;
  /** The join form's code as typed (prefilled from `?room=`). */
  joinCode: string;
  /** The name as typed; empty: anonymous. */
  nameInput: string;
  /** The room's code once in it. */
  code?: string;
  role?: 'presenter' | 'audience';
  self?: ParticipantId;
  participants: Participant[];
  scenario?: RoomScenario;
  maxParticipants?: number;
  race?: RoomRace;
  progress?: RaceProgress;
  aggregate?: RaceAggregate;
  mine?: MyRoomRace;
  /** The room socket: `none` before any, `offline` while socket.io reconnects. */
  connection: 'none' | 'online' | 'offline';
  /** Set once the room has ended. */
  endedReason?: RoomEnded['reason'];
  /** The last refusal or failure. */
  problem?: RoomProblem;
  /** An action waiting for its acknowledgement: its button is disabled meanwhile. */
  pending?: RoomAction;
  /** Server messages that did not parse and were dropped. */
  ignoredMessages: number;
  /** Joins, leaves, results: read out by the live region, oldest first. */
  announcements: Array<{ id: number; text: string }>;
}

export interface RoomSlice {
  room: RoomSessionState;
  setRoomScreen(screen: RoomScreen): void;
  setRoomJoinCode(text: string): void;
  setRoomName(text: string): void;
  /** Opens a room with this page's race settings as its scenario; this page presents it. */
  createRoom(): Promise<void>;
  /** Joins the room of the form's code, as the same participant (and presenter) if this browser was. */
  joinRoom(): Promise<void>;
  /** On load with `?room=CODE`: rejoins at once if this browser holds that room's credentials. */
  rejoinFromLink(): Promise<void>;
  leaveRoom(): Promise<void>;
  /** Presenter: the room's scenario becomes this page's current race settings. */
  applyMyRaceSettings(): Promise<void>;
  startForEveryone(): Promise<void>;
  /** Presenter: every audience page applies this fault to its own run of the current race. */
  injectFaultForEveryone(fault: RoomFault): Promise<void>;
  endRoom(): Promise<void>;
  dismissRoomProblem(): void;
  /**
   * The room's current race as a file (`RoomRaceExport`): the race, who is in the room, and every
   * progress count and aggregate this page received, with when. Undefined before any race.
   */
  roomRaceExport(exportedAt: number, origin?: string): RoomRaceExport | undefined;
}
