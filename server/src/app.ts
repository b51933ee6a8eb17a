import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  API_PATHS,
  isTerminalEvent,
  MAX_LONG_POLL_WAIT_MS,
  PROTOCOL_VERSION,
  type PublicSettings,
  RECEIVER_PATHS,
} from '@transport-lab/shared';
import express, { type Express, Router } from 'express';
import { Server } from 'socket.io';
import {
  type ClientLimits,
  createClientLimits,
  createOperatorGate,
  createTaskOwnership,
  memoryBudgets,
  type OperatorGate,
  peerOf,
  redisBudgets,
} from './access/index.ts';
import { createOriginPolicy } from './access/origins.ts';
import {
  boundRecoveryBuffer,
  limitSocketsPerClient,
  NAMESPACES as SOCKET_NAMESPACES,
} from './access/socketLimits.ts';
import { createStreamTokens } from './access/streamTokens.ts';
import { type Boards, createBoards, type RoomDirectory } from './board/index.ts';
import { type Config, staticDirIsBuilt } from './config.ts';
import { contractRoutes } from './contract/routes.ts';
import { createFaults, type Faults, trackIdleAnswers, trackLaneStreams } from './faults/index.ts';
import { registerCreateTask } from './http/createTask.ts';
import { createExpressHttpServer } from './http/expressServer.ts';
import { lanUrls } from './http/lanUrls.ts';
import {
  apiNotFound,
  bodyLimit,
  errorHandler,
  jsonBody,
  pageErrorHandler,
  pageNotFound,
  requestLogging,
  requireJsonBody,
} from './http/middleware.ts';
import { pageSecurityHeaders } from './http/pageHeaders.ts';
import { commonRoutes } from './http/taskRoutes.ts';
import { requestWireBytes } from './http/wireBytes.ts';
import { laneRoutes, registerWireReport } from './http/wireReport.ts';
import { createNetwork, type Network } from './network/index.ts';
import { epochNow } from './observability/clock.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { registerServerView } from './observability/serverView.ts';
import { watchAckRefusals } from './observability/socketAcks.ts';
import { createWireLedger, type WireLedger } from './observability/wireLedger.ts';
import { createRooms, type RoomsHandle } from './rooms/index.ts';
import { createScenes, type Scenes } from './scenes/index.ts';
import { joinInstances } from './socketCluster.ts';
import { openStores, type TaskStore } from './store/index.ts';
import { redisFaultStore } from './store/redisFaults.ts';
import { sqliteFaultStore } from './store/sqliteFaults.ts';
import { type Admission, createAdmission } from './tasks/admission.ts';
import { TaskEngine } from './tasks/engine.ts';
import type { TaskLeases } from './tasks/leases.ts';
import { createTaskStarter } from './tasks/startTask.ts';
import { type LabServer, type LaneContext, SERVER_LANES } from './transports/index.ts';
import { warmUp } from './warmup.ts';
import { redisWebhookHandover } from './webhooks/handover.ts';
import { createReceiver, createWebhooks, type Receiver, type Webhooks } from './webhooks/index.ts';

/** Fault records and run tags on Redis outlive the tasks they name (kept RETENTION_HOURS after they
 *  end) by a day: a run's timeline never loses its faults before its tasks. */
const FAULT_RECORDS_MARGIN_MS = 86_400_000;

export type { Config } from './config.ts';
export { loadConfig } from './config.ts';
export type { TaskEngine } from './tasks/engine.ts';

export interface AppHandle {
  httpServer: HttpServer;
  /** The express app: its routes are listed against the OpenAPI document (http/routeList.ts). */
  app: Express;
  io: LabServer;
  engine: TaskEngine;
  store: TaskStore;
  logger: Logger;
  webhooks: Webhooks;
  /** The built-in webhook receiver ("your backend"): the caller listens its httpServer on
   *  RECEIVER_PORT (tests on port 0), as it does the app's. */
  receiver: Receiver;
  /** The server's own count of each run's lane traffic on its sockets (`GET /api/wire/{runId}`);
   *  inert, knowing no run, with WIRE_ACCOUNTING=off. */
  wire: WireLedger;
  /** Rooms on the `/room` namespace, in memory. For other features (the shared board): `exists(code)`,
   *  `verifyParticipant(code, participantId, token)` → role or undefined, `participants(code)`,
   *  `onRoomEnded(listener)`. */
  rooms: RoomsHandle;
  /** The shared board of each room (server/src/board). */
  boards: Boards;
  /** Injected faults (`POST /api/faults`): see server/src/faults. */
  faults: Faults;
  /** Network conditions: each browser's link, shaping its connections (server/src/network). */
  network: Network;
  /** Who is the operator: this machine, or a request with OPERATOR_TOKEN (server/src/access). */
  operator: OperatorGate;
  /** Refuses new tasks past what the server can serve truthfully (MAX_* settings; issue 10). */
  admission: Admission;
  /** Each client's share of tasks and streams (MAX_*_PER_CLIENT settings; issue 11). */
  clientLimits: ClientLimits;
  /** The reconnect storm and the six-streams demo (server/src/scenes), with the HTTP/2 demo port. */
  scenes: Scenes;
  /** Stops accepting, halts task clocks (running tasks stay resumable), closes the store. */
  close(): Promise<void>;
}

/** Builds the whole server without listening: the caller listens (tests on port 0). */
export async function createServer(
  config: Config,
  logger: Logger = createLogger(config.LOG_LEVEL),
  /** `rooms`: who may edit a board; the rooms server by default, a test may give its own. */
  /** `restart`: ends the process so that its supervisor starts it again (main.ts); without it the
   *  restart-server fault is refused. */
  deps: { rooms?: RoomDirectory; restart?: () => void } = {},
): Promise<AppHandle> {
  const startedAt = epochNow();
  const stores = await openStores(config, logger);
  const store = stores.tasks;
  const engine = new TaskEngine({ store, logger, remote: stores.remoteEvents, workers: config.WORKERS });
  const admission = createAdmission({
    limits: {
      maxEventLoopDelayMs: config.MAX_EVENT_LOOP_DELAY_MS,
      maxRunningTasks: config.MAX_RUNNING_TASKS,
      maxOpenStreams: config.MAX_OPEN_STREAMS,
      maxQueuedTasks: config.MAX_QUEUED_TASKS,
    },
    runningTasks: () => engine.runningCount,
    queuedTasks: () => engine.queuedCount,
    // Every socket.io connection (the lanes', the rooms', the boards'): read when a task is asked for.
    otherOpenStreams: () => io.engine.clientsCount,
  });
  // The per-client rate budgets (tasks, events, bytes, room joins a minute): with REDIS_URL on Redis,
  // one budget per client for every instance on REDIS_PREFIX; else each instance's own memory.
  const budgets = stores.redis
    ? redisBudgets(stores.redis.connection, stores.redis.keys.rateBudget)
    : memoryBudgets;
  // Each client's share (docs/security.md, "Limits"): refused before the whole server's bounds are.
  const clientLimits = createClientLimits(
    {
      maxTasksRunning: config.MAX_TASKS_PER_CLIENT,
      tasksPerMinute: config.MAX_TASKS_PER_CLIENT_PER_MINUTE,
      taskEventsPerMinute: config.MAX_TASK_EVENTS_PER_CLIENT_PER_MINUTE,
      resultBytesPerMinute: config.MAX_RESULT_BYTES_PER_CLIENT_PER_MINUTE,
      maxStreams: config.MAX_STREAMS_PER_CLIENT,
    },
    budgets,
  );
  engine.onEvent((event) => {
    if (isTerminalEvent(event)) clientLimits.taskEnded(event.taskId);
  });
  const wire = createWireLedger();
  // WIRE_ACCOUNTING=off leaves the measurement out, so that the benchmark can price it: the ledger
  // stays inert (never attached, nothing tagged), and with it x-request-bytes, connection:wire and
  // the wire metrics. Every lane behaves the same either way.
  const accounting = config.WIRE_ACCOUNTING === 'on';
  // Network conditions: a task remembers its creator's link, so that its webhook attempts are shaped
  // by it as the creating request was.
  const network = createNetwork({
    enabled: config.NETWORK_SHAPING === 'on',
    maxLinksPerClient: config.MAX_NETWORK_LINKS_PER_CLIENT,
    linkPrefix: config.NETWORK_LINK_PREFIX,
  });
  // Task → run and lane for the faults too (durable: the receiver and a stalled downstream find a
  // run's tasks by it, whether the wire is counted or not).
  // Who may do what (docs/security.md): the operator (this machine, or OPERATOR_TOKEN) for what
  // reaches everyone; a task's run (its lab tag, a capability only its page knows) for the task.
  const operator = createOperatorGate(config.OPERATOR_TOKEN);
  // On Redis, shared by the instances: a task's run is known wherever its cancel or its takeover comes.
  const faultStore = stores.redis
    ? redisFaultStore(
        stores.redis.connection,
        stores.redis.keys,
        config.RETENTION_HOURS * 3_600_000 + FAULT_RECORDS_MARGIN_MS,
      )
    : sqliteFaultStore(stores.db, stores.batch);
  const ownership = createTaskOwnership({ operator, runOfTask: (taskId) => faultStore.runOfTask(taskId) });
  const faults = createFaults({
    config,
    store: faultStore,
    engine,
    wire,
    logger,
    restart: deps.restart,
    operator,
    // Read when the fault is applied: the webhooks are created below.
    attackReceiver: (taskId) => webhooks.attackReceiver(taskId),
    admit: admission.admit,
  });
  // Every lane creates its tasks through this one helper: admission, the client's share, a new id,
  // task → run and lane for the wire ledger, the faults and the network link, then the engine.
  const tasks = createTaskStarter({
    engine,
    admit: admission.admit,
    clientLimits,
    tagTask: (taskId, req) => {
      if (accounting) wire.tagTask(taskId, req);
      faults.tagTask(taskId, req);
      network.tagTask(taskId, req);
      // Its lane, for the task figures of /metrics and the server's view (read when a task is
      // created, by when `metrics` below exists).
      metrics.tagTask(taskId, req);
    },
    // A run with a busy backend of its own (the busy-backend fault) queues for its own workers.
    poolOf: (req) => faults.poolOf(req),
  });
  // Read at a scrape only, by when io, rooms and webhooks below exist.
  const metrics = createMetrics(engine, accounting ? wire : undefined, {
    socketsByNamespace: () => SOCKET_NAMESPACES.map((name) => [name, io.of(name).sockets.size]),
    rooms: () => rooms.counts(),
    webhooks: () => webhooks.stats(),
  });
  const rooms = createRooms({
    logger,
    budgets,
    clustered: stores.redis !== undefined,
    settings: {
      idleMs: config.ROOM_IDLE_MS,
      maxParticipants: config.ROOM_MAX_PARTICIPANTS,
      failedJoinsPerMinute: config.ROOM_FAILED_JOINS_PER_MINUTE,
      messagesPerSecond: config.ROOM_MESSAGES_PER_SECOND,
      joinsPerClientPerMinute: config.ROOM_JOINS_PER_CLIENT_PER_MINUTE,
      maxSeatsPerClientPercent: config.ROOM_MAX_SEATS_PER_CLIENT_PERCENT,
      maxRoomsPerSocket: config.ROOM_MAX_ROOMS_PER_SOCKET,
      maxRoomsPerClient: config.ROOM_MAX_ROOMS_PER_CLIENT,
      codeShard: config.ROOM_CODE_SHARD,
      presenceIntervalMs: config.ROOM_PRESENCE_INTERVAL_MS,
      // At most 4 aggregates a second to the presenter while results arrive (issue 6).
      aggregateIntervalMs: 250,
    },
  });
  const boards = createBoards({
    rooms: deps.rooms ?? rooms.handle,
    clustered: stores.redis !== undefined,
    logger,
    receiverOrigin: () => {
      const urls = receiver.urls();
      return urls && new URL(urls.webhookUrl).origin;
    },
    scheduleScale: config.WEBHOOK_SCHEDULE_SCALE,
    attemptTimeoutMs: config.WEBHOOK_ATTEMPT_TIMEOUT_MS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    noteLimits: {
      perParticipant: config.BOARD_NOTES_PER_PARTICIPANT,
      presenterReserved: config.BOARD_PRESENTER_RESERVED_NOTES,
    },
  });
  // Which browser pages may use socket.io and the receiver: the lab's own (docs/security.md,
  // "Origins"). The app's port is read when a request comes, by when the app listens.
  const origins = createOriginPolicy({
    allowedOrigins: config.ALLOWED_ORIGINS,
    appPort: () => {
      const address = httpServer.address();
      return address && typeof address !== 'string' ? address.port : undefined;
    },
  });
  // The receiver asks for secrets only when a request comes, by when `webhooks` exists.
  const receiver = createReceiver({
    config,
    logger,
    origins,
    secretForTask: (taskId) => webhooks.secretForTask(taskId),
    route: boards.relay.route,
    faults,
  });
  // Before engine.recover() below, so that events of resumed tasks are queued for their subscribers.
  const webhooks = createWebhooks({
    db: stores.db,
    engine,
    config,
    logger,
    builtInReceiverUrl: () => receiver.urls()?.webhookUrl,
    onAttemptSocket: accounting ? (taskId, socket) => wire.trackOutgoing(taskId, socket) : undefined,
    attemptConnection: network.attemptConnection,
    runOfTask: (taskId) => faultStore.runOfTask(taskId),
    ...(stores.redis ? { handover: redisWebhookHandover(stores.redis.connection, stores.redis.keys) } : {}),
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // task resources set their own strong ETags; nothing else is cacheable

  // socket.io before the routes, so that every lane registers in one place below (the app's request
  // listener is in place already; its routes are read per request).
  const httpServer = createExpressHttpServer(app);
  const io: LabServer = new Server(httpServer, {
    serveClient: false,
    // Before any handshake, polling or WebSocket, on every namespace (/, /room, /board): a page on
    // another site could otherwise open a WebSocket here (WebSockets have no CORS) from a visitor's
    // browser, the operator's own among them (loopback is the operator).
    allowRequest: (req, callback) => {
      const refusal = origins.socketRefusal(req);
      callback(refusal ?? null, refusal === undefined);
    },
    // The heartbeat that notices a dead connection (the blackhole-connections fault shows it): the
    // server gives both figures to the client in its handshake, so both ends time out alike.
    pingInterval: config.SOCKET_PING_INTERVAL_MS,
    pingTimeout: config.SOCKET_PING_TIMEOUT_MS,
    connectionStateRecovery: { maxDisconnectionDuration: config.SOCKET_RECOVERY_MS, skipMiddlewares: true },
    // The largest message a page sends is a few KB (a room's race result: ≤ 8 lanes of ≈ 12 figures;
    // a board note: 140 characters; a task spec: ≈ 100 B). socket.io's default, 1 MB, let one socket
    // make the server parse a megabyte per message; a larger one now closes that socket alone.
    maxHttpBufferSize: config.SOCKET_MAX_MESSAGE_BYTES,
  });
  // On Redis, socket.io spans the instances (its recovery buffer is the adapter's capped stream);
  // alone, its in-memory buffer is bounded here.
  if (stores.redis) {
    joinInstances(io, stores.redis.connection, stores.redis.keys, config.SOCKET_RECOVERY_MAX_PACKETS);
  } else boundRecoveryBuffer(io, config.SOCKET_RECOVERY_MAX_PACKETS);
  // Before any namespace's handlers: a connection past its client's share is refused on every one.
  limitSocketsPerClient(io, clientLimits, metrics.countRefusal);
  // Before any namespace's handlers too: every refused acknowledgement is counted by its reason.
  watchAckRefusals(io, metrics.countRefusal);

  const api = Router();
  const requestBytes = accounting ? requestWireBytes(wire) : undefined;
  api.use(
    requestLogging(logger),
    metrics.timeRequests,
    requireJsonBody,
    bodyLimit(config.BODY_LIMIT_BYTES),
    jsonBody(config.BODY_LIMIT_BYTES),
    ...(requestBytes ? [requestBytes.stamp] : []),
  );
  // A lane's event stream passes through a buffering proxy when a buffer-streams fault holds for its
  // run: wrapped as it opens, before anything is written.
  api.use(trackLaneStreams(faults, SERVER_LANES));
  // Behind a proxy with an idle timeout when an idle-timeout fault holds for the run: every tagged GET.
  api.use(trackIdleAnswers(faults));
  // The asynchronous task resource, `POST /api/tasks`: lanes plug their parts into it below.
  const asyncTasks = registerCreateTask({
    router: api,
    tasks,
    idempotency: stores.idempotency,
    pollIntervalMs: config.POLL_INTERVAL_MS,
    loseAnswer: (req) => faults.loseAnswer(req),
  });
  // Short-lived stream tokens: `POST /api/stream-tokens`; a stream opened with one ends at its expiry.
  const streamTokens = createStreamTokens();
  streamTokens.registerRoutes(api);
  const lane: LaneContext = {
    router: api,
    io,
    engine,
    logger,
    tasks,
    asyncTasks,
    // A stream counts for its client (429 past its share) and for the whole server.
    openStream: (req: IncomingMessage) => {
      const releaseClient = clientLimits.openStream(peerOf(req));
      const releaseTotal = admission.openStream();
      return () => {
        releaseClient();
        releaseTotal();
      };
    },
    ownership,
    webhooks,
    settings: { syncTimeoutMs: config.SYNC_TIMEOUT_MS, wireAccounting: accounting },
    streamTokens,
  };
  for (const each of SERVER_LANES) each.register(lane);
  registerWireReport({ router: api, wire });
  // Scenes people hit in production: `POST /api/scenes/storm`, `GET /api/scenes/stream-demo`.
  const scenes = createScenes(logger, config.H2_PORT);
  scenes.registerRoutes(api);
  faults.registerRoutes(api);
  network.registerRoutes(api);
  boards.registerRoutes(api);
  const settings = (): PublicSettings => ({
    protocolVersion: PROTOCOL_VERSION,
    syncTimeoutMs: config.SYNC_TIMEOUT_MS,
    pollIntervalMs: config.POLL_INTERVAL_MS,
    maxLongPollWaitMs: MAX_LONG_POLL_WAIT_MS,
    // Where the receiver listens; before it does, where it is configured to.
    receiver: receiver.urls() ?? {
      port: config.RECEIVER_PORT,
      webhookUrl: `http://127.0.0.1:${config.RECEIVER_PORT}/webhooks`,
    },
    webhookScheduleScale: config.WEBHOOK_SCHEDULE_SCALE,
    socketHeartbeat: {
      pingIntervalMs: config.SOCKET_PING_INTERVAL_MS,
      pingTimeoutMs: config.SOCKET_PING_TIMEOUT_MS,
    },
    faults: config.FAULTS,
    lanUrls: lanUrls(config.HOST, httpServer.address()),
    ...(scenes.h2.port() !== undefined ? { h2Port: scenes.h2.port() } : {}),
  });
  api.use(commonRoutes({ engine, storeKind: store.kind, startedAt, settings, ownership }));
  api.get(API_PATHS.metrics, async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  // The same figures as JSON for the page's panel (observability/serverView.ts).
  registerServerView(api, { registry: metrics.registry, startedAt, window: metrics.window });
  api.use(contractRoutes(SERVER_LANES));
  api.use('/api', apiNotFound);
  if (requestBytes) api.use(requestBytes.stampOnError);
  api.use(errorHandler(config.BODY_LIMIT_BYTES, metrics.countRefusal));
  app.use(api);

  // Past the API: what follows is the page (its file, its assets, the fallback, their errors). Its
  // security headers stop here, off every lane's answer (http/pageHeaders.ts says why).
  app.use(
    pageSecurityHeaders({
      receiverPort: () => receiver.urls()?.port ?? config.RECEIVER_PORT,
      h2Port: () => scenes.h2.port(),
    }),
  );
  if (staticDirIsBuilt(config)) {
    app.use(network.pageLoad);
    app.use(express.static(config.STATIC_DIR, { index: false, maxAge: '1h', immutable: false }));
    // Single-page app: every other GET gets the page; its router reads the path.
    app.get('/{*splat}', (_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(join(config.STATIC_DIR, 'index.html'));
    });
  } else {
    logger.warn(
      { staticDir: config.STATIC_DIR },
      'client not built: serving the API only (npm start builds it)',
    );
    app.get('/{*splat}', (_req, res) => {
      res
        .status(503)
        .type('text')
        .send('The client is not built. Run `npm start`, which builds it, or `npm run dev`.');
    });
  }

  app.use(pageNotFound, pageErrorHandler(logger));

  rooms.register(io);
  boards.registerSocket(io);
  // After socket.io has taken over the server's request listeners, so that the ledger's own,
  // prepended, sees socket.io's requests too. The receiver's relay streams are counted on its side;
  // its POST /webhooks is counted on the dispatcher's sockets instead (the same bytes, once).
  if (accounting) {
    wire.attach(httpServer, 'page', laneRoutes(SERVER_LANES, io.path()));
    const relayPrefix = RECEIVER_PATHS.relay('');
    wire.attach(
      receiver.httpServer,
      'receiverToPage',
      (method, path) => (method === 'GET' || method === 'OPTIONS') && path.startsWith(relayPrefix),
    );
  }

  // Last, once node:http's own connection listener is in place on both listeners: the intake reads
  // each connection's first request head for the page's link before node:http sees it.
  network.attach(httpServer);
  network.attach(receiver.httpServer);

  // On SQLite, this start resumes every task the last one left unfinished. On Redis, each task is held
  // by the instance that runs it (a BullMQ job, tasks/leases.ts: loaded on Redis alone), and one that is
  // gone, killed or stopped, hands its tasks to another instance through BullMQ's stalled-job recovery.
  let leases: TaskLeases | undefined;
  if (config.REDIS_URL) {
    const { startTaskLeases } = await import('./tasks/leases.ts');
    leases = await startTaskLeases({
      redisUrl: config.REDIS_URL,
      prefix: config.REDIS_PREFIX,
      lockMs: config.TASK_LOCK_MS,
      engine,
      logger,
      onTakeover: (taskId) => {
        webhooks
          .adopt(taskId)
          .catch((error: unknown) =>
            logger.error({ err: error, taskId }, 'could not go on with the webhooks of a task taken over'),
          );
      },
      webhooksSettled: (taskId) => webhooks.whenSettled(taskId),
    });
  } else {
    const resumed = await engine.recover();
    if (resumed > 0) logger.info({ resumed }, 'resumed tasks that were running before the restart');
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await engine.stop();
      // Its tasks halted and stored: handed back for another instance (or the next start) to take on.
      await leases?.close();
      boards.close();
      // No more events now; in-flight attempts end (or are cut and stay pending) before the db closes.
      await webhooks.close();
      await receiver.close();
      rooms.close();
      network.close();
      await scenes.close();
      await new Promise<void>((resolve) => {
        io.close(() => resolve()); // closes the HTTP server too
        httpServer.closeAllConnections();
      });
      metrics.close();
      admission.close();
      await stores.close();
    })();
    return closing;
  };

  return {
    httpServer,
    app,
    io,
    engine,
    store,
    logger,
    webhooks,
    receiver,
    wire,
    rooms: rooms.handle,
    boards,
    network,
    faults,
    operator,
    admission,
    clientLimits,
    scenes,
    close,
  };
}

/** Where a listening app answers: the page/API port and the built-in receiver's port. */
export interface Listening {
  port: number;
  receiverPort: number;
  /** The HTTP/2 demo port, when `H2_PORT` is set. */
  h2Port?: number;
}

/**
 * Connections the kernel may hold accepted but not yet taken by the event loop. A hall's "Start for
 * everyone" opens about five connections per phone within a second (its HTTP lanes and its socket):
 * with Node's default of 511, at 200 phones the accept queue overflowed (72–375 `ListenOverflows` per
 * start in the capacity benchmark) and each SYN it dropped was sent again only 1 s, then 3 s later,
 * which made `POST /api/tasks` p99 seconds long while the server was idle again within one. A queue
 * this long holds the burst instead; the kernel caps it at `net.core.somaxconn` (4096 on Linux ≥ 5.4).
 */
const LISTEN_BACKLOG = 4096;

function listenOne(server: HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Listens the app and its built-in receiver (port 0 picks a free one): what main.ts and every
 *  test harness do, written once. */
export async function listen(
  app: AppHandle,
  {
    port,
    receiverPort,
    host,
    warm = false,
  }: {
    port: number;
    receiverPort: number;
    host: string;
    /** Run one tiny task through each lane over loopback before resolving (server/src/warmup.ts):
     *  the first race after a start then costs what later ones do. */
    warm?: boolean;
  },
): Promise<Listening> {
  const listening: Listening = {
    port: await listenOne(app.httpServer, port, host),
    receiverPort: await listenOne(app.receiver.httpServer, receiverPort, host),
  };
  // The HTTP/2 demo port, when H2_PORT is set (server/src/scenes/h2.ts).
  const h2Port = await app.scenes.listenH2(host);
  if (h2Port !== undefined) listening.h2Port = h2Port;
  if (warm) {
    const tookMs = await warmUp(`http://${urlHost(host)}:${listening.port}`, app.logger);
    app.logger.info({ tookMs: Math.round(tookMs) }, 'warmed up every lane');
  }
  return listening;
}

/** Where this process reaches its own listener: loopback for "any address", brackets for IPv6. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
