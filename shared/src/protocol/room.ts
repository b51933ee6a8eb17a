import { z } from 'zod';
import { ErrorBody } from './errors.ts';
import { LaneSettings } from './export.ts';
import { RaceFaultTemplate } from './faults.ts';
import { LaneId } from './lanes.ts';
import { TaskSpec } from './task.ts';

/**
 * Rooms: a presenter and an audience on one socket.io namespace of their own (`/room`), apart from
 * the websocket lane's connection so that a room's traffic never counts against a lane. A client opens
 * it with `forceNew: true`: socket.io would otherwise multiplex it over the lane's engine.io connection.
 */
export const ROOM_NAMESPACE = '/room';

/** The link that joins a room: the page reads `?room=CODE`. */
export const ROOM_QUERY_PARAM = 'room';

/**
 * Join codes: 8 symbols of Crockford's base32 (no I, L, O, U), 32^8 ≈ 1.1 × 10^12 codes, drawn with a
 * cryptographic generator. With at most `ROOM_LIMITS.failedJoinsPerMinute` wrong codes per address,
 * guessing a live room is out of reach. Shown as `ABCD-EFGH`; typed with or without the dash, any case.
 */
export const ROOM_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const ROOM_CODE_LENGTH = 8;

/** Upper-cases, drops spaces and dashes, and reads the look-alikes I/L as 1 and O as 0, as Crockford does. */
export function normalizeRoomCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
}

export const RoomCode = z
  .string()
  .max(32)
  .transform(normalizeRoomCode)
  .pipe(z.string().regex(new RegExp(`^[${ROOM_CODE_ALPHABET}]{${ROOM_CODE_LENGTH}}$`), 'not a room code'));
export type RoomCode = z.infer<typeof RoomCode>;

/** `ABCDEFGH` → `ABCD-EFGH`, for people to read aloud and type. */
export function formatRoomCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

export const ROOM_LIMITS = {
  /** A display name, after trimming; shown as text only, never as markup. */
  maxNameLength: 40,
  /** Default for the `ROOM_MAX_PARTICIPANTS` setting, presenter included. */
  defaultMaxParticipants: 500,
  /** Default for `ROOM_IDLE_MS`: a room nobody has spoken in for this long ends, ms. */
  defaultIdleMs: 30 * 60_000,
  /** Wrong or unknown codes one address may try per minute before joins are refused (429). */
  failedJoinsPerMinute: 10,
  /** Room messages one socket may send per second, sustained; beyond it they are refused (429). */
  messagesPerSecond: 20,
} as const;

/** 128 random bits, base64url: the presenter's secret and a participant's token. */
export const RoomSecret = z.string().regex(/^[A-Za-z0-9_-]{22,64}$/, 'not a room secret');
export const ParticipantId = z.string().regex(/^[A-Za-z0-9_-]{6,32}$/, 'not a participant id');
export type ParticipantId = z.infer<typeof ParticipantId>;

export const DisplayName = z.string().trim().min(1).max(ROOM_LIMITS.maxNameLength);

/** From the page's viewport and pointer: enough to tell the spread of phones from laptops. */
export const DEVICE_CLASSES = ['phone', 'tablet', 'desktop'] as const;
export const DeviceClass = z.enum(DEVICE_CLASSES);
export type DeviceClass = z.infer<typeof DeviceClass>;

/** The page's clock estimate (metrics/clock.ts), as it reports it to the room. */
export const ClockReport = z.strictObject({
  offsetMs: z.number().finite(),
  uncertaintyMs: z.number().finite().min(0),
  rttMs: z.number().finite().min(0),
});
export type ClockReport = z.infer<typeof ClockReport>;

export const Participant = z.object({
  id: ParticipantId,
  /** Null: joined anonymously; the page shows "Anonymous" and the id's first letters. */
  name: z.string().nullable(),
  device: DeviceClass,
  role: z.enum(['presenter', 'audience']),
  /** False while the participant's socket is away (they keep their place and results). */
  connected: z.boolean(),
  clock: ClockReport.nullable(),
  joinedAt: z.number(),
});
export type Participant = z.infer<typeof Participant>;

/** What the presenter sets for the room: the race everyone runs. */
export const RoomScenario = z.strictObject({
  spec: TaskSpec,
  lanes: z.array(LaneId).min(1),
  laneSettings: LaneSettings,
});
export type RoomScenario = z.infer<typeof RoomScenario>;

export const RaceId = z.string().regex(/^[A-Za-z0-9_-]{6,32}$/, 'not a race id');
export type RaceId = z.infer<typeof RaceId>;

/** A race started for everyone: every page runs `scenario` from its own device when it hears this. */
export const RoomRace = z.object({
  raceId: RaceId,
  scenario: RoomScenario,
  /** Server time, epoch ms. */
  startedAt: z.number(),
  /** Audience connected when the race started: the count the presenter waits for. */
  expected: z.int().min(0),
});
export type RoomRace = z.infer<typeof RoomRace>;

export const RoomState = z.object({
  code: RoomCode,
  createdAt: z.number(),
  idleMs: z.int().min(1),
  maxParticipants: z.int().min(1),
  participants: z.array(Participant),
  scenario: RoomScenario,
  race: RoomRace.nullable(),
});
export type RoomState = z.infer<typeof RoomState>;

/** The figures each participant reports per lane; the aggregate is built from exactly these. */
export const AGGREGATE_METRICS = [
  'firstFeedbackMs',
  'totalPerceivedMs',
  'completionLagMs',
  'requests',
  'bytesUp',
  'bytesDown',
  'serverLatenessMs',
  'pageBusyMs',
  'queueMs',
] as const;
export const AggregateMetric = z.enum(AGGREGATE_METRICS);
export type AggregateMetric = z.infer<typeof AggregateMetric>;

/**
 * Bounds on what a phone may report, so that one phone cannot skew everyone's aggregate with 1e300:
 * a race's times are at most an hour (a task lasts at most 120 s; a stalled lane is cut long before),
 * its counts at most a million requests and a gigabyte each way (a 1 000-step task with 64 KiB
 * results moves a few MB).
 */
const MAX_FIGURE_MS = 3_600_000;
const MAX_REQUESTS = 1_000_000;
const MAX_BYTES = 1_000_000_000;
const figure = z.number().finite().min(0).max(MAX_FIGURE_MS);
const signedFigure = z.number().finite().min(-MAX_FIGURE_MS).max(MAX_FIGURE_MS);

export const LaneResult = z.strictObject({
  lane: LaneId,
  status: z.enum(['succeeded', 'failed', 'cancelled', 'error']),
  firstFeedbackMs: figure.optional(),
  totalPerceivedMs: figure.optional(),
  completionLagMs: signedFigure.optional(),
  requests: z.int().min(0).max(MAX_REQUESTS).optional(),
  bytesUp: z.int().min(0).max(MAX_BYTES).optional(),
  bytesDown: z.int().min(0).max(MAX_BYTES).optional(),
  /** The most this lane's task ran behind the server's own schedule, ms: its figures include it. */
  serverLatenessMs: figure.optional(),
  /** This phone's longest animation frame during the race, ms (the same on each of its lanes): what
   *  it showed waited that long for its own work. */
  pageBusyMs: figure.optional(),
  /** How long this lane's task waited for a worker on the server, ms (its queue time). */
  queueMs: figure.optional(),
});
export type LaneResult = z.infer<typeof LaneResult>;

export const RaceResult = z.strictObject({
  raceId: RaceId,
  lanes: z.array(LaneResult).min(1).max(LaneId.options.length),
});
export type RaceResult = z.infer<typeof RaceResult>;

/** One metric of one lane over everyone who reported it. Percentiles are nearest-rank. */
export const Distribution = z.object({
  count: z.int().min(0),
  min: z.number(),
  median: z.number(),
  p95: z.number(),
  max: z.number(),
  mean: z.number(),
  /** Every participant's figure, ascending: the presenter's histogram and its check. */
  values: z.array(z.object({ participantId: ParticipantId, value: z.number() })),
  /** Beyond Tukey's fences (1.5 × IQR past the quartiles). */
  outliers: z.array(ParticipantId),
});
export type Distribution = z.infer<typeof Distribution>;

export const LaneAggregate = z.object({
  lane: LaneId,
  /** Participants whose lane ended `succeeded`, and those whose lane ended otherwise. */
  succeeded: z.int().min(0),
  failed: z.int().min(0),
  metrics: z.partialRecord(AggregateMetric, Distribution),
});
export type LaneAggregate = z.infer<typeof LaneAggregate>;

export const RaceAggregate = z.object({
  raceId: RaceId,
  expected: z.int().min(0),
  /** Participants who have reported their result. */
  reported: z.int().min(0),
  lanes: z.array(LaneAggregate),
});
export type RaceAggregate = z.infer<typeof RaceAggregate>;

/**
 * A fault the presenter injects into everyone's race at once: each audience page applies it to its
 * own run (`POST /api/faults` with its own run id), so each device sees it on its own network. The
 * process restart is left out: one server, one restart, which the presenter can do from their own race.
 */
export const RoomFault = RaceFaultTemplate;
export type RoomFault = z.infer<typeof RoomFault>;

export const InjectFaultRequest = z.strictObject({ fault: RoomFault });
export type InjectFaultRequest = z.infer<typeof InjectFaultRequest>;

/** s→c, audience: apply this fault to your race of `raceId` now. */
export const RoomFaultNotice = z.object({ raceId: RaceId, fault: RoomFault, at: z.number() });
export type RoomFaultNotice = z.infer<typeof RoomFaultNotice>;

/** Who came, who went, whose clock was measured: deltas, so a join costs O(1) bytes per member, not O(N). */
export const PresenceChange = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('joined'), participant: Participant }),
  z.object({ kind: z.literal('updated'), participant: Participant }),
  z.object({ kind: z.literal('left'), participantId: ParticipantId }),
]);
export type PresenceChange = z.infer<typeof PresenceChange>;

/**
 * `room:presence`: the changes of one interval (`ROOM_PRESENCE_INTERVAL_MS`), at most one per
 * participant, each with the participant as they are when it is sent. One broadcast per room per
 * interval, not one per change: 100 phones reporting their clocks 3 times each were 30 000 messages.
 */
export const PresenceBatch = z.array(PresenceChange).min(1);
export type PresenceBatch = z.infer<typeof PresenceBatch>;

/** socket.io event names of the `/room` namespace. */
export const ROOM_EVENTS = {
  /** c→s: a fresh single-use challenge for the presenter's proof on this connection. */
  hello: 'room:hello',
  create: 'room:create',
  join: 'room:join',
  leave: 'room:leave',
  clock: 'room:clock',
  /** Presenter only. */
  setScenario: 'room:scenario:set',
  startRace: 'room:race:start',
  injectFault: 'room:fault:inject',
  end: 'room:end',
  /** Participant → server: their race's figures, for the current race, each raced lane at most once.
   *  One result per participant: a second one replaces the first. The presenter's is refused. */
  result: 'room:result',
  /** s→c */
  presence: 'room:presence',
  scenario: 'room:scenario',
  race: 'room:race',
  /** s→c, every participant: how many have reported; cheap enough to send to all. */
  raceProgress: 'room:race:progress',
  /** s→c, audience: the presenter injected a fault into the current race. */
  fault: 'room:fault',
  /** s→c, presenters only: the full aggregate, at most a few times a second while results arrive. */
  aggregate: 'room:aggregate',
  ended: 'room:ended',
} as const;

const failure = z.object({ ok: z.literal(false), error: ErrorBody });
const okOrFailure = z.discriminatedUnion('ok', [z.object({ ok: z.literal(true) }), failure]);

export const HelloAck = z.object({ ok: z.literal(true), nonce: z.string().min(16) });
export type HelloAck = z.infer<typeof HelloAck>;

export const CreateRoomRequest = z.strictObject({
  name: DisplayName.optional(),
  device: DeviceClass,
  scenario: RoomScenario.optional(),
});
export type CreateRoomRequest = z.infer<typeof CreateRoomRequest>;

/** The only time the presenter's secret travels: kept in the presenter's browser, never shown. */
export const CreateRoomAck = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    room: RoomState,
    self: ParticipantId,
    presenterSecret: RoomSecret,
    participantToken: RoomSecret,
  }),
  failure,
]);
export type CreateRoomAck = z.infer<typeof CreateRoomAck>;

/**
 * `presenterProof`: lowercase hex HMAC-SHA256, key = the presenter's secret (its UTF-8 bytes),
 * message = `${code}:${nonce}` with the code as RoomCode parses it (8 symbols, no dash) and the nonce
 * from this connection's `room:hello`. A nonce is used once, by the next join that carries a proof
 * (whatever its outcome), so a proof seen on the wire cannot be replayed, and the secret itself never
 * travels again. A wrong proof is refused FORBIDDEN; it never downgrades the join to audience.
 */
export const JoinRoomRequest = z.strictObject({
  code: RoomCode,
  name: DisplayName.optional(),
  device: DeviceClass,
  presenterProof: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** Rejoin as the same participant (a reload, a dropped network). An unknown participant or a wrong
   *  token is refused FORBIDDEN (join again without `resume`); the presenter's participant also needs
   *  `presenterProof`. */
  resume: z.strictObject({ participantId: ParticipantId, token: RoomSecret }).optional(),
});
export type JoinRoomRequest = z.infer<typeof JoinRoomRequest>;

export const JoinRoomAck = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    room: RoomState,
    self: ParticipantId,
    role: z.enum(['presenter', 'audience']),
    participantToken: RoomSecret,
  }),
  failure,
]);
export type JoinRoomAck = z.infer<typeof JoinRoomAck>;

export const SetScenarioRequest = z.strictObject({ scenario: RoomScenario });
export type SetScenarioRequest = z.infer<typeof SetScenarioRequest>;

export const StartRaceAck = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), race: RoomRace }),
  failure,
]);
export type StartRaceAck = z.infer<typeof StartRaceAck>;

export const RoomAck = okOrFailure;
export type RoomAck = z.infer<typeof RoomAck>;

export const RaceProgress = z.object({
  raceId: RaceId,
  expected: z.int().min(0),
  reported: z.int().min(0),
});
export type RaceProgress = z.infer<typeof RaceProgress>;

export const RoomEnded = z.object({ reason: z.enum(['presenter', 'idle']) });
export type RoomEnded = z.infer<typeof RoomEnded>;

/** Client → server on `/room`. Every payload is parsed on arrival; a bad one is refused by ack. */
export interface RoomClientToServerEvents {
  [ROOM_EVENTS.hello]: (ack: (res: HelloAck) => void) => void;
  [ROOM_EVENTS.create]: (req: CreateRoomRequest, ack: (res: CreateRoomAck) => void) => void;
  [ROOM_EVENTS.join]: (req: JoinRoomRequest, ack: (res: JoinRoomAck) => void) => void;
  [ROOM_EVENTS.leave]: (ack: (res: RoomAck) => void) => void;
  [ROOM_EVENTS.clock]: (report: ClockReport, ack: (res: RoomAck) => void) => void;
  [ROOM_EVENTS.setScenario]: (req: SetScenarioRequest, ack: (res: RoomAck) => void) => void;
  [ROOM_EVENTS.startRace]: (ack: (res: StartRaceAck) => void) => void;
  [ROOM_EVENTS.end]: (ack: (res: RoomAck) => void) => void;
  [ROOM_EVENTS.injectFault]: (req: InjectFaultRequest, ack: (res: RoomAck) => void) => void;
  [ROOM_EVENTS.result]: (result: RaceResult, ack: (res: RoomAck) => void) => void;
}

/** Server → client on `/room`. */
export interface RoomServerToClientEvents {
  [ROOM_EVENTS.presence]: (changes: PresenceBatch) => void;
  [ROOM_EVENTS.scenario]: (scenario: RoomScenario) => void;
  [ROOM_EVENTS.race]: (race: RoomRace) => void;
  [ROOM_EVENTS.raceProgress]: (progress: RaceProgress) => void;
  [ROOM_EVENTS.aggregate]: (aggregate: RaceAggregate) => void;
  [ROOM_EVENTS.ended]: (ended: RoomEnded) => void;
  [ROOM_EVENTS.fault]: (notice: RoomFaultNotice) => void;
}
