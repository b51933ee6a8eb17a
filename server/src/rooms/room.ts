import {
  aggregateRace,
  type DeviceClass,
  type LaneResult,
  type Participant,
  type ParticipantId,
  type PresenceChange,
  type RaceAggregate,
  type RaceProgress,
  type RoomRace,
  type RoomScenario,
  type RoomState,
} from '@transport-lab/shared';
import { newId, newSecret } from './secrets.ts';
import type { Throttle } from './throttle.ts';

/** A participant as the server keeps it: the public record, its credential and its live socket. */
export interface Member {
  participant: Participant;
  /** The participant's resume token (RoomSecret); only ever compared in constant time. */
  token: string;
  /** The socket that speaks for this participant now; null while they are away. */
  socketId: string | null;
  /** performance.now() when the socket went away; null while connected. */
  awaySince: number | null;
  /** The client (address) of the socket that speaks for them now or last did; undefined for this
   *  machine, which is never bounded (access/clientLimits.ts). Their seat counts against it. */
  client: string | undefined;
  /** Their socket now has presenter rights (created the room, or proved them on it): it gets the
   *  aggregate. Kept here because that socket may be on another instance (relay.ts). */
  presenterRights?: boolean;
  /** Paces the presence updates their clock reports cause (made on the first report). */
  clockThrottle?: Throttle;
}

export interface RoomOptions {
  code: string;
  createdAt: number;
  idleMs: number;
  maxParticipants: number;
  /** Seats one client may hold at once (ROOM_MAX_SEATS_PER_CLIENT_PERCENT of maxParticipants). */
  maxSeatsPerClient: number;
  scenario: RoomScenario;
  /** Who created the room: its connection and client (rooms per socket and per client). */
  createdBy: { socketId: string; client: string | undefined };
}

/**
 * One room's state and rules, knowing nothing of sockets: the service (service.ts) moves sockets
 * in and out and broadcasts what changes here.
 */
export class Room {
  readonly code: string;
  readonly createdAt: number;
  readonly idleMs: number;
  readonly maxParticipants: number;
  readonly maxSeatsPerClient: number;
  readonly createdBy: RoomOptions['createdBy'];
  /** Never leaves the server but in the create answer; proofs are checked against it. */
  readonly presenterSecret = newSecret();
  scenario: RoomScenario;
  race: RoomRace | null = null;
  /** The current race's results, one entry per participant: a second report replaces the first. */
  readonly results = new Map<ParticipantId, readonly LaneResult[]>();
  readonly members = new Map<ParticipantId, Member>();
  /** performance.now() of the last message from a member: the idle clock. */
  lastActivityAt = performance.now();
  /** Presence changes not yet broadcast, one per participant, in the order they first changed. */
  private readonly presenceDue = new Map<ParticipantId, PresenceChange['kind']>();

  constructor(options: RoomOptions) {
    this.code = options.code;
    this.createdAt = options.createdAt;
    this.idleMs = options.idleMs;
    this.maxParticipants = options.maxParticipants;
    this.maxSeatsPerClient = options.maxSeatsPerClient;
    this.createdBy = options.createdBy;
    this.scenario = options.scenario;
  }

  state(): RoomState {
    return {
      code: this.code,
      createdAt: this.createdAt,
      idleMs: this.idleMs,
      maxParticipants: this.maxParticipants,
      participants: [...this.members.values()].map((m) => m.participant),
      scenario: this.scenario,
      race: this.race,
    };
  }

  connectedCount(role?: Participant['role']): number {
    let count = 0;
    for (const { participant } of this.members.values())
      if (participant.connected && (role === undefined || participant.role === role)) count++;
    return count;
  }

  /** The room holds `maxParticipants` connected people: one more (a new join, or an away
   *  participant coming back) is refused. Away participants keep their place in the list but not
   *  a seat, so phones that close their tab do not lock a hall out. */
  isFull(): boolean {
    return this.connectedCount() >= this.maxParticipants;
  }

  /** Seats `client`'s connected participants hold. */
  seatsHeldBy(client: string): number {
    let count = 0;
    for (const member of this.members.values())
      if (member.participant.connected && member.client === client) count++;
    return count;
  }

  addMember(input: {
    name: string | null;
    device: DeviceClass;
    role: Participant['role'];
    socketId: string;
    client: string | undefined;
    joinedAt: number;
  }): Member {
    const member: Member = {
      participant: {
        id: newId(),
        name: input.name,
        device: input.device,
        role: input.role,
        connected: true,
        clock: null,
        joinedAt: input.joinedAt,
      },
      token: newSecret(),
      socketId: input.socketId,
      awaySince: null,
      client: input.client,
    };
    this.members.set(member.participant.id, member);
    return member;
  }

  /** Keeps the list (and every join answer) bounded: past twice the seats, the participant away the
   *  longest is forgotten. Their result for the current race stays in the aggregate. */
  forgetLongestAwayIfCrowded(): Member | undefined {
    if (this.members.size < 2 * this.maxParticipants) return undefined;
    let oldest: Member | undefined;
    for (const member of this.members.values())
      if (member.awaySince !== null && (!oldest || member.awaySince < (oldest.awaySince ?? 0)))
        oldest = member;
    if (!oldest) return undefined;
    this.members.delete(oldest.participant.id);
    return oldest;
  }

  /**
   * Notes that a participant changed, for the next presence batch. Changes of one participant merge:
   * a join stays a join whatever follows it but a leave, and a leave is always sent (a page that
   * joined meanwhile has them in its join answer).
   */
  presenceChanged(id: ParticipantId, kind: PresenceChange['kind']): void {
    const due = this.presenceDue.get(id);
    this.presenceDue.set(id, kind === 'updated' && due === 'joined' ? 'joined' : kind);
  }

  /** The presence batch due, each participant as they are now, and forgets it; empty when none is. */
  takePresence(): PresenceChange[] {
    const changes: PresenceChange[] = [];
    for (const [id, kind] of this.presenceDue) {
      const participant = this.members.get(id)?.participant;
      if (kind === 'left') changes.push({ kind, participantId: id });
      else if (participant) changes.push({ kind, participant });
    }
    this.presenceDue.clear();
    return changes;
  }

  startRace(startedAt: number): RoomRace {
    this.results.clear();
    this.race = {
      raceId: newId(),
      scenario: this.scenario,
      startedAt,
      expected: this.connectedCount('audience'),
    };
    return this.race;
  }

  /** The aggregate of the current race, built only from the stored results (shared aggregateRace). */
  aggregate(): RaceAggregate | undefined {
    if (!this.race) return undefined;
    return aggregateRace(this.race.raceId, this.race.expected, this.results);
  }

  progress(): RaceProgress | undefined {
    if (!this.race) return undefined;
    return { raceId: this.race.raceId, expected: this.race.expected, reported: this.results.size };
  }
}
