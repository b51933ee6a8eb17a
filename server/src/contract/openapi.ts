import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import {
  API_PATHS,
  API_ROUTES,
  BOARD_PATHS,
  BOARD_ROUTES,
  BoardChange,
  BoardChanges,
  BoardChangesQuery,
  BoardEditRequest,
  BoardEditResponse,
  BoardQuery,
  BoardReportRequest,
  BoardReportResponse,
  BoardResponse,
  BoardState,
  BoardWebhookPayload,
  CreateTaskBody,
  CreateTaskResponse,
  ERROR_STATUS,
  FAULT_PATHS,
  Fault,
  FaultResponse,
  FaultsQuery,
  FaultsResponse,
  HealthResponse,
  HTTP_HEADERS,
  IdempotencyKey,
  LinkResponse,
  NETWORK_LINK_COOKIE,
  NETWORK_PATHS,
  PROTOCOL_VERSION,
  PublicSettings,
  RECEIVER_PATHS,
  RelayMessage,
  RoomCode,
  RunId,
  RunTasksResponse,
  SCENE_PATHS,
  SetLinkRequest,
  STORM,
  StormRequest,
  StormResponse,
  StreamDemoQuery,
  StreamTokenRequest,
  StreamTokenResponse,
  TaskResponse,
  TimeResponse,
  WEBHOOK_HEADERS,
  WebhookPayload,
  WireReport,
} from '@transport-lab/shared';
import { ServerView } from '@transport-lab/shared/server-view';
import { z } from 'zod';
import type { ServerLane } from '../transports/lane.ts';
import { RECEIVER_ERROR_STATUS } from '../webhooks/receiver.ts';
import {
  ADMISSION,
  BODY,
  errorResponses,
  errors,
  json,
  labTagHeaders,
  lastEventIdHeader,
  notModified,
  ok,
  openApiPath,
  queryOf,
  type Responses,
  taskIdParams,
} from './describe.ts';

/**
 * The HTTP API as an OpenAPI 3.1 document, built from the shared zod schemas the routes parse with
 * (`@asteasolutions/zod-to-openapi`), so that the contract cannot say one thing while the code parses
 * another. Every route the app registers is described here, a lane's routes by the lane itself
 * (`ServerLane.describe`, beside its code; test/contract.test.ts walks the app's router and fails on
 * one that is not), with every status it answers and, per error status, the
 * `code`s of the one error envelope it can carry. The built-in receiver's routes, on their own port,
 * carry their own `servers`.
 */

/** The built-in receiver's error answers: its own table (webhooks/receiver.ts), INTERNAL too. */
const receiverErrors = (...codes: (keyof typeof RECEIVER_ERROR_STATUS)[]): Responses =>
  errorResponses({ ...RECEIVER_ERROR_STATUS, INTERNAL: ERROR_STATUS.INTERNAL }, [...codes, 'INTERNAL']);

const roomCodeParams = z.object({ code: RoomCode });

function buildRegistry(lanes: readonly ServerLane[]): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  const path = (config: RouteConfig) => registry.registerPath({ ...config, path: openApiPath(config.path) });

  // Tasks: the lanes' routes.
  path({
    method: 'post',
    path: API_PATHS.tasks,
    tags: ['tasks'],
    summary: 'Create a task (short polling, long polling, SSE, webhook, hybrid lanes)',
    description:
      '202 with `Location` and `Retry-After` at once; with `Prefer: respond-async, wait=N` (the hybrid) 200 when the task ends within N s. With `Idempotency-Key` the same key and body replay the first answer.',
    request: {
      headers: labTagHeaders.extend({
        [HTTP_HEADERS.idempotencyKey]: IdempotencyKey.optional(),
        [HTTP_HEADERS.prefer]: z
          .string()
          .optional()
          .meta({ description: '`respond-async, wait=N` (N ≤ 60)' }),
      }),
      body: { required: true, ...json(CreateTaskBody) },
    },
    responses: {
      200: ok('The task ended within the `Prefer: wait`.', CreateTaskResponse),
      202: ok('Created; follow it at `Location`.', CreateTaskResponse),
      ...errors(BODY, ADMISSION, ['IDEMPOTENCY_KEY_IN_USE', 'IDEMPOTENCY_KEY_REUSED', 'WEBHOOK_URL_REFUSED']),
    },
  });
  // Each lane describes its own routes, from its folder, in the page's order.
  for (const lane of lanes) lane.describe?.(path);
  path({
    method: 'post',
    path: API_ROUTES.cancel,
    tags: ['tasks'],
    summary: 'Cancel a task (its owner or the operator)',
    request: { params: taskIdParams, headers: labTagHeaders },
    responses: {
      200: ok('The task, cancelled.', TaskResponse),
      // UNAVAILABLE: the server is stopping, or (several instances on Redis) no instance ran the task
      // to cancel it within 5 s (one taking it over from an instance that died).
      ...errors(BODY, ['FORBIDDEN', 'NOT_FOUND', 'TASK_FINISHED', 'UNAVAILABLE']),
    },
  });

  // Observation of a run and of the server.
  path({
    method: 'get',
    path: API_ROUTES.wire,
    tags: ['observation'],
    summary: 'The server’s own count of one run’s lane traffic',
    request: { params: z.object({ runId: RunId }) },
    responses: {
      200: ok('Per lane and channel.', WireReport),
      ...errors(['VALIDATION_FAILED', 'NOT_FOUND']),
    },
  });
  path({
    method: 'get',
    path: API_ROUTES.runTasks,
    tags: ['observation'],
    summary: 'The tasks a run’s tagged requests created, each with its lane and its state now',
    description:
      'Oldest first, at most 100. The run id is the capability, as for its faults and wire count: a blocking call’s task, whose id the page never learns when it cancels, is listed too.',
    request: { params: z.object({ runId: RunId }) },
    responses: {
      200: ok('The run’s tasks.', RunTasksResponse),
      ...errors(['VALIDATION_FAILED']),
    },
  });
  path({
    method: 'post',
    path: API_PATHS.streamTokens,
    tags: ['tasks'],
    summary: 'A short-lived token for event streams',
    description:
      'An EventSource cannot send Authorization, so the token rides in the stream’s URL (`?token=`); the SSE route refuses an unknown or expired one with `401 TOKEN_INVALID` and ends a stream when its token expires. At most 20 live per client.',
    request: { body: { required: true, ...json(StreamTokenRequest) } },
    responses: {
      201: ok('The token and when it expires (server clock, epoch ms).', StreamTokenResponse),
      ...errors(BODY, ['RATE_LIMITED']),
    },
  });
  // Scenes people hit in production (server/src/scenes).
  path({
    method: 'post',
    path: SCENE_PATHS.storm,
    tags: ['scenes'],
    summary: 'A reconnect storm: socket.io clients of the server’s own reconnect after a restart',
    description: `The server starts a socket.io server of its own on a loopback port and ${STORM.clients} socket.io clients (each side a child process), drops every connection at once, listens again after ${STORM.downtimeMs} ms, and counts the TCP connections it accepts per ${STORM.bucketMs} ms as the clients come back with the given \`randomizationFactor\` (reconnectionDelay ${STORM.reconnectionDelayMs} ms). Nobody else’s connection is touched. One storm at a time.`,
    request: { body: { required: true, ...json(StormRequest) } },
    responses: {
      200: ok('The connections accepted per bucket since the restart.', StormResponse),
      ...errors(BODY, ['UNAVAILABLE']),
    },
  });
  path({
    method: 'get',
    path: SCENE_PATHS.streamDemo,
    tags: ['scenes'],
    summary: 'A demo event stream that says hello at once, then holds (the six-streams scene)',
    description:
      'One `data:` event (StreamDemoHello: the HTTP version and the browser’s TCP port it came on), then nothing until the browser closes it or 30 s pass. The same route answers over HTTP/2 on `H2_PORT` when set.',
    request: { query: StreamDemoQuery },
    responses: {
      200: {
        description: 'An event stream: one `data:` line holding a StreamDemoHello.',
        content: { 'text/event-stream': { schema: z.string() } },
      },
      ...errors(['VALIDATION_FAILED', 'UNAVAILABLE']),
    },
  });
  path({
    method: 'get',
    path: API_PATHS.time,
    tags: ['observation'],
    summary: 'The server clock, for clock-offset estimation',
    responses: { 200: ok('Epoch ms at receipt and at send.', TimeResponse), ...errors() },
  });
  path({
    method: 'get',
    path: API_PATHS.settings,
    tags: ['observation'],
    summary: 'What the page needs of the server’s settings',
    responses: { 200: ok('The public settings.', PublicSettings), ...errors() },
  });
  path({
    method: 'get',
    path: API_PATHS.health,
    tags: ['operations'],
    summary: 'Liveness',
    responses: { 200: ok('Alive.', HealthResponse), ...errors() },
  });
  path({
    method: 'get',
    path: API_PATHS.metrics,
    tags: ['operations'],
    summary: 'Prometheus metrics (docs/operations.md lists the series)',
    responses: {
      200: {
        description: 'The text exposition format.',
        content: { 'text/plain': { schema: z.string() } },
      },
      ...errors(),
    },
  });
  path({
    method: 'get',
    path: API_PATHS.serverView,
    tags: ['observation'],
    summary:
      'The server’s own view: tasks, per-lane queue time and end to end, connections, webhook attempts',
    description:
      'Read from the same series as `/metrics`. Counts are since the process started; percentiles (nearest rank, ms) are over each lane’s latest `window` tasks. The same view is served to every request within `SERVER_VIEW_MAX_AGE_MS` (1 s) of its build.',
    responses: { 200: ok('The view.', ServerView), ...errors() },
  });
  path({
    method: 'get',
    path: API_PATHS.openapi,
    tags: ['operations'],
    summary: 'This document',
    responses: {
      200: ok('OpenAPI 3.1.', z.record(z.string(), z.unknown())),
      ...errors(),
    },
  });
  path({
    method: 'get',
    path: API_PATHS.asyncapi,
    tags: ['operations'],
    summary: 'The socket.io namespaces and the webhook deliveries, as AsyncAPI 3.0',
    responses: {
      200: ok('AsyncAPI 3.0.', z.record(z.string(), z.unknown())),
      ...errors(),
    },
  });

  // Faults and network conditions.
  path({
    method: 'post',
    path: FAULT_PATHS.faults,
    tags: ['faults'],
    summary: 'Inject a fault into one run (restart and receiver timeout: the operator’s)',
    request: { body: { required: true, ...json(Fault) } },
    responses: {
      201: ok('Applied and recorded.', FaultResponse),
      ...errors(BODY, ['FORBIDDEN', 'RATE_LIMITED']),
    },
  });
  path({
    method: 'get',
    path: FAULT_PATHS.faults,
    tags: ['faults'],
    summary: 'The run’s faults, oldest first',
    request: { query: queryOf(FaultsQuery) },
    responses: { 200: ok('The faults.', FaultsResponse), ...errors(['VALIDATION_FAILED']) },
  });
  path({
    method: 'get',
    path: NETWORK_PATHS.link,
    tags: ['network'],
    summary: 'This browser’s network link, by its cookie',
    request: { cookies: z.object({ [NETWORK_LINK_COOKIE]: z.string().optional() }) },
    responses: { 200: ok('The link (`linkId: null` without one).', LinkResponse), ...errors() },
  });
  path({
    method: 'put',
    path: NETWORK_PATHS.link,
    tags: ['network'],
    summary: 'Choose this browser’s network conditions',
    description: `Answers with a \`Set-Cookie: ${NETWORK_LINK_COOKIE}=…\` and \`Connection: close\`; the browser’s connections under its previous link are closed.`,
    request: { body: { required: true, ...json(SetLinkRequest) } },
    responses: {
      200: ok('The new link.', LinkResponse),
      ...errors(BODY, ['RATE_LIMITED', 'UNAVAILABLE']),
    },
  });

  // The shared board.
  path({
    method: 'get',
    path: BOARD_ROUTES.board,
    tags: ['board'],
    summary: 'The board, with ETag `"board.<code>.<version>"`',
    request: { params: roomCodeParams, query: queryOf(BoardQuery) },
    responses: {
      200: ok('The board and the server time of each version after `since`.', BoardResponse),
      ...notModified,
      ...errors(['VALIDATION_FAILED', 'NOT_FOUND']),
    },
  });
  path({
    method: 'post',
    path: BOARD_ROUTES.edits,
    tags: ['board'],
    summary: 'Edit the board (a participant)',
    request: { params: roomCodeParams, body: { required: true, ...json(BoardEditRequest) } },
    responses: {
      200: ok('The change; the same `editId` again answers the same change.', BoardEditResponse),
      ...errors(BODY, ['FORBIDDEN', 'NOT_FOUND', 'BOARD_CONFLICT', 'ROOM_ENDED', 'RATE_LIMITED']),
    },
  });
  path({
    method: 'post',
    path: BOARD_ROUTES.reports,
    tags: ['board'],
    summary: 'When this page showed each version',
    request: { params: roomCodeParams, body: { required: true, ...json(BoardReportRequest) } },
    responses: {
      200: ok('How many versions were kept.', BoardReportResponse),
      ...errors(BODY, ['FORBIDDEN', 'NOT_FOUND', 'ROOM_ENDED', 'RATE_LIMITED']),
    },
  });
  path({
    method: 'get',
    path: BOARD_ROUTES.changes,
    tags: ['board'],
    summary: 'Long poll: changes after `after`, held up to `waitMs`',
    request: { params: roomCodeParams, query: queryOf(BoardChangesQuery) },
    responses: {
      200: ok('The changes, or a snapshot.', BoardChanges),
      ...errors(['VALIDATION_FAILED', 'NOT_FOUND']),
    },
  });
  path({
    method: 'get',
    path: BOARD_ROUTES.stream,
    tags: ['board'],
    summary: 'SSE: `event: change` per change, `event: snapshot` when the resume is older than the log',
    request: {
      params: roomCodeParams,
      query: queryOf(BoardChangesQuery.pick({ after: true })),
      headers: lastEventIdHeader,
    },
    responses: {
      200: {
        description: 'An event stream: `change` events carry a BoardChange, `snapshot` a BoardState.',
        content: { 'text/event-stream': { schema: z.union([BoardChange, BoardState]) } },
      },
      ...errors(['VALIDATION_FAILED', 'NOT_FOUND']),
    },
  });

  // The built-in receiver ("your backend"), on RECEIVER_PORT.
  const receiver: Pick<RouteConfig, 'servers' | 'tags'> = {
    tags: ['receiver'],
    servers: [
      {
        url: 'http://{host}:{receiverPort}',
        description: 'The built-in webhook receiver, on its own port',
        variables: { host: { default: 'localhost' }, receiverPort: { default: '3001' } },
      },
    ],
  };
  const webhookHeaders = z.object({
    [WEBHOOK_HEADERS.id]: z.string(),
    [WEBHOOK_HEADERS.timestamp]: z.string().regex(/^\d+$/),
    [WEBHOOK_HEADERS.signature]: z.string(),
  });
  const delivered: Responses = {
    200: {
      description: 'Verified and accepted (a repeat of a webhook-id is answered 200 and relayed once).',
      ...json(z.object({ ok: z.literal(true) })),
    },
    ...receiverErrors('WEBHOOK_SIGNATURE_INVALID', 'MALFORMED_WEBHOOK', 'PAYLOAD_TOO_LARGE', 'FORBIDDEN'),
    429: {
      description:
        'An injected receiver fault (`throttle-429`): no body; `Retry-After` if the fault set one.',
    },
    503: {
      description:
        'An injected receiver fault (`unavailable-503`): no body; `Retry-After` if the fault set one.',
    },
  };
  path({
    ...receiver,
    method: 'post',
    path: RECEIVER_PATHS.webhooks,
    summary: 'Receive a task webhook (Standard Webhooks)',
    request: { headers: webhookHeaders, body: { required: true, ...json(WebhookPayload) } },
    responses: delivered,
  });
  path({
    ...receiver,
    method: 'post',
    path: BOARD_PATHS.receiverWebhooks,
    summary: 'Receive a board-change webhook (Standard Webhooks)',
    request: { headers: webhookHeaders, body: { required: true, ...json(BoardWebhookPayload) } },
    responses: delivered,
  });
  path({
    ...receiver,
    method: 'get',
    path: '/relay/tasks/{id}',
    summary: 'SSE: each delivery the receiver accepted for the task',
    request: { params: taskIdParams },
    responses: {
      200: {
        description: 'One RelayMessage per accepted delivery.',
        content: { 'text/event-stream': { schema: RelayMessage } },
      },
      204: { description: 'Everything up to the task’s end was relayed: EventSource stops.' },
      ...receiverErrors('VALIDATION_FAILED', 'FORBIDDEN'),
    },
  });
  path({
    ...receiver,
    method: 'get',
    path: '/relay/boards/{code}',
    summary: 'SSE: each board change the receiver accepted',
    request: { params: roomCodeParams },
    responses: {
      200: {
        description: 'One `change` event per accepted change.',
        content: { 'text/event-stream': { schema: BoardChange } },
      },
      ...receiverErrors('VALIDATION_FAILED', 'FORBIDDEN'),
    },
  });

  // The deliveries themselves, as OpenAPI 3.1 webhooks: what a subscriber's URL receives.
  registry.registerWebhook({
    method: 'post',
    path: 'task.event',
    summary: 'One task event, delivered to `webhook.url` of `POST /api/tasks`',
    request: { headers: webhookHeaders, body: { required: true, ...json(WebhookPayload) } },
    responses: {
      200: { description: 'Any 2xx: delivered. Otherwise retried on the Standard Webhooks schedule.' },
    },
  });
  return registry;
}

type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;
const cached = new WeakMap<readonly ServerLane[], OpenApiDocument>();

/** The document of an app serving `lanes`, built once per list: it depends on the schemas alone. */
export function openApiDocument(lanes: readonly ServerLane[]): OpenApiDocument {
  const known = cached.get(lanes);
  if (known !== undefined) return known;
  const document = new OpenApiGeneratorV31(buildRegistry(lanes).definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Transport Lab',
      version: `${PROTOCOL_VERSION}`,
      description:
        'One long-running task over request/response, short polling, long polling, SSE, webhooks, websockets and a hybrid. Every error is `{"error": {"code", "message", "details"?}}`; the socket.io namespaces are in the AsyncAPI document at /api/asyncapi.json.',
    },
    servers: [{ url: '/' }],
    externalDocs: { description: 'AsyncAPI: socket.io and webhooks', url: API_PATHS.asyncapi },
  });
  cached.set(lanes, document);
  return document;
}
