import { Parser } from '@asyncapi/parser';
import { validate } from '@readme/openapi-parser';
import {
  API_PATHS,
  BOARD_EVENTS,
  BOARD_NAMESPACE,
  ERROR_STATUS,
  ROOM_EVENTS,
  ROOM_NAMESPACE,
  SOCKET_EVENTS,
} from '@transport-lab/shared';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiPath } from '../src/contract/openapi.ts';
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
  server = await startTestServer();
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
