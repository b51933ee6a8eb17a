import {
  BOARD_EVENTS,
  BOARD_NAMESPACE,
  BOARD_PATHS,
  BoardChange,
  type BoardClientToServerEvents,
  type BoardServerToClientEvents,
  BoardSubscribeAck,
  BoardSubscribeRequest,
  BoardWebhookPayload,
  CancelAck,
  CancelRequest,
  type ClientToServerEvents,
  ClockReport,
  CreateRoomAck,
  CreateRoomRequest,
  HandshakeWire,
  HelloAck,
  InjectFaultRequest,
  JoinRoomAck,
  JoinRoomRequest,
  PROTOCOL_VERSION,
  PresenceBatch,
  PropagationUpdate,
  RaceAggregate,
  RaceProgress,
  RaceResult,
  RECEIVER_PATHS,
  ROOM_EVENTS,
  ROOM_NAMESPACE,
  RoomAck,
  type RoomClientToServerEvents,
  RoomEnded,
  RoomFaultNotice,
  RoomRace,
  RoomScenario,
  type RoomServerToClientEvents,
  type ServerToClientEvents,
  SetScenarioRequest,
  SOCKET_EVENTS,
  StartAck,
  StartRaceAck,
  StartRequest,
  SubscribeAck,
  SubscribeRequest,
  TaskEvent,
  TaskSpec,
  TRACEPARENT_HEADER,
  WEBHOOK_HEADERS,
  WebhookPayload,
} from '@transport-lab/shared';
import { z } from 'zod';

/**
 * The socket.io namespaces (`/`, `/room`, `/board`) and the webhook deliveries as an AsyncAPI 3.0
 * document, from the same zod schemas the handlers parse with (`z.toJSONSchema`). The tables below
 * are typed against the shared event interfaces, so an event added to one of them and not here does
 * not compile; test/contract.test.ts also checks every event a connected socket listens for.
 *
 * AsyncAPI describes one application, here the server: what a client emits, the server `receive`s
 * (and answers with the socket.io acknowledgement, an operation `reply`); what it emits, it `send`s.
 */

/** A client → server event: its one argument before the ack (none for a bare request), and the ack. */
interface Request {
  payload?: z.ZodType;
  ack: z.ZodType;
  summary: string;
}
/** A server → client event: its one argument (none for a bare signal). */
interface Push {
  payload?: z.ZodType;
  summary: string;
}

interface Namespace {
  key: string;
  address: string;
  description: string;
  requests: Record<string, Request>;
  pushes: Record<string, Push>;
}

const root: Namespace = {
  key: 'lanes',
  address: '/',
  description: 'The websocket lane: start, follow and cancel tasks.',
  requests: {
    [SOCKET_EVENTS.start]: {
      // Described as the union it is; the lane parses each form with its own schema.
      payload: z.union([TaskSpec, StartRequest]),
      ack: StartAck,
      summary:
        'Start a task; its events follow as task:event. The payload is the spec, or {spec, traceparent}: the page’s W3C trace context for the task.',
    },
    [SOCKET_EVENTS.subscribe]: {
      payload: SubscribeRequest,
      ack: SubscribeAck,
      summary: 'Follow a task from a seq: the ack has the stored events after it, live ones follow.',
    },
    [SOCKET_EVENTS.cancel]: {
      payload: CancelRequest,
      ack: CancelAck,
      summary: 'Cancel a task: the connection that started it, one tagged with its run, or the operator.',
    },
  } satisfies Record<keyof ClientToServerEvents, Request>,
  pushes: {
    [SOCKET_EVENTS.event]: { payload: TaskEvent, summary: 'One event of a followed task.' },
    [SOCKET_EVENTS.wire]: {
      payload: HandshakeWire,
      summary: 'Once per connection: the bytes of the HTTP upgrade as the server read and wrote them.',
    },
  } satisfies Record<keyof ServerToClientEvents, Push>,
};

const room: Namespace = {
  key: 'room',
  address: ROOM_NAMESPACE,
  description: 'Rooms: a presenter and an audience racing together (own connection, `forceNew`).',
  requests: {
    [ROOM_EVENTS.hello]: {
      ack: HelloAck,
      summary: 'A single-use nonce for this connection’s presenter proof.',
    },
    [ROOM_EVENTS.create]: {
      payload: CreateRoomRequest,
      ack: CreateRoomAck,
      summary: 'Create a room; the creator presents.',
    },
    [ROOM_EVENTS.join]: { payload: JoinRoomRequest, ack: JoinRoomAck, summary: 'Join (or resume) a room.' },
    [ROOM_EVENTS.leave]: { ack: RoomAck, summary: 'Leave the room.' },
    [ROOM_EVENTS.clock]: {
      payload: ClockReport,
      ack: RoomAck,
      summary: 'This page’s clock offset, shown in presence.',
    },
    [ROOM_EVENTS.setScenario]: {
      payload: SetScenarioRequest,
      ack: RoomAck,
      summary: 'Presenter: set the scenario.',
    },
    [ROOM_EVENTS.startRace]: { ack: StartRaceAck, summary: 'Presenter: start a race for everyone.' },
    [ROOM_EVENTS.end]: { ack: RoomAck, summary: 'Presenter: end the room.' },
    [ROOM_EVENTS.injectFault]: {
      payload: InjectFaultRequest,
      ack: RoomAck,
      summary: 'Presenter: inject a fault into the current race.',
    },
    [ROOM_EVENTS.result]: { payload: RaceResult, ack: RoomAck, summary: 'A participant’s race figures.' },
  } satisfies Record<keyof RoomClientToServerEvents, Request>,
  pushes: {
    [ROOM_EVENTS.presence]: { payload: PresenceBatch, summary: 'Who joined, changed or left, batched.' },
    [ROOM_EVENTS.scenario]: { payload: RoomScenario, summary: 'The presenter set the scenario.' },
    [ROOM_EVENTS.race]: { payload: RoomRace, summary: 'A race started.' },
    [ROOM_EVENTS.raceProgress]: { payload: RaceProgress, summary: 'How many have reported.' },
    [ROOM_EVENTS.aggregate]: { payload: RaceAggregate, summary: 'Presenter: the race’s aggregate.' },
    [ROOM_EVENTS.ended]: { payload: RoomEnded, summary: 'The room ended.' },
    [ROOM_EVENTS.fault]: { payload: RoomFaultNotice, summary: 'Audience: a fault to apply to its own run.' },
  } satisfies Record<keyof RoomServerToClientEvents, Push>,
};

const board: Namespace = {
  key: 'board',
  address: BOARD_NAMESPACE,
  description: 'The shared board of a room (own connection).',
  requests: {
    [BOARD_EVENTS.subscribe]: {
      payload: BoardSubscribeRequest,
      ack: BoardSubscribeAck,
      summary: 'Follow a board from a version (with a presenter’s credentials, its propagation map too).',
    },
  } satisfies Record<keyof BoardClientToServerEvents, Request>,
  pushes: {
    [BOARD_EVENTS.change]: { payload: BoardChange, summary: 'One change, in version order.' },
    [BOARD_EVENTS.propagation]: {
      payload: PropagationUpdate,
      summary: 'Presenter: new propagation map entries.',
    },
    [BOARD_EVENTS.ended]: { summary: 'The room ended; the board is gone.' },
  } satisfies Record<keyof BoardServerToClientEvents, Push>,
};

export const SOCKET_NAMESPACES: readonly Namespace[] = [root, room, board];

/** JSON Schema (draft-07, AsyncAPI's schema dialect) of a shared zod schema: what travels. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    target: 'draft-7',
    io,
    unrepresentable: 'any',
  });
  return json;
}

/** A message key: AsyncAPI's component keys allow `[A-Za-z0-9._-]` only, so `room:race:start` → `room.race.start`. */
const keyOf = (event: string) => event.replaceAll(':', '.');

const webhookHeaders = {
  type: 'object',
  required: [WEBHOOK_HEADERS.id, WEBHOOK_HEADERS.timestamp, WEBHOOK_HEADERS.signature],
  properties: {
    [WEBHOOK_HEADERS.id]: { type: 'string', description: 'The same on every attempt of one delivery.' },
    [WEBHOOK_HEADERS.timestamp]: { type: 'string', pattern: '^\\d+$', description: 'Unix seconds.' },
    [WEBHOOK_HEADERS.signature]: {
      type: 'string',
      description: '`v1,<base64 HMAC-SHA256>` (Standard Webhooks).',
    },
    [TRACEPARENT_HEADER]: {
      type: 'string',
      pattern: '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
      description: "W3C Trace Context: the task's trace-id (its `traceId`), a new parent-id per attempt.",
    },
  },
};

function buildDocument() {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const ref = ($ref: string) => ({ $ref });

  for (const ns of SOCKET_NAMESPACES) {
    const messages: Record<string, unknown> = {};
    for (const [event, { payload, ack, summary }] of Object.entries(ns.requests)) {
      const key = keyOf(event);
      messages[key] = {
        name: event,
        summary,
        ...(payload
          ? { payload: schemaOf(payload, 'input') }
          : { description: 'No argument: the acknowledgement callback is the only one.' }),
      };
      messages[`${key}.ack`] = {
        name: `${event} acknowledgement`,
        summary: `The acknowledgement of ${event}: {ok: true, …} or {ok: false, error}.`,
        payload: schemaOf(ack, 'output'),
      };
      operations[`${ns.key}.${key}`] = {
        action: 'receive',
        channel: ref(`#/channels/${ns.key}`),
        summary,
        messages: [ref(`#/channels/${ns.key}/messages/${key}`)],
        reply: {
          channel: ref(`#/channels/${ns.key}`),
          messages: [ref(`#/channels/${ns.key}/messages/${key}.ack`)],
        },
      };
    }
    for (const [event, { payload, summary }] of Object.entries(ns.pushes)) {
      const key = keyOf(event);
      messages[key] = {
        name: event,
        summary,
        ...(payload ? { payload: schemaOf(payload, 'output') } : { description: 'No argument.' }),
      };
      operations[`${ns.key}.${key}`] = {
        action: 'send',
        channel: ref(`#/channels/${ns.key}`),
        summary,
        messages: [ref(`#/channels/${ns.key}/messages/${key}`)],
      };
    }
    channels[ns.key] = {
      address: ns.address,
      title: `socket.io namespace ${ns.address}`,
      description: ns.description,
      servers: [ref('#/servers/lab')],
      messages,
    };
  }

  // The webhook deliveries: the server sends them to the subscriber's URL (the built-in receiver's
  // by default), signed per Standard Webhooks, at least once.
  const webhooks = [
    {
      key: 'taskWebhooks',
      address: RECEIVER_PATHS.webhooks,
      message: 'task.event',
      payload: WebhookPayload,
      summary: 'One task event (`type: task.<event type>`) delivered to `webhook.url` of POST /api/tasks.',
    },
    {
      key: 'boardWebhooks',
      address: BOARD_PATHS.receiverWebhooks,
      message: 'board.change',
      payload: BoardWebhookPayload,
      summary: 'One board change, delivered to the built-in receiver for the webhook lane’s relay.',
    },
  ];
  for (const hook of webhooks) {
    channels[hook.key] = {
      address: hook.address,
      title: `Webhook deliveries: ${hook.message}`,
      description:
        'POST with Standard Webhooks headers; any 2xx is delivered, anything else is retried on the specification’s schedule × WEBHOOK_SCHEDULE_SCALE.',
      servers: [ref('#/servers/receiver')],
      messages: {
        [hook.message]: {
          name: hook.message,
          summary: hook.summary,
          contentType: 'application/json',
          headers: webhookHeaders,
          payload: schemaOf(hook.payload, 'output'),
        },
      },
    };
    operations[hook.key] = {
      action: 'send',
      channel: ref(`#/channels/${hook.key}`),
      summary: hook.summary,
      messages: [ref(`#/channels/${hook.key}/messages/${hook.message}`)],
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Transport Lab: socket.io and webhooks',
      version: `${PROTOCOL_VERSION}`,
      description:
        'socket.io 4 on path `/socket.io` (WebSocket or HTTP long-polling). Every client → server event is answered by acknowledgement, `{ok: true, …}` or `{ok: false, error: {code, message, details?}}`, the ack being the last argument. The HTTP API is in the OpenAPI document at /api/openapi.json.',
    },
    defaultContentType: 'application/json',
    servers: {
      lab: {
        host: 'localhost:3000',
        protocol: 'ws',
        pathname: '/socket.io',
        description: 'The lab’s server (PORT): socket.io, same origin as the page.',
      },
      receiver: {
        host: 'localhost:3001',
        protocol: 'http',
        description: 'The built-in webhook receiver (RECEIVER_PORT), or any subscriber URL.',
      },
    },
    channels,
    operations,
  };
}

let cached: ReturnType<typeof buildDocument> | undefined;

/** The document, built once per process: it depends on the schemas alone. */
export function asyncApiDocument() {
  cached ??= buildDocument();
  return cached;
}
