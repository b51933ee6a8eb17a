import { createHmac } from 'node:crypto';
import {
  type CreateRoomAck,
  type JoinRoomAck,
  type JoinRoomRequest,
  type PresenceChange,
  ROOM_EVENTS,
  ROOM_NAMESPACE,
  type RoomClientToServerEvents,
  type RoomScenario,
  type RoomServerToClientEvents,
} from '@transport-lab/shared';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, afterEach } from 'vitest';
import { startTestServer, type TestServer } from './harness.ts';
import { deleteTestKeys } from './redisForTests.ts';

export type RoomClient = Socket<RoomServerToClientEvents, RoomClientToServerEvents>;
type PushEvent = keyof RoomServerToClientEvents;
/** What a push records: its payload, but one entry per change of a presence batch. */
type PushPayload<E extends PushEvent> = E extends typeof ROOM_EVENTS.presence
  ? PresenceChange
  : Parameters<RoomServerToClientEvents[E]>[0];

/** The contract's proof, written here from its definition (not imported from the server), so the
 *  tests check the server against the contract rather than against itself. */
export function proofOf(secret: string, code: string, nonce: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${code}:${nonce}`).digest('hex');
}

export const SCENARIO: RoomScenario = {
  spec: { durationMs: 500, steps: 5 },
  lanes: ['short-polling', 'sse', 'websocket'],
  laneSettings: { longPollWaitMs: 25_000, hybridWaitS: 2, hybridPushLane: 'sse' },
};

/**
 * A `/room` client on its own engine.io connection (`forceNew`, as the page opens it), which
 * records every push it receives from the moment it connects. A presence batch is recorded change
 * by change, as the page applies it; `presenceBatches` keeps the messages themselves.
 */
export class RoomPeer {
  readonly pushes: Array<{ event: PushEvent; payload: unknown }> = [];
  readonly presenceBatches: unknown[][] = [];
  private readonly watchers = new Set<() => void>();
  private markers = 0;

  private constructor(readonly socket: RoomClient) {
    socket.onAny((event: string, payload: unknown) => {
      if (event === ROOM_EVENTS.presence) {
        // Every presence message counts as one, whatever it carries.
        const changes = Array.isArray(payload) ? payload : [payload];
        this.presenceBatches.push(changes);
        for (const change of changes) this.pushes.push({ event, payload: change });
      } else this.pushes.push({ event: event as PushEvent, payload });
      for (const watcher of [...this.watchers]) watcher();
    });
  }

  /** `headers`: sent with the handshake, e.g. `X-Forwarded-For` to speak as a phone behind a proxy
   *  on this machine (loopback itself is never bounded per client). */
  static async connect(
    baseUrl: string,
    options: { reconnection?: boolean; headers?: Record<string, string> } = {},
  ): Promise<RoomPeer> {
    const socket: RoomClient = connect(`${baseUrl}${ROOM_NAMESPACE}`, {
      forceNew: true,
      transports: ['websocket'],
      ...(options.headers ? { extraHeaders: options.headers } : {}),
      reconnection: options.reconnection ?? false,
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
    });
    const peer = new RoomPeer(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return peer;
  }

  /** Emits with an ack; resolves with the ack's answer, whatever it is. */
  ask(event: string, ...payload: unknown[]): Promise<unknown> {
    const untyped = this.socket as unknown as { emit: (e: string, ...args: unknown[]) => void };
    return new Promise((resolve) => untyped.emit(event, ...payload, resolve));
  }

  /** Emits with no ack at all, whatever the event and payload. */
  send(event: string, ...payload: unknown[]): void {
    (this.socket as unknown as { emit: (e: string, ...args: unknown[]) => void }).emit(event, ...payload);
  }

  async hello(): Promise<string> {
    const ack = (await this.ask(ROOM_EVENTS.hello)) as { ok: boolean; nonce: string };
    if (!ack.ok) throw new Error(`room:hello refused: ${JSON.stringify(ack)}`);
    return ack.nonce;
  }

  async create(payload: object = { device: 'desktop' }) {
    const ack = (await this.ask(ROOM_EVENTS.create, payload)) as CreateRoomAck;
    if (!ack.ok) throw new Error(`room:create refused: ${JSON.stringify(ack)}`);
    return ack;
  }

  join(request: Partial<JoinRoomRequest> & { code: string }): Promise<JoinRoomAck> {
    return this.ask(ROOM_EVENTS.join, { device: 'phone', ...request }) as Promise<JoinRoomAck>;
  }

  async joinOk(request: Partial<JoinRoomRequest> & { code: string }) {
    const ack = await this.join(request);
    if (!ack.ok) throw new Error(`room:join refused: ${JSON.stringify(ack)}`);
    return ack;
  }

  /** Joins as the presenter with a proof over this connection's fresh nonce. */
  async joinAsPresenter(code: string, secret: string, extra: Partial<JoinRoomRequest> = {}) {
    const nonce = await this.hello();
    return this.join({ code, presenterProof: proofOf(secret, code, nonce), device: 'desktop', ...extra });
  }

  received<E extends PushEvent>(event: E): Array<PushPayload<E>> {
    return this.pushes.filter((p) => p.event === event).map((p) => p.payload as PushPayload<E>);
  }

  /** Resolves with the first push of `event` (already received or to come) that satisfies
   *  `predicate`, leaving out the first `skip` pushes of `event`. */
  next<E extends PushEvent>(
    event: E,
    predicate: (payload: PushPayload<E>) => boolean = () => true,
    skip = 0,
  ): Promise<PushPayload<E>> {
    return new Promise((resolve) => {
      const watcher = () => {
        const found = this.received(event).slice(skip).find(predicate);
        if (found === undefined) return;
        this.watchers.delete(watcher);
        resolve(found);
      };
      this.watchers.add(watcher);
      watcher();
    });
  }

  /**
   * Resolves once every presence change the server noted before this call has reached this peer.
   * Presence goes out in batches, so that a change may still be on its way after the ack of what
   * caused it: this peer (participant `self`) reports its clock, and the room sends that change in
   * the batch it is due in, after every change noted before it.
   */
  async presenceSettled(self: string): Promise<void> {
    const marker = { offsetMs: 0, uncertaintyMs: 0, rttMs: 1_000_000 + ++this.markers };
    const ack = await this.ask(ROOM_EVENTS.clock, marker);
    if ((ack as { ok?: boolean }).ok !== true) throw new Error(`room:clock refused: ${JSON.stringify(ack)}`);
    await this.next(
      ROOM_EVENTS.presence,
      (c) => c.kind !== 'left' && c.participant.id === self && c.participant.clock?.rttMs === marker.rttMs,
    );
  }

  /** Resolves when the server has closed this connection. */
  disconnected(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.socket.connected) return resolve();
      this.socket.once('disconnect', () => resolve());
    });
  }

  close(): void {
    this.socket.disconnect();
  }
}

/**
 * A suite's servers and peers: each test's peers are closed after it, the servers after the suite.
 * Call at the top of a test file.
 */
export function roomSuite() {
  const servers: TestServer[] = [];
  let peers: RoomPeer[] = [];
  afterEach(() => {
    for (const peer of peers) peer.close();
    peers = [];
  });
  const redisPrefixes: string[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    // A server on Redis (a test's own REDIS_PREFIX) leaves its keys: they go once it has closed.
    for (const prefix of redisPrefixes.splice(0)) await deleteTestKeys(prefix);
  });
  return {
    async serverWith(env: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
      if (env.REDIS_PREFIX) redisPrefixes.push(env.REDIS_PREFIX);
      const server = await startTestServer(env);
      servers.push(server);
      return server;
    },
    /** `headers`: see RoomPeer.connect. */
    async peerOf(server: TestServer, headers?: Record<string, string>): Promise<RoomPeer> {
      const peer = await RoomPeer.connect(server.baseUrl, { headers });
      peers.push(peer);
      return peer;
    },
    /** Closes these too after the test. */
    track(...more: RoomPeer[]): void {
      peers.push(...more);
    },
  };
}

/** Connects `count` peers, `batch` at a time, so that a 2-core machine is not swamped by handshakes. */
export async function connectPeers(baseUrl: string, count: number, batch = 25): Promise<RoomPeer[]> {
  const peers: RoomPeer[] = [];
  for (let i = 0; i < count; i += batch) {
    const size = Math.min(batch, count - i);
    peers.push(...(await Promise.all(Array.from({ length: size }, () => RoomPeer.connect(baseUrl)))));
  }
  return peers;
}
