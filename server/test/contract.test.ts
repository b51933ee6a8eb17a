import { Parser } from '@asyncapi/parser';
import { validate } from '@readme/openapi-parser';
import {
  API_PATHS,
  API_ROUTES,
  BOARD_EVENTS,
  BOARD_NAMESPACE,
  BOARD_PATHS,
  BOARD_ROUTES,
  ERROR_STATUS,
  FAULT_PATHS,
  NETWORK_PATHS,
  ROOM_EVENTS,
  ROOM_NAMESPACE,
  SOCKET_EVENTS,
} from '@transport-lab/shared';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiPath } from '../src/contract/describe.ts';
import { listRoutes } from '../src/http/routeList.ts';
import { RECEIVER_ERROR_STATUS } from '../src/webhooks/receiver.ts';
import { startTestServer, type TestServer } from './harness.ts';

/** The page's own fallback (`GET /{*splat}`: index.html or "not built"): the page, not the API. */
const PAGE_ROUTES = new Set(['get /{*splat}']);

interface OpenApiDoc {
  paths: Record<string, Record<string, { servers?: unknown; responses: Record<string, OpenApiResponse> }>>;
}
interface OpenApiResponse {
  content?: Record<
    string,
    { schema: { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } }
  >;
}
interface AsyncApiDoc {
  channels: Record<string, { address: string; messages: Record<string, { name: string }> }>;
}

let server: TestServer;
let openapi: OpenApiDoc;
let asyncapi: AsyncApiDoc;

beforeAll(async () => {
  // The validators below run in this process, on the server's own event loop, for seconds: its
  // overload guard would read that as a late loop and refuse the tasks the answers test creates.
  server = await startTestServer({ MAX_EVENT_LOOP_DELAY_MS: '60000' });
  const [a, b] = await Promise.all(
    [API_PATHS.openapi, API_PATHS.asyncapi].map((path) => fetch(`${server.baseUrl}${path}`)),
  );
  expect(a?.status).toBe(200);
  expect(b?.status).toBe(200);
  openapi = (await a?.json()) as OpenApiDoc;
  asyncapi = (await b?.json()) as AsyncApiDoc;
});
afterAll(() => server.close());

describe('the OpenAPI document at /api/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await validate(structuredClone(openapi) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect((openapi as unknown as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('the validator refuses a broken copy (so that the check above can fail)', async () => {
    const broken = structuredClone(openapi) as unknown as { paths: Record<string, unknown> };
    broken.paths[openApiPath(API_PATHS.tasks)] = { post: { responses: 'none' } };
    expect((await validate(broken as never)).valid).toBe(false);
  });

  it('describes every route the app registers, with its method', () => {
    const routes = listRoutes(server.app.app);
    // The listing itself works: it finds routes registered by lanes, features and the app alike.
    expect(routes.length).toBeGreaterThan(20);
    const missing = routes
      .filter(({ method, path }) => !PAGE_ROUTES.has(`${method} ${path}`))
      .filter(({ method, path }) => openapi.paths[openApiPath(path)]?.[method] === undefined)
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(missing).toEqual([]);
  });

  it('describes no route of the app that does not exist (the receiver’s, on its own port, apart)', () => {
    const registered = new Set(
      listRoutes(server.app.app).map(({ method, path }) => `${method} ${openApiPath(path)}`),
    );
    const phantom = Object.entries(openapi.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([method, operation]) => !operation.servers && !registered.has(`${method} ${path}`))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(phantom).toEqual([]);
  });

  it('gives each error status with a body the envelope with the codes of that status alone', () => {
    const statusOf: Record<string, number> = { ...ERROR_STATUS, ...RECEIVER_ERROR_STATUS };
    let checked = 0;
    for (const operations of Object.values(openapi.paths)) {
      for (const { responses } of Object.values(operations)) {
        for (const [status, response] of Object.entries(responses)) {
          // An injected receiver fault answers 429/503 with no body: nothing to check.
          if (Number(status) < 400 || !response.content) continue;
          const codes =
            response.content?.['application/json']?.schema.properties?.error?.properties?.code?.enum;
          expect(codes?.length).toBeGreaterThan(0);
          for (const code of codes ?? []) {
            expect(statusOf[code], code).toBe(Number(status));
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});

describe('the app’s answers', () => {
  /** A request, the route it is for as the document names it, and the status it must answer. */
  interface Case {
    method: string;
    template: string;
    url: string;
    status: number;
    body?: string;
    contentType?: string;
  }
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  const post = (template: string, url: string, status: number, body: unknown): Case => ({
    method: 'post',
    template,
    url,
    status,
    body: JSON.stringify(body),
    contentType: 'application/json',
  });
  const get = (template: string, url: string, status: number): Case => ({
    method: 'get',
    template,
    url,
    status,
  });

  it('have a status the document gives their route, and a body its schema for that status accepts', async () => {
    const spec = { durationMs: 0, steps: 1 };
    const run = await fetch(`${server.baseUrl}${API_PATHS.run}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    });
    expect(run.status).toBe(200);
    const ended = ((await run.json()) as { task: { id: string } }).task.id;
    const unknown = 'no-such-task-1';
    const cases: Case[] = [
      post(API_PATHS.run, API_PATHS.run, 200, spec),
      post(API_PATHS.tasks, API_PATHS.tasks, 202, { spec }),
      { ...post(API_PATHS.tasks, API_PATHS.tasks, 400, {}), body: '{"spec":' },
      { ...post(API_PATHS.tasks, API_PATHS.tasks, 415, { spec }), contentType: 'text/plain' },
      post(API_PATHS.tasks, API_PATHS.tasks, 400, { spec: { durationMs: -1, steps: 1 } }),
      get(API_ROUTES.task, API_PATHS.task(ended), 200),
      get(API_ROUTES.task, API_PATHS.task(unknown), 404),
      get(API_ROUTES.task, API_PATHS.task('bad id'), 400),
      get(API_ROUTES.events, `${API_PATHS.events(ended)}?after=0&waitMs=0`, 200),
      get(API_ROUTES.events, `${API_PATHS.events(ended)}?waitMs=-1`, 400),
      // An ended task's stream replays its events and ends; past its last seq it answers 204.
      get(API_ROUTES.stream, API_PATHS.stream(ended), 200),
      get(API_ROUTES.stream, `${API_PATHS.stream(ended)}?after=1000`, 204),
      get(API_ROUTES.deliveries, API_PATHS.deliveries(ended), 200),
      post(API_ROUTES.cancel, API_PATHS.cancel(ended), 409, {}),
      post(API_ROUTES.cancel, API_PATHS.cancel(unknown), 404, {}),
      get(API_ROUTES.wire, API_PATHS.wire('no-such-run'), 404),
      get(API_PATHS.time, API_PATHS.time, 200),
      get(API_PATHS.settings, API_PATHS.settings, 200),
      get(API_PATHS.health, API_PATHS.health, 200),
      get(API_PATHS.metrics, API_PATHS.metrics, 200),
      get(API_PATHS.openapi, API_PATHS.openapi, 200),
      get(API_PATHS.asyncapi, API_PATHS.asyncapi, 200),
      get(FAULT_PATHS.faults, `${FAULT_PATHS.faults}?runId=no-such-run`, 200),
      get(FAULT_PATHS.faults, FAULT_PATHS.faults, 400),
      post(FAULT_PATHS.faults, FAULT_PATHS.faults, 400, { kind: 'nothing' }),
      get(NETWORK_PATHS.link, NETWORK_PATHS.link, 200),
      get(BOARD_ROUTES.board, BOARD_PATHS.board('ABCDEFGH'), 404),
      get(BOARD_ROUTES.changes, `${BOARD_PATHS.changes('ABCDEFGH')}?waitMs=0`, 404),
    ];
    const wrong: string[] = [];
    for (const c of cases) {
      const res = await fetch(`${server.baseUrl}${c.url}`, {
        method: c.method.toUpperCase(),
        headers: c.contentType ? { 'content-type': c.contentType } : {},
        ...(c.body === undefined ? {} : { body: c.body }),
      });
      const what = `${c.method.toUpperCase()} ${c.url} → ${res.status}`;
      const text = await res.text();
      if (res.status !== c.status) {
        wrong.push(`${what}, expected ${c.status}: ${text.slice(0, 200)}`);
        continue;
      }
      const documented = openapi.paths[openApiPath(c.template)]?.[c.method]?.responses[String(res.status)];
      if (!documented) {
        wrong.push(
          `${what}: the document gives no ${res.status} for ${c.method.toUpperCase()} ${c.template}`,
        );
        continue;
      }
      const schema = documented.content?.['application/json']?.schema;
      if (!schema) continue;
      const validate = ajv.compile(schema);
      if (!validate(JSON.parse(text))) wrong.push(`${what}: ${ajv.errorsText(validate.errors)}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('the AsyncAPI document at /api/asyncapi.json', () => {
  it('is a valid AsyncAPI 3.0 document', async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(asyncapi));
    // Spectral severities: 0 error, 1 warning (2 info: "3.1 exists").
    expect(
      diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.message} at ${d.path.join('.')}`),
    ).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
  });

  const namesOn = (address: string) => {
    const channel = Object.values(asyncapi.channels).find((c) => c.address === address);
    return new Set(Object.values(channel?.messages ?? {}).map((m) => m.name));
  };

  it('has every event name of the shared protocol on its namespace', () => {
    const expected: [string, Record<string, string>][] = [
      ['/', SOCKET_EVENTS],
      [ROOM_NAMESPACE, ROOM_EVENTS],
      [BOARD_NAMESPACE, BOARD_EVENTS],
    ];
    for (const [address, events] of expected) {
      const names = namesOn(address);
      expect(Object.values(events).filter((event) => !names.has(event))).toEqual([]);
    }
  });

  it.each([
    ['/', 3],
    [ROOM_NAMESPACE, 10],
    [BOARD_NAMESPACE, 1],
  ])('describes every event a socket on %s listens for', async (address, atLeast) => {
    const client: Socket = connect(`${server.baseUrl}${address === '/' ? '' : address}`, {
      transports: ['websocket'],
      forceNew: true,
    });
    try {
      const id = await new Promise<string>((resolve, reject) => {
        client.once('connect', () => resolve(client.id ?? ''));
        client.once('connect_error', reject);
      });
      const socket = server.app.io.of(address).sockets.get(id);
      expect(socket).toBeDefined();
      // socket.io's own lifecycle events are not the protocol's.
      const reserved = new Set(['disconnect', 'disconnecting', 'error']);
      const listened = (socket?.eventNames() ?? []).map(String).filter((name) => !reserved.has(name));
      expect(listened.length).toBeGreaterThanOrEqual(atLeast);
      const names = namesOn(address);
      expect(listened.filter((event) => !names.has(event))).toEqual([]);
    } finally {
      client.close();
    }
  });
});
