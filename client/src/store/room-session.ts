import {
  type ClockEstimate,
  ErrorBody,
  faultForRun,
  HelloAck,
  JoinRoomAck,
  type JoinRoomRequest,
  type LaneId,
  type ParticipantId,
  PresenceBatch,
  type RaceAggregate,
  RaceAggregate as RaceAggregateSchema,
  type RaceId,
  RaceProgress,
  RaceResult,
  ROOM_EVENTS,
  RoomAck,
  RoomEnded,
  RoomFaultNotice,
  RoomRace,
  type RoomRaceUpdate,
  RoomScenario,
  type RoomState,
} from '@transport-lab/shared';
import { z } from 'zod';
import type { StoreApi } from 'zustand';
import {
  type ConnectionStatus,
  ROOM_PUSH_EVENTS,
  type RoomConnection,
  type RoomPushEvent,
  type RoomRequestEvent,
} from '../services/room-connection.ts';
import { forgetCredentials, type StoredRoomCredentials, saveCredentials } from '../services/room-storage.ts';
import { isRaceRunning } from './race-slice.ts';
import type { RoomAction, RoomDeps, RoomProblem, RoomSessionState } from './room-types.ts';
import {
  laneSettingsInputOf,
  participantLabel,
  problemText,
  raceResultOf,
  specInputOf,
} from './room-values.ts';
import type { AppState, StoreDeps } from './types.ts';

/** After every lane has ended, how long the byte counts may take to settle before this page reports, ms. */
export const SETTLE_WAIT_MS = 5_000;
/** A room race this page has not started this long after `room:race` is reported as not run, ms. */
export const START_GUARD_MS = 5_000;
/** Announcements kept for the live region; older ones have been read out already. */
const MAX_ANNOUNCEMENTS = 20;
/** A screen reader hears "N of M reported" at most this often while results pour in, ms. */
const PROGRESS_ANNOUNCE_MS = 3_000;

const Failure = z.object({ ok: z.literal(false), error: ErrorBody });
const HelloReply = z.union([HelloAck, Failure]);

type Outcome<T> = { ok: true; value: T } | { ok: false; problem: RoomProblem };
type Timer = (callback: () => void, ms: number) => () => void;

/**
 * The room's socket session behind the slice: the connection and the credentials (never state: nothing
 * on screen may render the secret), requests and their acks, the pushes, the clock report and the
 * audience's own run of a room race. The slice's actions call it; it writes the slice's `room` state.
 */
export class RoomSession {
  private readonly roomDeps: RoomDeps | undefined;
  private readonly setTimer: Timer;
  private connection: RoomConnection | undefined;
  credentials: StoredRoomCredentials | undefined;
  announcementId = 0;
  private lastProgressAnnouncedAt = Number.NEGATIVE_INFINITY;
  /** The clock estimate last reported on this connection's membership. */
  private clockSent: ClockEstimate | undefined;
  /**
   * The room's current race as this page received it, for its export (issue 17): when the page heard
   * of it, and every progress count and aggregate with the time it came (`deps.now()`, page clock).
   */
  raceLog: { raceId: RaceId; startedAt: number; updates: RoomRaceUpdate[] } | undefined;
  /** Stops watching this page's run of a room race. */
  stopWatching: (() => void) | undefined;
  /** A result the server did not acknowledge: sent again after a rejoin. */
  unsentResult: RaceResult | undefined;
  wasOnline = false;

  constructor(
    private readonly deps: StoreDeps,
    private readonly get: () => AppState,
    private readonly set: StoreApi<AppState>['setState'],
    private readonly api: StoreApi<AppState>,
  ) {
    this.roomDeps = deps.room;
    this.setTimer =
      this.roomDeps?.setTimer ??
      ((callback, ms) => {
        const timer = setTimeout(callback, ms);
        return () => clearTimeout(timer);
      });
  }

  patch(changes: Partial<RoomSessionState>): void {
    this.set((s) => ({ room: { ...s.room, ...changes } }));
  }

  announce(text: string): void {
    this.set((s) => ({
      room: {
        ...s.room,
        announcements: [...s.room.announcements, { id: ++this.announcementId, text }].slice(
          -MAX_ANNOUNCEMENTS,
        ),
      },
    }));
  }

  private labelOf(id: string): string {
    return participantLabel(
      this.get().room.participants.find((p) => p.id === id),
      id,
    );
  }

  /** One request, its ack parsed with the shared schema; a refusal becomes a `RoomProblem`. */
  async ask<S extends z.ZodType>(
    action: RoomAction,
    schema: S,
    event: RoomRequestEvent,
    payload?: unknown,
  ): Promise<Outcome<Extract<z.infer<S>, { ok: true }>>> {
    if (!this.connection) return { ok: false, problem: { action, code: 'NOT_CONNECTED', message: '' } };
    let raw: unknown;
    try {
      raw = await this.connection.request(event, payload);
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

  fail(problem: RoomProblem) {
    this.patch({ problem, pending: undefined });
    this.announce(`${problemText(problem)} (${problem.code})`);
  }

  openConnection(): RoomConnection | undefined {
    if (this.connection) return this.connection;
    if (!this.roomDeps) return undefined;
    const opened = this.roomDeps.connect();
    this.connection = opened;
    for (const event of ROOM_PUSH_EVENTS) {
      opened.on(event, (payload) => {
        if (this.connection === opened) this.onPush(event, payload);
      });
    }
    opened.onStatus((status) => {
      if (this.connection === opened) this.onStatus(status);
    });
    return opened;
  }

  /** Remembers, across a reload, which room race this page was running and which it reported. */
  private remember(changes: Pick<StoredRoomCredentials, 'racing' | 'reported'>) {
    const { code } = this.get().room;
    if (!this.credentials || !code || !this.roomDeps) return;
    this.credentials = { ...this.credentials, ...changes };
    saveCredentials(this.roomDeps.storage, code, this.credentials);
  }

  closeConnection() {
    const closing = this.connection;
    this.connection = undefined;
    closing?.close();
  }

  private onStatus(status: ConnectionStatus) {
    if (status === 'connected') {
      const rejoin = this.wasOnline && this.get().room.phase === 'joined';
      this.wasOnline = true;
      this.patch({ connection: 'online' });
      // A new socket at the server: it is in no room until it joins again.
      if (rejoin) void this.rejoinCurrent();
    } else {
      this.patch({ connection: 'offline' });
    }
  }

  private async rejoinCurrent() {
    const { code } = this.get().room;
    if (!code || !this.credentials) return;
    this.clockSent = undefined;
    const outcome = await this.joinWith(code, this.credentials, this.credentials.name, false);
    if (!outcome.ok) {
      if (outcome.problem.code === 'ROOM_ENDED' || outcome.problem.code === 'NOT_FOUND')
        this.onEnded(undefined);
      else this.fail(outcome.problem);
      return;
    }
    if (this.unsentResult) void this.sendResult(this.unsentResult);
  }

  /** `room:join`, with a fresh presenter proof when this browser holds the room's secret. */
  async joinWith(
    code: string,
    stored: StoredRoomCredentials | undefined,
    name: string | undefined,
    show = true,
  ): Promise<Outcome<z.infer<typeof JoinRoomAck> & { ok: true }>> {
    if (!this.roomDeps) return { ok: false, problem: { action: 'join', code: 'NOT_CONNECTED', message: '' } };
    const request: JoinRoomRequest = { code, device: this.roomDeps.device() };
    if (name) request.name = name;
    if (stored) request.resume = { participantId: stored.participantId, token: stored.token };
    if (stored?.presenterSecret) {
      const hello = await this.ask('join', HelloReply, ROOM_EVENTS.hello);
      if (!hello.ok) return hello;
      // Only a presenter's browser holds a secret: the hashing (@noble/hashes) loads for it alone.
      const { presenterProof } = await import('../services/room-proof.ts');
      request.presenterProof = presenterProof(stored.presenterSecret, code, hello.value.nonce);
    }
    const joined = await this.ask('join', JoinRoomAck, ROOM_EVENTS.join, request);
    if (joined.ok) {
      const { value } = joined;
      this.credentials = {
        participantId: value.self,
        token: value.participantToken,
        ...(stored?.presenterSecret ? { presenterSecret: stored.presenterSecret } : {}),
        ...(name ? { name } : {}),
        ...(stored?.racing ? { racing: stored.racing } : {}),
        ...(stored?.reported ? { reported: stored.reported } : {}),
      };
      saveCredentials(this.roomDeps.storage, value.room.code, this.credentials);
      this.enter(value.room, value.self, value.role, show);
    }
    return joined;
  }

  /** The room as the join or create ack gave it: the whole state, then deltas from the pushes. */
  enter(room: RoomState, self: ParticipantId, role: 'presenter' | 'audience', show = true) {
    const previous = this.get().room;
    const sameRace = previous.race?.raceId === room.race?.raceId;
    this.patch({
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
    this.clockSent = undefined;
    this.reportClock();
  }

  reportClock() {
    const state = this.get();
    const estimate = state.clock.estimate;
    if (state.room.phase !== 'joined' || state.room.connection === 'offline' || !estimate) return;
    if (estimate === this.clockSent) return;
    this.clockSent = estimate;
    const { offsetMs, uncertaintyMs, rttMs } = estimate;
    const report = { offsetMs, uncertaintyMs, rttMs };
    void this.ask('clock', RoomAck, ROOM_EVENTS.clock, report).then((outcome) => {
      if (!outcome.ok) {
        if (outcome.problem.code !== 'TIMEOUT') this.patch({ problem: outcome.problem });
        return;
      }
      // The server tells everyone else; this page's own row learns it from the ack.
      const { participants, self } = this.get().room;
      this.patch({ participants: participants.map((p) => (p.id === self ? { ...p, clock: report } : p)) });
    });
  }

  private onPush(event: RoomPushEvent, payload: unknown) {
    const ignored = () => this.patch({ ignoredMessages: this.get().room.ignoredMessages + 1 });
    switch (event) {
      case ROOM_EVENTS.presence: {
        // The room's changes of one interval, this page's own among them (the same as its acks).
        const parsed = PresenceBatch.safeParse(payload);
        if (!parsed.success) return ignored();
        for (const change of parsed.data) {
          const { participants, self } = this.get().room;
          if (change.kind === 'left') {
            const gone = participants.find((p) => p.id === change.participantId);
            this.patch({ participants: participants.filter((p) => p.id !== change.participantId) });
            if (gone && gone.id !== self) this.announce(`${participantLabel(gone)} left the room.`);
            continue;
          }
          const { participant } = change;
          const known = participants.some((p) => p.id === participant.id);
          this.patch({
            participants: known
              ? participants.map((p) => (p.id === participant.id ? participant : p))
              : [...participants, participant],
          });
          if (change.kind === 'joined' && !known && participant.id !== self) {
            this.announce(`${participantLabel(participant)} joined on a ${participant.device}.`);
          }
        }
        return;
      }
      case ROOM_EVENTS.scenario: {
        const parsed = RoomScenario.safeParse(payload);
        if (!parsed.success) return ignored();
        this.patch({ scenario: parsed.data });
        return;
      }
      case ROOM_EVENTS.race: {
        const parsed = RoomRace.safeParse(payload);
        if (!parsed.success) return ignored();
        this.onRace(parsed.data);
        return;
      }
      case ROOM_EVENTS.fault: {
        const parsed = RoomFaultNotice.safeParse(payload);
        if (!parsed.success) return ignored();
        void this.onFault(parsed.data);
        return;
      }
      case ROOM_EVENTS.raceProgress: {
        const parsed = RaceProgress.safeParse(payload);
        if (!parsed.success) return ignored();
        const progress = parsed.data;
        const { race, progress: before } = this.get().room;
        if (race && race.raceId !== progress.raceId) return;
        this.patch({ progress });
        const now = this.deps.now();
        this.logOf(progress.raceId).updates.push({ receivedAt: now, progress });
        const all = progress.reported >= progress.expected && progress.expected > 0;
        if (
          before?.reported !== progress.reported &&
          (all || now - this.lastProgressAnnouncedAt >= PROGRESS_ANNOUNCE_MS)
        ) {
          this.lastProgressAnnouncedAt = now;
          this.announce(`${progress.reported} of ${progress.expected} reported.`);
        }
        return;
      }
      case ROOM_EVENTS.aggregate: {
        const parsed = RaceAggregateSchema.safeParse(payload);
        if (!parsed.success) return ignored();
        const aggregate = parsed.data;
        const { race, aggregate: before } = this.get().room;
        if (race && race.raceId !== aggregate.raceId) return;
        this.patch({
          aggregate,
          progress: {
            raceId: aggregate.raceId,
            expected: aggregate.expected,
            reported: aggregate.reported,
          },
        });
        this.logOf(aggregate.raceId).updates.push({ receivedAt: this.deps.now(), aggregate });
        this.announceNewResults(before?.raceId === aggregate.raceId ? before : undefined, aggregate);
        return;
      }
      case ROOM_EVENTS.ended: {
        const parsed = RoomEnded.safeParse(payload);
        if (!parsed.success) return ignored();
        this.onEnded(parsed.data.reason);
        return;
      }
    }
  }

  /** The presenter hears who reported since the last aggregate (a few names, then a count). */
  private announceNewResults(before: RaceAggregate | undefined, after: RaceAggregate) {
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
    const names = [...fresh].slice(0, 3).map((id) => this.labelOf(id));
    const more = fresh.size > names.length ? ` and ${fresh.size - names.length} more` : '';
    this.announce(
      `Results from ${names.join(', ')}${more}: ${after.reported} of ${after.expected} reported.`,
    );
  }

  onEnded(reason: RoomEnded['reason'] | undefined) {
    const { code, phase } = this.get().room;
    if (phase === 'ended') return;
    if (code && this.roomDeps) forgetCredentials(this.roomDeps.storage, code);
    this.credentials = undefined;
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.closeConnection();
    this.wasOnline = false;
    this.patch({
      phase: 'ended',
      screen: 'room',
      connection: 'none',
      pending: undefined,
      ...(reason ? { endedReason: reason } : {}),
    });
    this.announce(
      reason === 'idle'
        ? 'The room ended after a quiet spell.'
        : reason === 'presenter'
          ? 'The presenter ended the room.'
          : 'The room has ended.',
    );
  }

  /** Audience: the presenter's fault, applied to this page's own run of the room's race, if it runs. */
  private async onFault(notice: RoomFaultNotice) {
    const { room } = this.get();
    const runTag = this.get().race.runTag;
    if (room.role !== 'audience' || room.mine?.raceId !== notice.raceId || room.mine.status !== 'running')
      return;
    if (!runTag || !isRaceRunning(this.get().race.lanes) || !this.roomDeps?.injectFault) return;
    try {
      const summary = await this.roomDeps.injectFault(faultForRun(notice.fault, runTag));
      this.announce(`The presenter injected a fault: ${summary}`);
    } catch (error) {
      this.announce(
        `The presenter's fault could not be applied here: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** The log of race `raceId`, begun now if it is a race this page had not heard of. */
  private logOf(raceId: RaceId) {
    if (this.raceLog?.raceId !== raceId) this.raceLog = { raceId, startedAt: this.deps.now(), updates: [] };
    return this.raceLog;
  }

  onRace(race: RoomRace) {
    const { race: current, role } = this.get().room;
    if (current?.raceId === race.raceId) return; // the start's ack already put it here
    this.logOf(race.raceId);
    this.patch({
      race,
      progress: { raceId: race.raceId, expected: race.expected, reported: 0 },
      aggregate: undefined,
    });
    if (role === 'audience') {
      this.announce('The presenter started the race for everyone.');
      this.runRoomRace(race);
    } else {
      this.announce(
        `Race started for ${race.expected} ${race.expected === 1 ? 'participant' : 'participants'}.`,
      );
    }
  }

  /**
   * The audience's part: take the scenario as this page's race settings and start the page's own race
   * (the fair start, every lane in one frame), then report what the page measured once every lane has
   * ended and its byte counts have settled.
   */
  runRoomRace(race: RoomRace) {
    this.stopWatching?.();
    this.unsentResult = undefined;
    const { scenario, raceId } = race;
    const state = this.get();
    const runnable = scenario.lanes.filter((id) => state.availableLanes.includes(id));
    this.set({
      specInput: specInputOf(scenario.spec),
      laneSettingsInput: laneSettingsInputOf(scenario.laneSettings),
      ...(runnable.length > 0 ? { selectedLanes: runnable } : {}),
    });
    this.patch({ mine: { raceId, status: 'running' } });
    this.remember({ racing: raceId });
    if (runnable.length === 0) {
      void this.finish(raceId, scenario.lanes, false);
      return;
    }
    const startedBefore = this.get().race.runId;
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
      if (this.stopWatching === stop) this.stopWatching = undefined;
      void this.finish(raceId, scenario.lanes, started);
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
      if (!settleTimer) settleTimer = this.setTimer(report, this.roomDeps?.settleWaitMs ?? SETTLE_WAIT_MS);
    };
    let startRequested = false;
    const startNow = () => {
      startRequested = true;
      this.get().requestStart();
    };
    const unsubscribe = this.api.subscribe((s) => check(s));
    this.stopWatching = stop;
    // A race of this page's own still running gives way to the room's.
    if (isRaceRunning(this.get().race.lanes)) this.get().cancelRace();
    else startNow();
    timers.push(
      this.setTimer(() => {
        if (!started && !done) report();
      }, this.roomDeps?.startGuardMs ?? START_GUARD_MS),
    );
    check(this.get());
  }

  /** `started`: this page's race began; else (nothing runnable, or it never started) every lane is `error`. */
  private async finish(raceId: RaceId, lanes: readonly LaneId[], started: boolean) {
    const result = started
      ? raceResultOf(raceId, lanes, this.get())
      : RaceResult.parse({ raceId, lanes: lanes.map((lane) => ({ lane, status: 'error' })) });
    await this.sendResult(result);
  }

  private async sendResult(result: RaceResult) {
    const mine = this.get().room.mine;
    if (mine?.raceId !== result.raceId) return;
    this.patch({ mine: { ...mine, status: 'reporting', result } });
    const outcome = await this.ask('result', RoomAck, ROOM_EVENTS.result, result);
    const current = this.get().room.mine;
    if (current?.raceId !== result.raceId) return;
    if (outcome.ok) {
      this.unsentResult = undefined;
      this.remember({ reported: result.raceId });
      this.patch({ mine: { raceId: result.raceId, status: 'reported', result } });
      this.announce('Your result was sent to the room.');
    } else {
      if (outcome.problem.code === 'TIMEOUT' || outcome.problem.code === 'NOT_CONNECTED')
        this.unsentResult = result;
      this.patch({ mine: { raceId: result.raceId, status: 'failed', result, problem: outcome.problem } });
      this.announce(
        `Your result could not be sent: ${problemText(outcome.problem)} (${outcome.problem.code})`,
      );
    }
  }
}
