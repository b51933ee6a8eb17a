import {
  type ClockEstimate,
  CreateRoomAck,
  type CreateRoomRequest,
  type DeviceClass,
  DisplayName,
  ErrorBody,
  type Fault,
  faultForRun,
  HelloAck,
  JoinRoomAck,
  type JoinRoomRequest,
  type LaneId,
  LaneResult,
  type LaneSettings,
  type Participant,
  type ParticipantId,
  PresenceBatch,
  type RaceAggregate,
  RaceAggregate as RaceAggregateSchema,
  type RaceId,
  RaceProgress,
  RaceResult,
  ROOM_EVENTS,
  RoomAck,
  RoomCode,
  RoomEnded,
  type RoomFault,
  RoomFaultNotice,
  RoomRace,
  RoomScenario,
  type RoomState,
  StartRaceAck,
  type TaskSpec,
} from '@transport-lab/shared';
import { z } from 'zod';
import {
  type ConnectionStatus,
  ROOM_PUSH_EVENTS,
  type RoomConnection,
  type RoomPushEvent,
  type RoomRequestEvent,
} from '../services/room-connection.ts';
import { presenterProof } from '../services/room-proof.ts';
import {
  forgetCredentials,
  type KeyValueStorage,
  loadCredentials,
  type StoredRoomCredentials,
  saveCredentials,
} from '../services/room-storage.ts';
import { laneMetrics } from './metrics.ts';
import { isRaceRunning } from './race-slice.ts';
import type {
  MyRoomRace,
  RoomAction,
  RoomDeps,
  RoomPhase,
  RoomProblem,
  RoomScreen,
  RoomSessionState,
  RoomSlice,
} from './room-types.ts';
import {
  laneSettingsInputOf,
  participantLabel,
  problemText,
  raceResultOf,
  sameScenario,
  scenarioFromSettings,
  specInputOf,
} from './room-values.ts';
import { parseLaneSettings, parseSpecInput } from './settings-slice.ts';
import type { AppState, LaneSettingsInput, SliceCreator, SpecInput, StoreDeps } from './types.ts';

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

export const SETTLE_WAIT_MS = 5_000;
export const START_GUARD_MS = 5_000;
/** Announcements kept for the live region; older ones have been read out already. */
const MAX_ANNOUNCEMENTS = 20;
/** A screen reader hears "N of M reported" at most this often while results pour in, ms. */
const PROGRESS_ANNOUNCE_MS = 3_000;

const Failure = z.object({ ok: z.literal(false), error: ErrorBody });
const HelloReply = z.union([HelloAck, Failure]);

/** Credentials and connection live outside the state: nothing on screen may ever render the secret. */
export const createRoomSlice =
  (deps: StoreDeps): SliceCreator<RoomSlice> =>
  (set, get, api) => {
    const roomDeps = deps.room;
    const setTimer =
      roomDeps?.setTimer ??
      ((callback: () => void, ms: number) => {
        const timer = setTimeout(callback, ms);
        return () => clearTimeout(timer);
      });
    let connection: RoomConnection | undefined;
    let credentials: StoredRoomCredentials | undefined;
    let announcementId = 0;
    let lastProgressAnnouncedAt = Number.NEGATIVE_INFINITY;
    /** The clock estimate last reported on this connection's membership. */
    let clockSent: ClockEstimate | undefined;
    /** Stops watching this page's run of a room race. */
    let stopWatching: (() => void) | undefined;
    /** A result the server did not acknowledge: sent again after a rejoin. */
    let unsentResult: RaceResult | undefined;

    const patch = (changes: Partial<RoomSessionState>) => set((s) => ({ room: { ...s.room, ...changes } }));

    const announce = (text: string) =>
      set((s) => ({
        room: {
          ...s.room,
          announcements: [...s.room.announcements, { id: ++announcementId, text }].slice(-MAX_ANNOUNCEMENTS),
        },
      }));

    const labelOf = (id: string) =>
      participantLabel(
        get().room.participants.find((p) => p.id === id),
        id,
      );

    type Outcome<T> = { ok: true; value: T } | { ok: false; problem: RoomProblem };

    /** One request, its ack parsed with the shared schema; a refusal becomes a `RoomProblem`. */
    async function ask<S extends z.ZodType>(
      action: RoomAction,
      schema: S,
      event: RoomRequestEvent,
      payload?: unknown,
    ): Promise<Outcome<Extract<z.infer<S>, { ok: true }>>> {
      if (!connection) return { ok: false, problem: { action, code: 'NOT_CONNECTED', message: '' } };
      let raw: unknown;
      try {
        raw = await connection.request(event, payload);
      } catch (error) {
        return {
          ok: false,
          problem: {
            action,
            code: 'TIMEOUT',
            message: error instanceof Error ? error.message : String(error),
          },
        };
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        const failure = Failure.safeParse(raw);
        if (failure.success) {
          const { code, message } = failure.data.error;
          return { ok: false, problem: { action, code, message } };
        }
        return { ok: false, problem: { action, code: 'BAD_RESPONSE', message: parsed.error.message } };
      }
      const value = parsed.data as { ok: boolean; error?: { code: string; message: string } };
      if (!value.ok) {
        return {
          ok: false,
          problem: { action, code: value.error?.code ?? 'BAD_RESPONSE', message: value.error?.message ?? '' },
        };
      }
      return { ok: true, value: value as Extract<z.infer<S>, { ok: true }> };
    }

    function fail(problem: RoomProblem) {
      patch({ problem, pending: undefined });
      announce(`${problemText(problem)} (${problem.code})`);
    }

    function openConnection(): RoomConnection | undefined {
      if (connection) return connection;
      if (!roomDeps) return undefined;
      const opened = roomDeps.connect();
      connection = opened;
      for (const event of ROOM_PUSH_EVENTS) {
        opened.on(event, (payload) => {
          if (connection === opened) onPush(event, payload);
        });
      }
      opened.onStatus((status) => {
        if (connection === opened) onStatus(status);
      });
      return opened;
    }

    /** Remembers, across a reload, which room race this page was running and which it reported. */
    function remember(changes: Pick<StoredRoomCredentials, 'racing' | 'reported'>) {
      const { code } = get().room;
      if (!credentials || !code || !roomDeps) return;
      credentials = { ...credentials, ...changes };
      saveCredentials(roomDeps.storage, code, credentials);
    }

    function closeConnection() {
      const closing = connection;
      connection = undefined;
      closing?.close();
    }

    let wasOnline = false;
    function onStatus(status: ConnectionStatus) {
      if (status === 'connected') {
        const rejoin = wasOnline && get().room.phase === 'joined';
        wasOnline = true;
        patch({ connection: 'online' });
        // A new socket at the server: it is in no room until it joins again.
        if (rejoin) void rejoinCurrent();
      } else {
        patch({ connection: 'offline' });
      }
    }

    async function rejoinCurrent() {
      const { code } = get().room;
      if (!code || !credentials) return;
      clockSent = undefined;
      const outcome = await joinWith(code, credentials, credentials.name, false);
      if (!outcome.ok) {
        if (outcome.problem.code === 'ROOM_ENDED' || outcome.problem.code === 'NOT_FOUND') onEnded(undefined);
        else fail(outcome.problem);
        return;
      }
      if (unsentResult) void sendResult(unsentResult);
    }

    /** `room:join`, with a fresh presenter proof when this browser holds the room's secret. */
    async function joinWith(
      code: string,
      stored: StoredRoomCredentials | undefined,
      name: string | undefined,
      show = true,
    ): Promise<Outcome<z.infer<typeof JoinRoomAck> & { ok: true }>> {
      if (!roomDeps) return { ok: false, problem: { action: 'join', code: 'NOT_CONNECTED', message: '' } };
      const request: JoinRoomRequest = { code, device: roomDeps.device() };
      if (name) request.name = name;
      if (stored) request.resume = { participantId: stored.participantId, token: stored.token };
      if (stored?.presenterSecret) {
        const hello = await ask('join', HelloReply, ROOM_EVENTS.hello);
        if (!hello.ok) return hello;
        request.presenterProof = presenterProof(stored.presenterSecret, code, hello.value.nonce);
      }
      const joined = await ask('join', JoinRoomAck, ROOM_EVENTS.join, request);
      if (joined.ok) {
        const { value } = joined;
        credentials = {
          participantId: value.self,
          token: value.participantToken,
          ...(stored?.presenterSecret ? { presenterSecret: stored.presenterSecret } : {}),
          ...(name ? { name } : {}),
          ...(stored?.racing ? { racing: stored.racing } : {}),
          ...(stored?.reported ? { reported: stored.reported } : {}),
        };
        saveCredentials(roomDeps.storage, value.room.code, credentials);
        enter(value.room, value.self, value.role, show);
      }
      return joined;
    }

    /** The room as the join or create ack gave it: the whole state, then deltas from the pushes. */
    function enter(room: RoomState, self: ParticipantId, role: 'presenter' | 'audience', show = true) {
      const previous = get().room;
      const sameRace = previous.race?.raceId === room.race?.raceId;
      patch({
        phase: 'joined',
        ...(show ? { screen: 'room' as const } : {}),
        code: room.code,
        role,
        self,
        participants: room.participants,
        scenario: room.scenario,
        maxParticipants: room.maxParticipants,
        race: room.race ?? undefined,
        progress: sameRace ? previous.progress : undefined,
        aggregate: sameRace ? previous.aggregate : undefined,
        pending: undefined,
        problem: undefined,
        endedReason: undefined,
      });
      clockSent = undefined;
      reportClock();
    }

    function reportClock() {
      const state = get();
      const estimate = state.clock.estimate;
      if (state.room.phase !== 'joined' || state.room.connection === 'offline' || !estimate) return;
      if (estimate === clockSent) return;
      clockSent = estimate;
      const { offsetMs, uncertaintyMs, rttMs } = estimate;
      const report = { offsetMs, uncertaintyMs, rttMs };
      void ask('clock', RoomAck, ROOM_EVENTS.clock, report).then((outcome) => {
        if (!outcome.ok) {
          if (outcome.problem.code !== 'TIMEOUT') patch({ problem: outcome.problem });
          return;
        }
        // The server tells everyone else; this page's own row learns it from the ack.
        const { participants, self } = get().room;
        patch({ participants: participants.map((p) => (p.id === self ? { ...p, clock: report } : p)) });
      });
    }

    function onPush(event: RoomPushEvent, payload: unknown) {
      const ignored = () => patch({ ignoredMessages: get().room.ignoredMessages + 1 });
      switch (event) {
        case ROOM_EVENTS.presence: {
          // The room's changes of one interval, this page's own among them (the same as its acks).
          const parsed = PresenceBatch.safeParse(payload);
          if (!parsed.success) return ignored();
          for (const change of parsed.data) {
            const { participants, self } = get().room;
            if (change.kind === 'left') {
              const gone = participants.find((p) => p.id === change.participantId);
              patch({ participants: participants.filter((p) => p.id !== change.participantId) });
              if (gone && gone.id !== self) announce(`${participantLabel(gone)} left the room.`);
              continue;
            }
            const { participant } = change;
            const known = participants.some((p) => p.id === participant.id);
            patch({
              participants: known
                ? participants.map((p) => (p.id === participant.id ? participant : p))
                : [...participants, participant],
            });
            if (change.kind === 'joined' && !known && participant.id !== self) {
              announce(`${participantLabel(participant)} joined on a ${participant.device}.`);
            }
          }
          return;
        }
        case ROOM_EVENTS.scenario: {
          const parsed = RoomScenario.safeParse(payload);
          if (!parsed.success) return ignored();
          patch({ scenario: parsed.data });
          return;
        }
        case ROOM_EVENTS.race: {
          const parsed = RoomRace.safeParse(payload);
          if (!parsed.success) return ignored();
          onRace(parsed.data);
          return;
        }
        case ROOM_EVENTS.fault: {
          const parsed = RoomFaultNotice.safeParse(payload);
          if (!parsed.success) return ignored();
          void onFault(parsed.data);
          return;
        }
        case ROOM_EVENTS.raceProgress: {
          const parsed = RaceProgress.safeParse(payload);
          if (!parsed.success) return ignored();
          const progress = parsed.data;
          const { race, progress: before } = get().room;
          if (race && race.raceId !== progress.raceId) return;
          patch({ progress });
          const now = deps.now();
          const all = progress.reported >= progress.expected && progress.expected > 0;
          if (
            before?.reported !== progress.reported &&
            (all || now - lastProgressAnnouncedAt >= PROGRESS_ANNOUNCE_MS)
          ) {
            lastProgressAnnouncedAt = now;
            announce(`${progress.reported} of ${progress.expected} reported.`);
          }
          return;
        }
        case ROOM_EVENTS.aggregate: {
          const parsed = RaceAggregateSchema.safeParse(payload);
          if (!parsed.success) return ignored();
          const aggregate = parsed.data;
          const { race, aggregate: before } = get().room;
          if (race && race.raceId !== aggregate.raceId) return;
          patch({
            aggregate,
            progress: {
              raceId: aggregate.raceId,
              expected: aggregate.expected,
              reported: aggregate.reported,
            },
          });
          announceNewResults(before?.raceId === aggregate.raceId ? before : undefined, aggregate);
          return;
        }
        case ROOM_EVENTS.ended: {
          const parsed = RoomEnded.safeParse(payload);
          if (!parsed.success) return ignored();
          onEnded(parsed.data.reason);
          return;
        }
      }
    }

    /** The presenter hears who reported since the last aggregate (a few names, then a count). */
    function announceNewResults(before: RaceAggregate | undefined, after: RaceAggregate) {
      const seen = new Set<string>();
      for (const lane of before?.lanes ?? []) {
        for (const dist of Object.values(lane.metrics))
          for (const v of dist?.values ?? []) seen.add(v.participantId);
      }
      const fresh = new Set<string>();
      for (const lane of after.lanes) {
        for (const dist of Object.values(lane.metrics)) {
          for (const v of dist?.values ?? []) if (!seen.has(v.participantId)) fresh.add(v.participantId);
        }
      }
      if (fresh.size === 0) return;
      const names = [...fresh].slice(0, 3).map(labelOf);
      const more = fresh.size > names.length ? ` and ${fresh.size - names.length} more` : '';
      announce(`Results from ${names.join(', ')}${more}: ${after.reported} of ${after.expected} reported.`);
    }

    function onEnded(reason: RoomEnded['reason'] | undefined) {
      const { code, phase } = get().room;
      if (phase === 'ended') return;
      if (code && roomDeps) forgetCredentials(roomDeps.storage, code);
      credentials = undefined;
      stopWatching?.();
      stopWatching = undefined;
      closeConnection();
      wasOnline = false;
      patch({
        phase: 'ended',
        screen: 'room',
        connection: 'none',
        pending: undefined,
        ...(reason ? { endedReason: reason } : {}),
      });
      announce(
        reason === 'idle'
          ? 'The room ended after a quiet spell.'
          : reason === 'presenter'
            ? 'The presenter ended the room.'
            : 'The room has ended.',
      );
    }

    /** Audience: the presenter's fault, applied to this page's own run of the room's race, if it runs. */
    async function onFault(notice: RoomFaultNotice) {
      const { room } = get();
      const runTag = get().race.runTag;
      if (room.role !== 'audience' || room.mine?.raceId !== notice.raceId || room.mine.status !== 'running')
        return;
      if (!runTag || !isRaceRunning(get().race.lanes) || !roomDeps?.injectFault) return;
      try {
        const summary = await roomDeps.injectFault(faultForRun(notice.fault, runTag));
        announce(`The presenter injected a fault: ${summary}`);
      } catch (error) {
        announce(
          `The presenter's fault could not be applied here: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }

    function onRace(race: RoomRace) {
      const { race: current, role } = get().room;
      if (current?.raceId === race.raceId) return; // the start's ack already put it here
      patch({
        race,
        progress: { raceId: race.raceId, expected: race.expected, reported: 0 },
        aggregate: undefined,
      });
      if (role === 'audience') {
        announce('The presenter started the race for everyone.');
        runRoomRace(race);
      } else {
        announce(
          `Race started for ${race.expected} ${race.expected === 1 ? 'participant' : 'participants'}.`,
        );
      }
    }

    /**
     * The audience's part: take the scenario as this page's race settings and start the page's own race
     * (the fair start, every lane in one frame), then report what the page measured once every lane has
     * ended and its byte counts have settled.
     */
    function runRoomRace(race: RoomRace) {
      stopWatching?.();
      unsentResult = undefined;
      const { scenario, raceId } = race;
      const state = get();
      const runnable = scenario.lanes.filter((id) => state.availableLanes.includes(id));
      set({
        specInput: specInputOf(scenario.spec),
        laneSettingsInput: laneSettingsInputOf(scenario.laneSettings),
        ...(runnable.length > 0 ? { selectedLanes: runnable } : {}),
      });
      patch({ mine: { raceId, status: 'running' } });
      remember({ racing: raceId });
      if (runnable.length === 0) {
        void finish(raceId, scenario.lanes, false);
        return;
      }
      const startedBefore = get().race.runId;
      let started = false;
      let settleTimer: (() => void) | undefined;
      const timers: Array<() => void> = [];
      let done = false;
      const stop = () => {
        done = true;
        unsubscribe();
        for (const cancel of timers) cancel();
        settleTimer?.();
      };
      const report = () => {
        if (done) return;
        stop();
        if (stopWatching === stop) stopWatching = undefined;
        void finish(raceId, scenario.lanes, started);
      };
      const check = (s: AppState) => {
        if (done) return;
        if (!started) {
          if (s.race.runId > startedBefore) started = true;
          else if (!isRaceRunning(s.race.lanes) && !startRequested) startNow();
          if (!started) return;
        }
        if (isRaceRunning(s.race.lanes)) return;
        if (s.race.settled) return report();
        if (!settleTimer) settleTimer = setTimer(report, roomDeps?.settleWaitMs ?? SETTLE_WAIT_MS);
      };
      let startRequested = false;
      const startNow = () => {
        startRequested = true;
        get().requestStart();
      };
      const unsubscribe = api.subscribe((s) => check(s));
      stopWatching = stop;
      // A race of this page's own still running gives way to the room's.
      if (isRaceRunning(get().race.lanes)) get().cancelRace();
      else startNow();
      timers.push(
        setTimer(() => {
          if (!started && !done) report();
        }, roomDeps?.startGuardMs ?? START_GUARD_MS),
      );
      check(get());
    }

    /** `started`: this page's race began; else (nothing runnable, or it never started) every lane is `error`. */
    async function finish(raceId: RaceId, lanes: readonly LaneId[], started: boolean) {
      const result = started
        ? raceResultOf(raceId, lanes, get())
        : RaceResult.parse({ raceId, lanes: lanes.map((lane) => ({ lane, status: 'error' })) });
      await sendResult(result);
    }

    async function sendResult(result: RaceResult) {
      const mine = get().room.mine;
      if (mine?.raceId !== result.raceId) return;
      patch({ mine: { ...mine, status: 'reporting', result } });
      const outcome = await ask('result', RoomAck, ROOM_EVENTS.result, result);
      const current = get().room.mine;
      if (current?.raceId !== result.raceId) return;
      if (outcome.ok) {
        unsentResult = undefined;
        remember({ reported: result.raceId });
        patch({ mine: { raceId: result.raceId, status: 'reported', result } });
        announce('Your result was sent to the room.');
      } else {
        if (outcome.problem.code === 'TIMEOUT' || outcome.problem.code === 'NOT_CONNECTED')
          unsentResult = result;
        patch({ mine: { raceId: result.raceId, status: 'failed', result, problem: outcome.problem } });
        announce(`Your result could not be sent: ${problemText(outcome.problem)} (${outcome.problem.code})`);
      }
    }

    // The clock is measured by the clock slice; it is reported as soon as there is one and a room.
    api.subscribe((state, previous) => {
      if (state.clock !== previous.clock || state.room.phase !== previous.room.phase) reportClock();
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

      setRoomScreen: (screen) => patch({ screen }),
      setRoomJoinCode: (text) => patch({ joinCode: text }),
      setRoomName: (text) => patch({ nameInput: text }),
      dismissRoomProblem: () => patch({ problem: undefined }),

      async createRoom() {
        const state = get();
        if (state.room.pending || state.room.phase === 'joined' || !roomDeps) return;
        const name = DisplayName.safeParse(state.room.nameInput);
        const scenario = scenarioFromSettings(state);
        const request: CreateRoomRequest = {
          device: roomDeps.device(),
          ...(name.success ? { name: name.data } : {}),
          ...(scenario.ok ? { scenario: scenario.scenario } : {}),
        };
        patch({ phase: 'connecting', pending: 'create', problem: undefined, endedReason: undefined });
        openConnection();
        const outcome = await ask('create', CreateRoomAck, ROOM_EVENTS.create, request);
        if (!outcome.ok) {
          closeConnection();
          wasOnline = false;
          patch({ phase: 'idle', connection: 'none' });
          fail(outcome.problem);
          return;
        }
        const { room, self, presenterSecret, participantToken } = outcome.value;
        credentials = {
          participantId: self,
          token: participantToken,
          presenterSecret,
          ...(name.success ? { name: name.data } : {}),
        };
        saveCredentials(roomDeps.storage, room.code, credentials);
        enter(room, self, 'presenter');
        announce(`Room ${room.code} is open.`);
      },

      async joinRoom() {
        const state = get();
        if (state.room.pending || state.room.phase === 'joined' || !roomDeps) return;
        const code = RoomCode.safeParse(state.room.joinCode);
        if (!code.success) {
          fail({
            action: 'join',
            code: 'VALIDATION_FAILED',
            message: 'A room code is 8 letters and digits, like ABCD-EFGH.',
          });
          return;
        }
        const name = DisplayName.safeParse(state.room.nameInput);
        const stored = loadCredentials(roomDeps.storage, code.data);
        const useName = name.success ? name.data : stored?.name;
        patch({ phase: 'connecting', pending: 'join', problem: undefined, endedReason: undefined });
        openConnection();
        const outcome = await joinWith(code.data, stored, useName);
        if (!outcome.ok) {
          closeConnection();
          wasOnline = false;
          // A room that is gone (ended, or lost with a server restart) takes this browser's place in it along.
          if (stored && (outcome.problem.code === 'NOT_FOUND' || outcome.problem.code === 'ROOM_ENDED')) {
            forgetCredentials(roomDeps.storage, code.data);
          }
          patch({ phase: 'idle', connection: 'none' });
          fail(outcome.problem);
          return;
        }
        announce(
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
          announce('The race you were running was cut short by the reload: running it again.');
          runRoomRace(race);
        }
      },

      async rejoinFromLink() {
        const { room } = get();
        if (room.phase !== 'idle' || !roomDeps) return;
        const code = RoomCode.safeParse(room.joinCode);
        if (!code.success || !loadCredentials(roomDeps.storage, code.data)) return;
        await get().joinRoom();
      },

      async leaveRoom() {
        const { room } = get();
        if (room.phase === 'joined') {
          patch({ pending: 'leave' });
          await ask('leave', RoomAck, ROOM_EVENTS.leave);
        }
        if (room.code && roomDeps) forgetCredentials(roomDeps.storage, room.code);
        credentials = undefined;
        stopWatching?.();
        stopWatching = undefined;
        unsentResult = undefined;
        closeConnection();
        wasOnline = false;
        set((s) => ({
          room: {
            phase: 'idle',
            screen: 'race',
            joinCode: '',
            nameInput: s.room.nameInput,
            participants: [],
            connection: 'none',
            ignoredMessages: 0,
            announcements: [...s.room.announcements, { id: ++announcementId, text: 'You left the room.' }],
          },
        }));
      },

      async applyMyRaceSettings() {
        const state = get();
        if (state.room.role !== 'presenter' || state.room.pending) return;
        const scenario = scenarioFromSettings(state);
        if (!scenario.ok) {
          fail({ action: 'scenario', code: 'VALIDATION_FAILED', message: scenario.reason });
          return;
        }
        patch({ pending: 'scenario', problem: undefined });
        const outcome = await ask('scenario', RoomAck, ROOM_EVENTS.setScenario, {
          scenario: scenario.scenario,
        });
        if (!outcome.ok) return fail(outcome.problem);
        patch({ scenario: scenario.scenario, pending: undefined });
        announce('The room now races your settings.');
      },

      async startForEveryone() {
        const { room } = get();
        if (room.phase !== 'joined' || room.pending) return;
        patch({ pending: 'start', problem: undefined });
        const outcome = await ask('start', StartRaceAck, ROOM_EVENTS.startRace);
        if (!outcome.ok) return fail(outcome.problem);
        patch({ pending: undefined });
        onRace(outcome.value.race);
      },

      async injectFaultForEveryone(fault) {
        const { room } = get();
        if (room.phase !== 'joined' || room.pending) return;
        patch({ pending: 'fault', problem: undefined });
        const outcome = await ask('fault', RoomAck, ROOM_EVENTS.injectFault, { fault });
        if (!outcome.ok) return fail(outcome.problem);
        patch({ pending: undefined });
        announce('Fault sent to everyone in the race.');
      },

      async endRoom() {
        const { room } = get();
        if (room.phase !== 'joined' || room.pending) return;
        patch({ pending: 'end', problem: undefined });
        const outcome = await ask('end', RoomAck, ROOM_EVENTS.end);
        if (!outcome.ok) return fail(outcome.problem);
        onEnded('presenter');
      },
    };
  };
