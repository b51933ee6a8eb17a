import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOARD_LIMITS, OperatorToken, ROOM_LIMITS } from '@transport-lab/shared';
import { z } from 'zod';
import { MAX_LINKS } from './network/links.ts';
import { DEFAULT_MAX_DATA_BYTES } from './store/retention.ts';
import { MIN_COMMIT_INTERVAL_MS } from './store/writeBatch.ts';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const port = z.coerce.number().pipe(z.int().min(0).max(65_535));
const positiveMs = (max: number) => z.coerce.number().pipe(z.int().min(1).max(max));

/**
 * Every setting, parsed once from the environment. Names carry their units. `.env.example` lists
 * them all; a wrong value stops the process at start-up with a message naming the variable.
 */
export const Config = z.object({
  /** TCP port for the app, the API and socket.io; 0 picks a free one (tests). */
  PORT: port.default(3000),
  /** Interface to listen on. 127.0.0.1 keeps the app private; 0.0.0.0 lets phones on the LAN join. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Folder of the SQLite file (created if missing). */
  DATA_DIR: z.string().min(1).default(join(repoRoot, 'data')),
  /** Tasks that ended longer ago than this are deleted with everything of theirs (events, webhook
   *  subscriber and secret, deliveries), and so are fault records and Idempotency-Keys this old
   *  (keys live 24 h at most anyway). Fractions allowed; a sweep runs every few seconds
   *  (store/retention.ts). */
  RETENTION_HOURS: z.coerce.number().pipe(z.number().min(0.01).max(8_760)).default(24),
  /** The SQLite file and its WAL together. An eighth is kept for the WAL; when the pages in use pass
   *  90 % of the rest, the tasks that ended first are deleted, before their time, down to 80 %. Tasks
   *  that have not ended and webhook deliveries still due are never deleted. */
  MAX_DATA_BYTES: z.coerce
    .number()
    .pipe(z.int().min(1_048_576).max(1_099_511_627_776))
    .default(DEFAULT_MAX_DATA_BYTES),
  /** Redis (`redis://[user:password@]host:port[/db]`, or `rediss://` for TLS): set, the tasks, their
   *  event logs and the Idempotency-Keys live there, shared by every instance on it (store/index.ts;
   *  what is on Redis and what is not yet: server/src/store/README.md). Unset: SQLite alone. */
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  /** Every Redis key starts with this, so that several labs (and tests) share one Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1–64 of A–Z a–z 0–9 . _ : -')
    .default('transport-lab:'),
  /** On Redis (REDIS_URL): how long an instance's hold on a task it runs (its BullMQ job's lock,
   *  renewed every half of it) outlives the instance. An instance killed mid-task (`kill -9`) leaves
   *  its tasks to another one within about twice this (tasks/leases.ts); shorter hands over sooner
   *  and costs Redis a renewal per instance each half of it. */
  TASK_LOCK_MS: z.coerce.number().pipe(z.int().min(500).max(600_000)).default(10_000),
  /** How long `POST /api/tasks/run` holds the request before answering 504 with a Location. */
  SYNC_TIMEOUT_MS: positiveMs(600_000).default(30_000),
  /** Largest accepted request body; bigger ones answer 413. */
  BODY_LIMIT_BYTES: z.coerce.number().pipe(z.int().min(256).max(10_485_760)).default(65_536),
  /** pino level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The built client (vite build output), served with an SPA fallback; absent → API only. */
  STATIC_DIR: z
    .string()
    .min(1)
    .default(join(repoRoot, 'client', 'dist')),
  /** How long socket.io keeps a dropped connection's state (rooms, missed packets) for recovery. */
  SOCKET_RECOVERY_MS: positiveMs(3_600_000).default(120_000),
  /** socket.io's heartbeat (engine.io `pingInterval`): the server pings each socket this often. Its
   *  default, 25 000 ms, is socket.io's own. */
  SOCKET_PING_INTERVAL_MS: positiveMs(600_000).default(25_000),
  /** socket.io's heartbeat (engine.io `pingTimeout`): a socket that has not answered a ping this long
   *  after it is closed by the server, and a client that heard no ping for interval + timeout closes its
   *  own end. Socket.io's default, 20 000 ms. */
  SOCKET_PING_TIMEOUT_MS: positiveMs(600_000).default(20_000),
  /** Broadcast packets socket.io keeps per namespace for recovery, whatever SOCKET_RECOVERY_MS says
   *  (≈ 0.5 KB each for a task event); past it the oldest go, and a socket that missed them
   *  re-subscribes from its last seq instead of being recovered. */
  SOCKET_RECOVERY_MAX_PACKETS: z.coerce.number().pipe(z.int().min(100).max(10_000_000)).default(10_000),
  /** Largest socket.io message a client may send (`maxHttpBufferSize`); a larger one closes its
   *  socket. The protocol's largest (a race result) is a few KB. */
  SOCKET_MAX_MESSAGE_BYTES: z.coerce.number().pipe(z.int().min(4_096).max(10_485_760)).default(16_384),
  /** Short-polling interval the server suggests with Retry-After (sent in whole seconds, rounded up). */
  POLL_INTERVAL_MS: positiveMs(60_000).default(1_000),
  /** Port of the built-in webhook receiver ("your backend"), its own HTTP listener; 0 picks one. */
  RECEIVER_PORT: port.default(3001),
  /** The HTTP/2 demo port (issue 15, the six-streams scene): h2 over TLS with a certificate made at
   *  start (server/src/scenes/h2.ts), on HOST. Unset: off; 0 picks a free port. */
  H2_PORT: port.optional(),
  /** Multiplies the Standard Webhooks retry schedule: 1 is the real one (the 4th attempt 35 min
   *  after the first), 0.01 suits demos (the 4th attempt ≈ 21 s after the first). */
  WEBHOOK_SCHEDULE_SCALE: z.coerce.number().pipe(z.number().min(0).max(1)).default(0.01),
  /** How long one delivery attempt may take before it counts as failed. */
  WEBHOOK_ATTEMPT_TIMEOUT_MS: positiveMs(60_000).default(5_000),
  /** Delivery attempts one run may have in flight at once, of the dispatcher's 8 in all (shared
   *  between devices, then runs: docs/security.md, "Limits"). A race's webhook lane is one task,
   *  one attempt at a time; a run's backlog of receivers that never answer holds only this many. */
  WEBHOOK_MAX_IN_FLIGHT_PER_RUN: z.coerce.number().pipe(z.int().min(1).max(1_000)).default(2),
  /** `off` leaves the server's own measurement out: no wire ledger on the sockets and no lane tags
   *  read (`/api/wire` knows no run), no `x-request-bytes` header, no `connection:wire` report on a
   *  websocket, no `wire` message opening an event stream or a relay, no `transport_lab_wire_*`
   *  metrics. Everything else is the same. The benchmark runs one server of each to price the
   *  measurement (docs/benchmarks.md). */
  WIRE_ACCOUNTING: z.enum(['on', 'off']).default('on'),
  /** `off` takes the network conditions out: no connection is read for its `lab-link` cookie, nothing
   *  is shaped, and `PUT /api/network/link` answers 503. `on`: a page's chosen link shapes every
   *  connection it opens (server/src/network/README.md). */
  NETWORK_SHAPING: z.enum(['on', 'off']).default('on'),
  /** `off` closes `POST /api/faults` (403 FORBIDDEN with a message naming this setting): for a server
   *  shared by people who did not agree to have their races broken. `GET` still lists what was done. */
  FAULTS: z.enum(['on', 'off']).default('on'),
  /** The operator's credential (docs/security.md): actions that reach other people's races
   *  (restart-server, a receiver that never answers) are allowed from this machine, and from
   *  elsewhere only with `Authorization: Bearer <token>`. Unset, `npm start` makes a random one and
   *  prints it in the presenter's link (`/?operator=<token>`); a server started otherwise without
   *  one accepts this machine only. ≥ 32 characters; keep it out of shared files. */
  OPERATOR_TOKEN: OperatorToken.optional(),
  /** Crashes after which `npm start`'s supervisor (main.ts) starts the server again, at most, in any
   *  minute; one more and it gives up with exit code 1. A server that crashes at once would otherwise
   *  be started forever. The restart-server fault is not counted; 0 restarts only for it. */
  SUPERVISOR_MAX_RESTARTS_PER_MINUTE: z.coerce.number().pipe(z.int().min(0).max(1_000)).default(5),
  /** Most people one room holds at once, presenter included; one more join answers ROOM_FULL. */
  ROOM_MAX_PARTICIPANTS: z.coerce
    .number()
    .pipe(z.int().min(1).max(100_000))
    .default(ROOM_LIMITS.defaultMaxParticipants),
  /** A room nobody has sent a message in for this long ends (`room:ended {reason: 'idle'}`). */
  ROOM_IDLE_MS: positiveMs(7 * 24 * 3_600_000).default(ROOM_LIMITS.defaultIdleMs),
  /** Wrong or unknown room codes (and refused presenter proofs or resume tokens) one address may
   *  send per minute; past it every join from that address answers RATE_LIMITED until the minute ends. */
  ROOM_FAILED_JOINS_PER_MINUTE: z.coerce
    .number()
    .pipe(z.int().min(1).max(10_000))
    .default(ROOM_LIMITS.failedJoinsPerMinute),
  /** Room messages one socket may send per second; beyond it each is refused RATE_LIMITED by its ack. */
  ROOM_MESSAGES_PER_SECOND: z.coerce
    .number()
    .pipe(z.int().min(1).max(10_000))
    .default(ROOM_LIMITS.messagesPerSecond),
  /** Share of a room's seats one client (one address; this machine is exempt) may hold at once, %;
   *  one more of its joins answers RATE_LIMITED (`room-seats`), so bots on one address cannot fill a
   *  room. A hall on the lab's LAN has an address per phone; a hall that reaches the lab through one
   *  NAT shares one, and gets this share (100 lets it fill the room: docs/security.md, "Limits"). */
  ROOM_MAX_SEATS_PER_CLIENT_PERCENT: z.coerce.number().pipe(z.int().min(1).max(100)).default(50),
  /** New participants one client may make per minute, in any room (a resume with its token, a
   *  repeated join and the presenter's proved join are not new); past it RATE_LIMITED. 300: a hall
   *  behind one NAT all arriving in the same minute. */
  ROOM_JOINS_PER_CLIENT_PER_MINUTE: z.coerce.number().pipe(z.int().min(1).max(1_000_000)).default(300),
  /** Live rooms one `/room` connection may have created; past it `room:create` answers RATE_LIMITED. */
  ROOM_MAX_ROOMS_PER_SOCKET: z.coerce.number().pipe(z.int().min(1).max(10_000)).default(3),
  /** … and one client (whatever its connections). A room counts until it ends (presenter or idle). */
  ROOM_MAX_ROOMS_PER_CLIENT: z.coerce.number().pipe(z.int().min(1).max(1_000_000)).default(20),
  /** `k/N`: this instance's room codes start with the symbols whose place in the code alphabet is
   *  k − 1 modulo N. Set by `npm run start:cluster` (instance iK of N), whose nginx routes a
   *  `?room=CODE` page load by the code's first symbol to the instance holding the room. Unset: any. */
  ROOM_CODE_SHARD: z
    .string()
    .regex(/^\d{1,2}\/\d{1,2}$/, 'must be k/N, e.g. 1/2')
    .transform((value) => {
      const [index, count] = value.split('/').map(Number) as [number, number];
      return { index, count };
    })
    .refine(({ index, count }) => count >= 1 && count <= 32 && index >= 1 && index <= count, {
      message: 'must be k/N with 1 ≤ k ≤ N ≤ 32',
    })
    .optional(),
  /** Least time between two presence broadcasts of one room: the changes of an interval go out as
   *  one `room:presence` batch, so N phones joining or measuring cost O(N) messages a round, not N². */
  ROOM_PRESENCE_INTERVAL_MS: positiveMs(10_000).default(250),
  /** Notes one audience participant may have on a room's board at once; past it the add answers
   *  `429 RATE_LIMITED` (`board-notes`). The presenter is not bounded. */
  BOARD_NOTES_PER_PARTICIPANT: z.coerce.number().pipe(z.int().min(1).max(BOARD_LIMITS.maxNotes)).default(5),
  /** Of the board's notes, how many only the presenter may add: the audience together fills the rest
   *  (`409 BOARD_CONFLICT` past it), so the presenter's next note always has a place. */
  BOARD_PRESENTER_RESERVED_NOTES: z.coerce
    .number()
    .pipe(
      z
        .int()
        .min(0)
        .max(BOARD_LIMITS.maxNotes - 1),
    )
    .default(10),
  /** Past what it can serve truthfully, the server refuses new tasks on every lane (`503 UNAVAILABLE`
   *  + `Retry-After`, or the socket ack's error) and lets running ones finish: while the event loop's
   *  delay p99 was above this in each of the last two 1-second windows, ms. A normal race delays it by
   *  a few ms. */
  MAX_EVENT_LOOP_DELAY_MS: positiveMs(60_000).default(200),
  /** Least time between two commits of the embedded store, ms: under load a commit carries the
   *  writes of a few turns, not one (store/writeBatch.ts); an event waits at most this long before
   *  it is published. 0 commits at the end of every turn that wrote. */
  STORE_COMMIT_INTERVAL_MS: z.coerce.number().pipe(z.number().min(0).max(50)).default(MIN_COMMIT_INTERVAL_MS),
  /** … while this many tasks run (queued ones included). A hall of 200 phones racing five lanes runs
   *  1 000. */
  MAX_RUNNING_TASKS: z.coerce.number().pipe(z.int().min(1).max(1_000_000)).default(5_000),
  /** … while this many streams are open: SSE streams, held long polls and socket.io connections. Each
   *  holds a file descriptor: keep it under the process's limit (`ulimit -n`). */
  MAX_OPEN_STREAMS: z.coerce.number().pipe(z.int().min(1).max(1_000_000)).default(10_000),
  /** Tasks run at once (tasks/pool.ts); past them a new task waits, `queued`, first in, first out,
   *  and starts when one ends. A hall of 200 phones racing five lanes runs 1 000 at once: the
   *  default leaves it, and any normal race, never queueing. */
  WORKERS: z.coerce.number().pipe(z.int().min(1).max(1_000_000)).default(2_000),
  /** … and while this many wait for a worker, a new task is refused (`503 UNAVAILABLE` + `Retry-After`,
   *  reason `queue-full`; a socket's ack: UNAVAILABLE). Queued tasks count among MAX_RUNNING_TASKS too. */
  MAX_QUEUED_TASKS: z.coerce.number().pipe(z.int().min(1).max(1_000_000)).default(1_000),
  /** Per client (one address; this machine is exempt: docs/security.md, "Limits"): tasks running at
   *  once, queued ones included; past it `429 RATE_LIMITED` + `Retry-After`. A presenter's desktop
   *  races 7 lanes. */
  MAX_TASKS_PER_CLIENT: z.coerce.number().pipe(z.int().min(1).max(1_000_000)).default(50),
  /** … tasks started per minute. */
  MAX_TASKS_PER_CLIENT_PER_MINUTE: z.coerce.number().pipe(z.int().min(1).max(1_000_000)).default(120),
  /** … events its tasks may ask for per minute (a task: steps + 3). Every event is written to the
   *  store: 100 tasks of 1 000 steps at once held the loop for seconds (issue 11). One race of 7
   *  lanes of 1 000 steps is 7 021. */
  MAX_TASK_EVENTS_PER_CLIENT_PER_MINUTE: z.coerce
    .number()
    .pipe(z.int().min(1_003).max(100_000_000))
    .default(10_000),
  /** … result bytes its tasks may ask for per minute (stored, and sent on every lane). 2 MiB: 32
   *  tasks of the largest result (64 KiB). */
  MAX_RESULT_BYTES_PER_CLIENT_PER_MINUTE: z.coerce
    .number()
    .pipe(z.int().min(65_536).max(10_000_000_000))
    .default(2_097_152),
  /** … SSE streams, held long polls and socket.io connections open at once. Each holds a file
   *  descriptor; a page holds at most one per lane, and a few for its room and board. */
  MAX_STREAMS_PER_CLIENT: z.coerce.number().pipe(z.int().min(1).max(1_000_000)).default(64),
  /** … network-condition links it holds (one per browser: its page load or its choice makes one, a
   *  new choice replaces it, an unused one is forgotten after an hour). Past it a choice answers
   *  `429`, and a page load or an unknown cookie gets no link (no shaping) rather than evict anyone's. */
  MAX_NETWORK_LINKS_PER_CLIENT: z.coerce.number().pipe(z.int().min(1).max(MAX_LINKS)).default(256),
  /** What every network link id (the `lab-link` cookie) this instance makes starts with. Set by
   *  `npm run start:cluster` (`i1-`, `i2-`, …): its nginx routes a browser by the prefix back to the
   *  instance that holds its link (scripts/cluster/nginx.mjs). Empty alone. */
  NETWORK_LINK_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9]{1,16}-)?$/, 'must be empty, or 1–16 of A–Z a–z 0–9 then -')
    .default(''),
  /** Comma-separated `host` or `host:port` entries a webhook URL may name besides the built-in
   *  receiver. Names are checked again at connect time: one resolving to a private address is refused. */
  WEBHOOK_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((entry) => entry.trim().toLowerCase())
        .filter((entry) => entry.length > 0),
    )
    .pipe(
      z.array(z.string().regex(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/, 'must be host or host:port')),
    ),
  /** Comma-separated origins (`http://host:port`) a page may be served from besides the lab's own
   *  address, for socket.io and the receiver's relay (docs/security.md, "Origins"): a reverse proxy
   *  that serves the page under another host or port, or Vite's dev server (`npm run dev` sets it). */
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((entry) => entry.trim().toLowerCase().replace(/\/$/, ''))
        .filter((entry) => entry.length > 0),
    )
    .pipe(
      z.array(
        z
          .string()
          .regex(
            /^https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/,
            'must be an origin: http(s)://host or http(s)://host:port, no path',
          )
          // The browser's own spelling (no default port), so that a plain comparison matches.
          .transform((origin) => new URL(origin).origin),
      ),
    ),
});
export type Config = z.infer<typeof Config>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the settings from `env`; throws a ConfigError listing every wrong variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = Object.fromEntries(
    Object.keys(Config.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const parsed = Config.safeParse(known);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid settings in the environment:\n${lines.join('\n')}`);
  }
  return {
    ...parsed.data,
    DATA_DIR: resolve(parsed.data.DATA_DIR),
    STATIC_DIR: resolve(parsed.data.STATIC_DIR),
  };
}

export function staticDirIsBuilt(config: Config): boolean {
  return existsSync(join(config.STATIC_DIR, 'index.html'));
}
