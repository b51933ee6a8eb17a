import {
  type ClockReport,
  type CreateRoomRequest,
  type JoinRoomRequest,
  type Participant,
  type PresenceChange,
  type RaceResult,
  type RoomCode,
  RoomCode as RoomCodeSchema,
  type RoomEnded,
  type RoomFault,
  type RoomFaultNotice,
  type RoomRace,
  type RoomScenario,
  type RoomState,
} from '@transport-lab/shared';
import { clientLimitError, GAUGE_RETRY_AFTER_S } from '../access/index.ts';
import { AppError } from '../errors.ts';
import { epochNow } from '../observability/clock.ts';
import type { Logger } from '../observability/logger.ts';
import { DEFAULT_ROOM_SCENARIO } from './defaults.ts';
import { type Member, Room } from './room.ts';
import { newRoomCode, newSecret, proofMatches, type RoomCodeShard, secretMatches } from './secrets.ts';
import { Throttle } from './throttle.ts';
import type { RoomConnection, RoomNamespace } from './types.ts';

export interface RoomSettings {
  idleMs: number;
  maxParticipants: number;
  /** Least time between two aggregates sent to the presenter while results arrive, ms. */
  aggregateIntervalMs: number;
  /** Least time between two presence batches of one room, ms. */
  presenceIntervalMs: number;
  /** Share of a room's seats one client may hold, % (docs/security.md, "Limits"). */
  maxSeatsPerClientPercent: number;
  /** Live rooms one connection, and one client, may have created. */
  maxRoomsPerSocket: number;
  maxRoomsPerClient: number;
  /** ROOM_CODE_SHARD: this instance's share of the codes' first symbols (secrets.ts). */
  codeShard?: RoomCodeShard;
}

/** Least time between two presence updates one participant's clock reports cause, ms: every report
 *  is kept, but one phone re-measuring 20 times a second must not send 20 × N messages a second. */
const CLOCK_PRESENCE_INTERVAL_MS = 1_000;

export type RoomEndedListener = (code: RoomCode, reason: RoomEnded['reason']) => void;

/**
 * What other parts of the server (the shared board) may ask of rooms. Codes are read as people type
 * them (any case, with or without the dash); a malformed code is simply not a room.
 */
export interface RoomsHandle {
  /** A live room has this code. */
  exists(code: string): boolean;
  /** The participant's role when they belong to the live room and `token` is their participant
   *  token (constant-time check), else undefined. Also while they are away: their token, not their
   *  room socket, is the credential. */
  verifyParticipant(code: string, participantId: string, token: string): Participant['role'] | undefined;
  /** The room's participants now (copies), or undefined when no live room has this code. */
  participants(code: string): Participant[] | undefined;
  /** Marks the room active now (a board edit): its idle time starts again. */
  touch(code: string): void;
  /** Called once per room when it ends (presenter or idle), after its members were told; returns
   *  a function that removes the listener. Not called for rooms dropped by the server's close(). */
  onRoomEnded(listener: RoomEndedListener): () => void;
}

const channel = (code: string) => `room:${code}`;

/** An ended code answers ROOM_ENDED rather than NOT_FOUND for an hour, so a late phone is told the truth. */
const ENDED_REMEMBERED_MS = 3_600_000;
const ENDED_REMEMBERED_MAX = 10_000;

/**
 * Every room of this process, in memory: the embedded mode. (Scale-out, with the room state in
 * Redis and socket.io's Redis adapter joining the channels, is a later issue.) Each method is one
 * client message, already parsed with its shared schema; a refusal throws an AppError and changes
 * nothing.
 */
export class RoomService implements RoomsHandle {
  private readonly rooms = new Map<RoomCode, Room>();
  private readonly ended = new Map<RoomCode, number>();
  private readonly idleTimers = new Map<RoomCode, NodeJS.Timeout>();
  /** Each room's aggregate and presence broadcasts, paced. */
  private readonly paced = new Map<RoomCode, { aggregate: Throttle; presence: Throttle }>();
  private readonly endedListeners = new Set<RoomEndedListener>();

  private nsp: RoomNamespace | undefined;
  private clustered = false;

  /** Made before the socket.io server exists, so that other features can be given it at start-up;
   *  `bind` gives it its namespace before any client can speak. */
  constructor(
    private readonly settings: RoomSettings,
    private readonly logger: Logger,
  ) {}

  /** `clustered`: other instances share socket.io through Redis, so a member's socket may be on
   *  another instance (reached through the adapter) and a socket here may speak in a room there
   *  (relay.ts). */
  bind(nsp: RoomNamespace, clustered = false): void {
    this.nsp = nsp;
    this.clustered = clustered;
  }

  /** A live room with exactly this (parsed) code lives on this instance. */
  has(code: RoomCode): boolean {
    return this.rooms.has(code);
  }

  private get io(): RoomNamespace {
    if (!this.nsp) throw new Error('rooms are not bound to a socket.io namespace');
    return this.nsp;
  }

  get size(): number {
    return this.rooms.size;
  }

  /** Connected participants of every live room, by role: read at a metrics scrape. */
  participantCounts(): Record<Participant['role'], number> {
    const counts = { presenter: 0, audience: 0 };
    for (const room of this.rooms.values()) {
      counts.presenter += room.connectedCount('presenter');
      counts.audience += room.connectedCount('audience');
    }
    return counts;
  }

  // --- what clients ask -------------------------------------------------------------------------

  /** A fresh nonce for this connection's presenter proof; it replaces any earlier one. */
  hello(socket: RoomConnection): { nonce: string } {
    const nonce = newSecret();
    socket.data.nonce = nonce;
    return { nonce };
  }

  /** `client`: the socket's client (clientOf), undefined for this machine. */
  create(
    socket: RoomConnection,
    req: CreateRoomRequest,
    client: string | undefined,
  ): { room: RoomState; self: string; presenterSecret: string; participantToken: string } {
    this.admitRoom(socket, client);
    this.detach(socket);
    const code = this.unusedCode();
    const { maxParticipants, maxSeatsPerClientPercent } = this.settings;
    const room = new Room({
      code,
      createdAt: epochNow(),
      idleMs: this.settings.idleMs,
      maxParticipants,
      maxSeatsPerClient: Math.max(1, Math.floor((maxParticipants * maxSeatsPerClientPercent) / 100)),
      scenario: req.scenario ?? DEFAULT_ROOM_SCENARIO,
      createdBy: { socketId: socket.id, client },
    });
    this.rooms.set(code, room);
    this.paced.set(code, {
      aggregate: new Throttle(this.settings.aggregateIntervalMs, () => this.sendAggregate(room)),
      presence: new Throttle(this.settings.presenceIntervalMs, () => this.sendPresence(room)),
    });
    this.scheduleIdleCheck(room, room.idleMs);
    const member = room.addMember({
      name: req.name ?? null,
      device: req.device,
      role: 'presenter',
      socketId: socket.id,
      client,
      joinedAt: epochNow(),
    });
    this.attach(socket, room, member, true);
    this.logger.info({ code, maxParticipants: room.maxParticipants }, 'room created');
    return {
      room: room.state(),
      self: member.participant.id,
      presenterSecret: room.presenterSecret,
      participantToken: member.token,
    };
  }

  /**
   * Joins (or, with `resume`, rejoins) a room. Refusals that could be guessing — an unknown code,
   * a wrong presenter proof, a wrong resume — are NOT_FOUND or FORBIDDEN, which the caller counts
   * against the address; the others are not. `client`: the socket's client, whose seats are bounded.
   */
  join(
    socket: RoomConnection,
    req: JoinRoomRequest,
    afterAck: (fn: () => void) => void,
    client: string | undefined,
  ): { room: RoomState; self: string; role: Participant['role']; participantToken: string } {
    const room = this.rooms.get(req.code);
    if (!room) {
      if (this.wasEnded(req.code)) throw new AppError('ROOM_ENDED', 'This room has ended.');
      throw new AppError('NOT_FOUND', 'No room has this code.');
    }
    let proved = false;
    if (req.presenterProof !== undefined) {
      // Single use: whatever the outcome, this nonce is spent, so a proof seen on the wire is worth nothing.
      const nonce = socket.data.nonce;
      socket.data.nonce = undefined;
      if (!nonce)
        throw new AppError('FORBIDDEN', 'Ask room:hello for a nonce before proving presenter rights.');
      if (!proofMatches(room.presenterSecret, room.code, nonce, req.presenterProof))
        throw new AppError('FORBIDDEN', 'The presenter proof does not match this room and connection.');
      proved = true;
    }
    const current = this.membership(socket);
    let member: Member | undefined;
    if (req.resume) {
      const found = room.members.get(req.resume.participantId);
      if (!found || !secretMatches(found.token, req.resume.token))
        throw new AppError('FORBIDDEN', 'This participant cannot be resumed with this token; join afresh.');
      if (found.participant.role === 'presenter' && !proved)
        throw new AppError('FORBIDDEN', 'This participant is the presenter: rejoin with a presenter proof.');
      if (!found.participant.connected && !proved && room.isFull())
        throw new AppError('ROOM_FULL', `This room holds ${room.maxParticipants} people.`);
      member = found;
    } else if (current?.room === room) {
      // This connection already speaks in this room (a repeated join): the same participant, not a twin.
      member = current.member;
    } else if (!proved && room.isFull()) {
      // The presenter (proved) is always let in: a hall that filled while they reloaded must not
      // lock out the one person who can start the race.
      throw new AppError('ROOM_FULL', `This room holds ${room.maxParticipants} people.`);
    }
    // One client's share of the seats: counted as connected participants, so a participant who
    // resumes, or whose second tab takes over, keeps the one seat they hold. The presenter is let in.
    const holdsSeat = member?.participant.connected === true && member.client === client;
    if (!proved && client !== undefined && !holdsSeat && room.seatsHeldBy(client) >= room.maxSeatsPerClient)
      throw clientLimitError('room-seats', room.maxSeatsPerClient, GAUGE_RETRY_AFTER_S);

    // Accepted: from here nothing throws. A socket already speaking for this very participant (a
    // repeated join, a rejoin after connection state recovery) stays, with the rights it proved on
    // this connection; any other membership of this socket ends.
    const same = member !== undefined && current?.member === member;
    const rights = proved || (same && socket.data.presenter === true);
    if (!same) this.detach(socket);
    if (member) {
      const previous = member.socketId;
      member.socketId = socket.id;
      member.awaySince = null;
      member.client = client;
      member.participant = {
        ...member.participant,
        name: req.name ?? member.participant.name,
        device: req.device,
        role: proved ? 'presenter' : member.participant.role,
        connected: true,
      };
      // A second tab or a reload whose old socket is not gone yet: the newest speaks for them.
      if (previous && previous !== socket.id) this.release(this.connectionById(previous), room);
      this.attach(socket, room, member, rights);
      this.presence(room, member, 'updated');
    } else {
      const forgotten = room.forgetLongestAwayIfCrowded();
      if (forgotten) {
        forgotten.clockThrottle?.cancel();
        this.presence(room, forgotten, 'left');
      }
      member = room.addMember({
        name: req.name ?? null,
        device: req.device,
        role: proved ? 'presenter' : 'audience',
        socketId: socket.id,
        client,
        joinedAt: epochNow(),
      });
      this.attach(socket, room, member, proved);
      this.presence(room, member, 'joined');
    }
    if (rights && room.race) {
      // A presenter who reloads mid-race sees the aggregate at once, not at the next result.
      const aggregate = room.aggregate();
      afterAck(() => {
        if (aggregate) socket.emit('room:aggregate', aggregate);
      });
    }
    return {
      room: room.state(),
      self: member.participant.id,
      role: member.participant.role,
      participantToken: member.token,
    };
  }

  /** This socket speaks for a participant of the room with this code now. */
  speaksIn(socket: RoomConnection, code: RoomCode): boolean {
    return this.membership(socket)?.room.code === code;
  }

  /** Leaves for good: the participant is removed (their result for the current race stays). */
  leave(socket: RoomConnection): Record<string, never> {
    const found = this.membership(socket);
    if (!found) return {};
    const { room, member } = found;
    room.members.delete(member.participant.id);
    member.clockThrottle?.cancel();
    this.release(socket, room);
    this.presence(room, member, 'left');
    return {};
  }

  clock(socket: RoomConnection, report: ClockReport): Record<string, never> {
    const { room, member } = this.requireMembership(socket);
    member.participant = { ...member.participant, clock: report };
    member.clockThrottle ??= new Throttle(CLOCK_PRESENCE_INTERVAL_MS, () => {
      if (this.rooms.get(room.code) === room && room.members.get(member.participant.id) === member)
        this.presence(room, member, 'updated');
    });
    member.clockThrottle.request();
    return {};
  }

  setScenario(socket: RoomConnection, scenario: RoomScenario): Record<string, never> {
    const room = this.requirePresenter(socket, 'change the scenario');
    room.scenario = scenario;
    this.io.to(channel(room.code)).emit('room:scenario', scenario);
    return {};
  }

  startRace(socket: RoomConnection): { race: RoomRace } {
    const room = this.requirePresenter(socket, 'start a race');
    const race = room.startRace(epochNow());
    this.io.to(channel(room.code)).emit('room:race', race);
    // The presenter's aggregate starts at "0 of expected" without waiting for a first result.
    this.paced.get(room.code)?.aggregate.flush();
    this.logger.info({ code: room.code, raceId: race.raceId, expected: race.expected }, 'room race started');
    return { race };
  }

  /**
   * Stores a participant's figures for the current race. One entry per participant: a second report
   * replaces the first (a page that lost the ack may resend; nobody is counted twice).
   */
  result(socket: RoomConnection, result: RaceResult): Record<string, never> {
    const { room, member } = this.requireMembership(socket);
    if (member.participant.role === 'presenter')
      throw new AppError('FORBIDDEN', "The presenter's page watches the race; it does not report a result.");
    const race = room.race;
    if (!race || race.raceId !== result.raceId)
      throw new AppError('NOT_FOUND', 'That race is not the room’s current race.', {
        currentRaceId: race?.raceId ?? null,
      });
    const raced = new Set(race.scenario.lanes);
    const seen = new Set<string>();
    for (const lane of result.lanes) {
      if (!raced.has(lane.lane))
        throw new AppError('VALIDATION_FAILED', `Lane ${lane.lane} is not in this race.`, {
          lane: lane.lane,
        });
      if (seen.has(lane.lane))
        throw new AppError('VALIDATION_FAILED', `Lane ${lane.lane} is reported twice.`, { lane: lane.lane });
      seen.add(lane.lane);
    }
    const first = !room.results.has(member.participant.id);
    room.results.set(member.participant.id, result.lanes);
    const throttle = this.paced.get(room.code)?.aggregate;
    // At once when this result completes the count; a replacement never skips the throttle, so
    // resending cannot make the presenter's (large) aggregate go out faster.
    if (first && room.results.size === race.expected) throttle?.flush();
    else throttle?.request();
    return {};
  }

  /** Presenter only, during a race: every audience page applies the fault to its own run. */
  injectFault(socket: RoomConnection, fault: RoomFault): Record<string, never> {
    const room = this.requirePresenter(socket, 'inject faults');
    const race = room.race;
    if (!race) throw new AppError('NOT_FOUND', 'Start a race for everyone before injecting a fault into it.');
    const notice: RoomFaultNotice = { raceId: race.raceId, fault, at: epochNow() };
    this.io.to(channel(room.code)).emit('room:fault', notice);
    this.logger.info({ code: room.code, raceId: race.raceId, kind: fault.kind }, 'room fault injected');
    return {};
  }

  end(socket: RoomConnection): Record<string, never> {
    const room = this.requirePresenter(socket, 'end the room');
    this.endRoom(room, 'presenter');
    return {};
  }

  /** Any accepted message from a member keeps their room alive. */
  touch(socket: RoomConnection | string): void {
    const code = typeof socket === 'string' ? socket : socket.data.code;
    const room = code ? this.rooms.get(code) : undefined;
    if (room) room.lastActivityAt = performance.now();
  }

  /** The socket went away: its participant keeps their place and results, marked away. socket.data
   *  is left as it is: socket.io's connection state recovery keeps it for the socket's return. */
  disconnected(socket: RoomConnection): void {
    const found = this.membership(socket);
    if (!found) return;
    const { room, member } = found;
    member.socketId = null;
    member.awaySince = performance.now();
    member.participant = { ...member.participant, connected: false };
    this.presence(room, member, 'updated');
  }

  /**
   * A socket restored by connection state recovery comes back with its channels and data: it speaks
   * for its participant again if nobody else took over meanwhile; otherwise it is in no room.
   */
  recovered(socket: RoomConnection): void {
    const code = socket.data.code;
    const room = code ? this.rooms.get(code) : undefined;
    const member =
      room && socket.data.participantId ? room.members.get(socket.data.participantId) : undefined;
    if (!room || !member || member.socketId !== null) {
      if (room) this.release(socket, room);
      else this.clearSocket(socket);
      return;
    }
    member.socketId = socket.id;
    member.awaySince = null;
    member.participant = { ...member.participant, connected: true };
    member.presenterRights = socket.data.presenter === true;
    this.presence(room, member, 'updated');
    // Aggregates are not kept for recovery (see sendAggregate): a returning presenter gets the current one.
    const aggregate = socket.data.presenter === true ? room.aggregate() : undefined;
    if (aggregate) socket.emit('room:aggregate', aggregate);
  }

  /** Stops every timer; the rooms are dropped (they live in memory only). */
  close(): void {
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    for (const { aggregate, presence } of this.paced.values()) {
      aggregate.cancel();
      presence.cancel();
    }
    for (const room of this.rooms.values())
      for (const member of room.members.values()) member.clockThrottle?.cancel();
    this.idleTimers.clear();
    this.paced.clear();
    this.rooms.clear();
    this.endedListeners.clear();
  }

  // --- RoomsHandle --------------------------------------------------------------------------------

  exists(code: string): boolean {
    return this.lookup(code) !== undefined;
  }

  verifyParticipant(code: string, participantId: string, token: string): Participant['role'] | undefined {
    const member = this.lookup(code)?.members.get(participantId);
    if (!member || typeof token !== 'string' || !secretMatches(member.token, token)) return undefined;
    return member.participant.role;
  }

  participants(code: string): Participant[] | undefined {
    return this.lookup(code)
      ?.state()
      .participants.map((p) => ({ ...p }));
  }

  onRoomEnded(listener: RoomEndedListener): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  // --- inside -------------------------------------------------------------------------------------

  private lookup(code: string): Room | undefined {
    const parsed = RoomCodeSchema.safeParse(code);
    return parsed.success ? this.rooms.get(parsed.data) : undefined;
  }

  private unusedCode(): RoomCode {
    // 32^8 codes: a collision with a live or recently ended room is rare; drawing again costs nothing.
    for (;;) {
      const code = newRoomCode(this.settings.codeShard);
      if (!this.rooms.has(code) && !this.ended.has(code)) return code;
    }
  }

  /** This instance ended a room with this code within the hour (it answers ROOM_ENDED for it). */
  wasEnded(code: RoomCode): boolean {
    const at = this.ended.get(code);
    return at !== undefined && performance.now() - at < ENDED_REMEMBERED_MS;
  }

  private membership(socket: RoomConnection): { room: Room; member: Member } | undefined {
    const { code, participantId } = socket.data;
    const room = code ? this.rooms.get(code) : undefined;
    const member = room && participantId ? room.members.get(participantId) : undefined;
    if (!room || !member || member.socketId !== socket.id) return undefined;
    return { room, member };
  }

  private requireMembership(socket: RoomConnection): { room: Room; member: Member } {
    const found = this.membership(socket);
    if (!found) throw new AppError('NOT_FOUND', 'This connection is in no room: join one first.');
    return found;
  }

  private requirePresenter(socket: RoomConnection, what: string): Room {
    const found = this.membership(socket);
    if (!found || socket.data.presenter !== true)
      throw new AppError('FORBIDDEN', `Only the room's presenter may ${what}.`);
    return found.room;
  }

  private attach(socket: RoomConnection, room: Room, member: Member, presenter: boolean): void {
    socket.data.code = room.code;
    socket.data.participantId = member.participant.id;
    socket.data.presenter = presenter;
    member.presenterRights = presenter;
    socket.join(channel(room.code));
    room.lastActivityAt = performance.now();
  }

  /** Takes a live socket out of its room, marking its participant away if it still spoke for them. */
  detach(socket: RoomConnection): void {
    const found = this.membership(socket);
    if (found) {
      this.disconnected(socket);
      this.release(socket, found.room);
      return;
    }
    const room = socket.data.code ? this.rooms.get(socket.data.code) : undefined;
    if (room) this.release(socket, room);
    else this.clearSocket(socket);
  }

  /** The socket leaves the room's channels; its participant record is not touched. */
  private release(socket: RoomConnection | undefined, room: Room): void {
    if (!socket) return;
    socket.leave(channel(room.code));
    this.clearSocket(socket);
  }

  private clearSocket(socket: RoomConnection): void {
    for (const name of socket.rooms) if (name.startsWith('room:')) socket.leave(name);
    socket.data.code = undefined;
    socket.data.participantId = undefined;
    socket.data.presenter = undefined;
  }

  /**
   * A participant changed: it goes out in the room's next presence batch, at most one broadcast per
   * `presenceIntervalMs` (the first of a quiet room at once). Everyone in the room gets it, the
   * participant's own pages too (their record as the server has it, which their ack already gave).
   */
  private presence(room: Room, member: Member, kind: PresenceChange['kind']): void {
    room.presenceChanged(member.participant.id, kind);
    this.paced.get(room.code)?.presence.request();
  }

  private sendPresence(room: Room): void {
    const changes = room.takePresence();
    if (changes.length > 0) this.io.to(channel(room.code)).emit('room:presence', changes);
  }

  /** Refuses a new room past the live rooms this connection, or this client, has created. The
   *  refusal says when the soonest of them would end idle. */
  private admitRoom(socket: RoomConnection, client: string | undefined): void {
    const bounds = [
      {
        reason: 'rooms-per-connection',
        limit: this.settings.maxRoomsPerSocket,
        mine: (room: Room) => room.createdBy.socketId === socket.id,
      },
      {
        reason: 'rooms',
        limit: this.settings.maxRoomsPerClient,
        mine: (room: Room) => client !== undefined && room.createdBy.client === client,
      },
    ] as const;
    for (const { reason, limit, mine } of bounds) {
      const live = [...this.rooms.values()].filter(mine);
      if (live.length < limit) continue;
      const now = performance.now();
      const soonestEndMs = Math.min(...live.map((room) => room.lastActivityAt + room.idleMs - now));
      throw clientLimitError(reason, limit, Math.max(1, Math.ceil(soonestEndMs / 1_000)));
    }
  }

  /**
   * Progress to everyone, the full aggregate to the presenter's sockets only. The aggregate is sent
   * to each presenter socket, not broadcast to a channel: socket.io's connection state recovery keeps
   * every broadcast for SOCKET_RECOVERY_MS, and an aggregate carries every participant's figures
   * (about 1 MB for 500 people on seven lanes) up to 4 times a second. A presenter who drops gets the
   * current one on their return instead (recovered, join).
   */
  private sendAggregate(room: Room): void {
    const progress = room.progress();
    if (!progress) return;
    this.io.to(channel(room.code)).emit('room:race:progress', progress);
    const presenters = this.presenterSockets(room);
    if (presenters.length === 0) return;
    const aggregate = room.aggregate();
    if (aggregate) for (const socket of presenters) socket.emit('room:aggregate', aggregate);
  }

  private presenterSockets(room: Room): RoomConnection[] {
    const sockets: RoomConnection[] = [];
    for (const member of room.members.values()) {
      const socket =
        member.socketId && member.presenterRights ? this.connectionById(member.socketId) : undefined;
      if (socket) sockets.push(socket);
    }
    return sockets;
  }

  /**
   * A member's socket by its id: this instance's own, or, in a cluster, one on another instance,
   * reached through socket.io's adapter (its channels joined and left there, pushes sent to it by
   * its id). Its data is its instance's: what the service writes to it here is dropped, which is
   * safe because a membership is always checked against the member's socket id (membership()).
   */
  private connectionById(id: string): RoomConnection | undefined {
    const local = this.io.sockets.get(id);
    if (local || !this.clustered) return local;
    const io = this.io;
    const emit = (event: string, ...args: unknown[]) =>
      (io.to(id).emit as (event: string, ...args: unknown[]) => boolean)(event, ...args);
    return {
      id,
      data: {},
      rooms: new Set<string>(),
      join: (channel: string) => void io.in(id).socketsJoin(channel),
      leave: (channel: string) => void io.in(id).socketsLeave(channel),
      emit: emit as RoomConnection['emit'],
    };
  }

  /**
   * One timer per room, not one per message: when it fires it looks at the last activity and
   * either ends the room or sleeps for the rest of the idle time.
   */
  private scheduleIdleCheck(room: Room, delayMs: number): void {
    const timer = setTimeout(() => {
      if (this.rooms.get(room.code) !== room) return;
      const quietMs = performance.now() - room.lastActivityAt;
      if (quietMs >= room.idleMs) this.endRoom(room, 'idle');
      else this.scheduleIdleCheck(room, room.idleMs - quietMs);
    }, delayMs);
    timer.unref();
    this.idleTimers.set(room.code, timer);
  }

  private endRoom(room: Room, reason: RoomEnded['reason']): void {
    if (this.rooms.get(room.code) !== room) return;
    this.io.to(channel(room.code)).emit('room:ended', { reason });
    for (const member of room.members.values()) {
      member.clockThrottle?.cancel();
      if (member.socketId) this.release(this.connectionById(member.socketId), room);
    }
    this.rooms.delete(room.code);
    clearTimeout(this.idleTimers.get(room.code));
    this.idleTimers.delete(room.code);
    const paced = this.paced.get(room.code);
    paced?.aggregate.cancel();
    paced?.presence.cancel();
    this.paced.delete(room.code);
    this.ended.set(room.code, performance.now());
    if (this.ended.size > ENDED_REMEMBERED_MAX) {
      const oldest = this.ended.keys().next().value;
      if (oldest !== undefined) this.ended.delete(oldest);
    }
    this.logger.info({ code: room.code, reason }, 'room ended');
    for (const listener of [...this.endedListeners]) {
      try {
        listener(room.code, reason);
      } catch (error) {
        this.logger.error({ err: error, code: room.code }, 'a room-ended listener failed');
      }
    }
  }
}
