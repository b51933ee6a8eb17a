import {
  CreateRoomAck,
  type CreateRoomRequest,
  DisplayName,
  PROTOCOL_VERSION,
  ROOM_EVENTS,
  ROOM_RACE_EXPORT_VERSION,
  RoomAck,
  RoomCode,
  StartRaceAck,
} from '@transport-lab/shared';
import { forgetCredentials, loadCredentials, saveCredentials } from '../services/room-storage.ts';
import type { RoomSlice } from './room-types.ts';
import { scenarioFromSettings } from './room-values.ts';
import type { SliceCreator, StoreDeps } from './types.ts';

export type {
  MyRoomRace,
  RoomAction,
  RoomDeps,
  RoomPhase,
  RoomProblem,
  RoomScreen,
  RoomSessionState,
  RoomSlice,
} from './room-types.ts';
export {
  laneSettingsInputOf,
  participantLabel,
  problemText,
  raceResultOf,
  type ScenarioFromSettings,
  sameScenario,
  scenarioFromSettings,
  specInputOf,
} from './room-values.ts';

import { RoomSession } from './room-session.ts';

export { SETTLE_WAIT_MS, START_GUARD_MS } from './room-session.ts';

/** Credentials and connection live outside the state: nothing on screen may ever render the secret. */
export const createRoomSlice =
  (deps: StoreDeps): SliceCreator<RoomSlice> =>
  (set, get, api) => {
    const session = new RoomSession(deps, get, set, api);
    // The clock is measured by the clock slice; it is reported as soon as there is one and a room.
    api.subscribe((state, previous) => {
      if (state.clock !== previous.clock || state.room.phase !== previous.room.phase) session.reportClock();
    });

    const initialCode = deps.initialRoomCode;

    return {
      room: {
        phase: 'idle',
        screen: initialCode ? 'room' : 'race',
        joinCode: initialCode ?? '',
        nameInput: '',
        participants: [],
        connection: 'none',
        ignoredMessages: 0,
        announcements: [],
      },

      setRoomScreen: (screen) => session.patch({ screen }),
      setRoomJoinCode: (text) => session.patch({ joinCode: text }),
      setRoomName: (text) => session.patch({ nameInput: text }),
      dismissRoomProblem: () => session.patch({ problem: undefined }),

      async createRoom() {
        const state = get();
        if (state.room.pending || state.room.phase === 'joined' || !deps.room) return;
        const name = DisplayName.safeParse(state.room.nameInput);
        const scenario = scenarioFromSettings(state);
        const request: CreateRoomRequest = {
          device: deps.room.device(),
          ...(name.success ? { name: name.data } : {}),
          ...(scenario.ok ? { scenario: scenario.scenario } : {}),
        };
        session.patch({ phase: 'connecting', pending: 'create', problem: undefined, endedReason: undefined });
        session.openConnection();
        const outcome = await session.ask('create', CreateRoomAck, ROOM_EVENTS.create, request);
        if (!outcome.ok) {
          session.closeConnection();
          session.wasOnline = false;
          session.patch({ phase: 'idle', connection: 'none' });
          session.fail(outcome.problem);
          return;
        }
        const { room, self, presenterSecret, participantToken } = outcome.value;
        session.credentials = {
          participantId: self,
          token: participantToken,
          presenterSecret,
          ...(name.success ? { name: name.data } : {}),
        };
        saveCredentials(deps.room.storage, room.code, session.credentials);
        session.enter(room, self, 'presenter');
        session.announce(`Room ${room.code} is open.`);
      },

      async joinRoom() {
        const state = get();
        if (state.room.pending || state.room.phase === 'joined' || !deps.room) return;
        const code = RoomCode.safeParse(state.room.joinCode);
        if (!code.success) {
          session.fail({
            action: 'join',
            code: 'VALIDATION_FAILED',
            message: 'A room code is 8 letters and digits, like ABCD-EFGH.',
          });
          return;
        }
        const name = DisplayName.safeParse(state.room.nameInput);
        const stored = loadCredentials(deps.room.storage, code.data);
        const useName = name.success ? name.data : stored?.name;
        session.patch({ phase: 'connecting', pending: 'join', problem: undefined, endedReason: undefined });
        session.openConnection();
        const outcome = await session.joinWith(code.data, stored, useName);
        if (!outcome.ok) {
          session.closeConnection();
          session.wasOnline = false;
          // A room that is gone (ended, or lost with a server restart) takes this browser's place in it along.
          if (stored && (outcome.problem.code === 'NOT_FOUND' || outcome.problem.code === 'ROOM_ENDED')) {
            forgetCredentials(deps.room.storage, code.data);
          }
          session.patch({ phase: 'idle', connection: 'none' });
          session.fail(outcome.problem);
          return;
        }
        session.announce(
          outcome.value.role === 'presenter'
            ? `You present room ${outcome.value.room.code}.`
            : `You joined room ${outcome.value.room.code}.`,
        );
        // A reload in the middle of the room's race cut this page's run short: the room still counts
        // on its result, so it runs the race again from here (its figures are those of this new run).
        const race = outcome.value.room.race;
        if (
          outcome.value.role === 'audience' &&
          race &&
          stored?.racing === race.raceId &&
          stored.reported !== race.raceId
        ) {
          session.announce('The race you were running was cut short by the reload: running it again.');
          session.runRoomRace(race);
        }
      },

      async rejoinFromLink() {
        const { room } = get();
        if (room.phase !== 'idle' || !deps.room) return;
        const code = RoomCode.safeParse(room.joinCode);
        if (!code.success || !loadCredentials(deps.room.storage, code.data)) return;
        await get().joinRoom();
      },

      async leaveRoom() {
        const { room } = get();
        if (room.phase === 'joined') {
          session.patch({ pending: 'leave' });
          await session.ask('leave', RoomAck, ROOM_EVENTS.leave);
        }
        if (room.code && deps.room) forgetCredentials(deps.room.storage, room.code);
        session.credentials = undefined;
        session.stopWatching?.();
        session.stopWatching = undefined;
        session.unsentResult = undefined;
        session.closeConnection();
        session.wasOnline = false;
        set((s) => ({
          room: {
            phase: 'idle',
            screen: 'race',
            joinCode: '',
            nameInput: s.room.nameInput,
            participants: [],
            connection: 'none',
            ignoredMessages: 0,
            announcements: [
              ...s.room.announcements,
              { id: ++session.announcementId, text: 'You left the room.' },
            ],
          },
        }));
      },

      async applyMyRaceSettings() {
        const state = get();
        if (state.room.role !== 'presenter' || state.room.pending) return;
        const scenario = scenarioFromSettings(state);
        if (!scenario.ok) {
          session.fail({ action: 'scenario', code: 'VALIDATION_FAILED', message: scenario.reason });
          return;
        }
        session.patch({ pending: 'scenario', problem: undefined });
        const outcome = await session.ask('scenario', RoomAck, ROOM_EVENTS.setScenario, {
          scenario: scenario.scenario,
        });
        if (!outcome.ok) return session.fail(outcome.problem);
        session.patch({ scenario: scenario.scenario, pending: undefined });
        session.announce('The room now races your settings.');
      },

      roomRaceExport(exportedAt, origin) {
        const { room } = get();
        const log = session.raceLog;
        if (!room.race || !room.code || log?.raceId !== room.race.raceId) return undefined;
        return {
          format: 'transport-lab/room-race',
          version: ROOM_RACE_EXPORT_VERSION,
          protocolVersion: PROTOCOL_VERSION,
          exportedAt,
          ...(origin !== undefined ? { origin } : {}),
          code: room.code,
          race: room.race,
          startedAt: log.startedAt,
          participants: room.participants,
          updates: [...log.updates],
        };
      },

      async startForEveryone() {
        const { room } = get();
        if (room.phase !== 'joined' || room.pending) return;
        session.patch({ pending: 'start', problem: undefined });
        const outcome = await session.ask('start', StartRaceAck, ROOM_EVENTS.startRace);
        if (!outcome.ok) return session.fail(outcome.problem);
        session.patch({ pending: undefined });
        session.onRace(outcome.value.race);
      },

      async injectFaultForEveryone(fault) {
        const { room } = get();
        if (room.phase !== 'joined' || room.pending) return;
        session.patch({ pending: 'fault', problem: undefined });
        const outcome = await session.ask('fault', RoomAck, ROOM_EVENTS.injectFault, { fault });
        if (!outcome.ok) return session.fail(outcome.problem);
        session.patch({ pending: undefined });
        session.announce('Fault sent to everyone in the race.');
      },

      async endRoom() {
        const { room } = get();
        if (room.phase !== 'joined' || room.pending) return;
        session.patch({ pending: 'end', problem: undefined });
        const outcome = await session.ask('end', RoomAck, ROOM_EVENTS.end);
        if (!outcome.ok) return session.fail(outcome.problem);
        session.onEnded('presenter');
      },
    };
  };
