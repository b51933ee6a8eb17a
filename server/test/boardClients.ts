import {
  API_PATHS,
  applyChange,
  BOARD_EVENTS,
  BOARD_NAMESPACE,
  BOARD_PATHS,
  BOARD_SSE,
  BoardChange,
  BoardChanges,
  type BoardClientToServerEvents,
  type BoardCredentials,
  BoardEditResponse,
  type BoardLane,
  type BoardOp,
  BoardResponse,
  type BoardServerToClientEvents,
  BoardState,
  BoardSubscribeAck,
  type ClockSample,
  emptyBoard,
  estimateClockOffset,
  HTTP_HEADERS,
  type PropagationEntry,
  PropagationUpdate,
  type ShownVersion,
  TimeResponse,
} from '@transport-lab/shared';
import { createParser } from 'eventsource-parser';
import { io as connect, type Socket } from 'socket.io-client';
import type { RoomDirectory, RoomRole } from '../src/board/directory.ts';

/**
 * How long a page holds a change that came before its predecessor before asking the log, ms. Long,
 * so that a lane that is merely slow (the webhook relay under load lags by seconds) is not mistaken
 * for one that lost a change: a gap fill within the test means the lane lost one.
 */
export const GAP_FILL_MS = 10_000;

/** The page's report batching (the real page waits 500 ms), ms. */
export const REPORT_INTERVAL_MS = 100;

/** Where a page had each version it applied from: its lane, its own edit's answer, or a gap fill. */
export type Source = 'lane' | 'answer' | 'gap-fill';

type BoardSocket = Socket<BoardServerToClientEvents, BoardClientToServerEvents>;

/** A room directory the test controls: the rooms server's part, reduced to what the board asks. */
export class TestRooms implements RoomDirectory {
  readonly rooms = new Map<string, Map<string, { token: string; role: RoomRole }>>();
  private readonly ended = new Set<(code: string) => void>();

  add(code: string, participantId: string, token: string, role: RoomRole = 'audience'): BoardCredentials {
    const room = this.rooms.get(code) ?? new Map();
    room.set(participantId, { token, role });
    this.rooms.set(code, room);
    return { participantId, token };
  }
  exists(code: string): boolean {
    return this.rooms.has(code);
  }
  verifyParticipant(code: string, participantId: string, token: string): RoomRole | undefined {
    const member = this.rooms.get(code)?.get(participantId);
    return member && member.token === token ? member.role : undefined;
  }
  onRoomEnded(listener: (code: string) => void): () => void {
    this.ended.add(listener);
    return () => this.ended.delete(listener);
  }
  end(code: string): void {
    this.rooms.delete(code);
    for (const listener of [...this.ended]) listener(code);
  }
}

/** mulberry32: a small seeded generator, so a failing run can be replayed exactly. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** Reads an SSE answer with eventsource-parser until it ends or `signal` aborts it. */
async function readEvents(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  onEvent: (event: string | undefined, data: string, id: string | undefined) => void,
): Promise<void> {
  const res = await fetch(url, { headers, signal });
  if (res.status !== 200 || !res.body) throw new Error(`stream ${url} answered ${res.status}`);
  const parser = createParser({ onEvent: (m) => onEvent(m.event, m.data, m.id) });
  const decoder = new TextDecoder();
  for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
}

/**
 * A participant's page, reduced to its logic, in the test process: it follows the board on one lane
 * with real HTTP, SSE or socket.io, applies changes in version order through the shared reducer
 * (holding a change that comes before its predecessor, filling a gap from `GET …/changes`), and
 * reports, for each version it applied, the delay from the change's server time to the moment it
 * applied it, on its own clock corrected by its own NTP-style offset estimate, as the page does.
 */
export class TestParticipant {
  board: BoardState;
  /** Every report this participant sent, as it sent it: what the presenter's map must show. */
  readonly reported = new Map<number, { lane: BoardLane; delayMs: number; clockUncertaintyMs: number }>();
  /** Lane connections opened, including reconnections. */
  connections = 0;
  drops = 0;
  /** Versions applied, by where they came from. */
  readonly applied: Record<Source, number> = { lane: 0, answer: 0, 'gap-fill': 0 };
  private readonly held = new Map<number, BoardChange>();
  private readonly waiters = new Set<() => void>();
  private offsetMs = 0;
  private uncertaintyMs = 0;
  private toReport: ShownVersion[] = [];
  private reporting: Promise<void> = Promise.resolve();
  private online = false;
  private stopLane: (() => void) | undefined;
  private filling = false;
  private reportTimer: NodeJS.Timeout | undefined;
  private dropKind: 'page' | 'network' = 'page';
  /** Websocket transports cut under a connected socket, and reconnections socket.io recovered
   *  (connection state recovery: the missed broadcasts replayed by the server). */
  networkDrops = 0;
  recovered = 0;
  private gapTimer: NodeJS.Timeout | undefined;
  private socket: BoardSocket | undefined;
  private lastEventId: string | undefined;

  constructor(
    readonly baseUrl: string,
    readonly receiverUrl: string,
    readonly code: string,
    readonly credentials: BoardCredentials,
    readonly lane: BoardLane,
    /** The page's own clock, which may be far off the server's: the offset estimate corrects it. */
    readonly pageNow: () => number,
    readonly pollIntervalMs = 40,
  ) {
    this.board = emptyBoard(code);
  }

  get id(): string {
    return this.credentials.participantId;
  }

  /** Estimates the clock offset with `GET /api/time`, as the page's clock slice does (smallest RTT). */
  async measureClock(pings = 4): Promise<void> {
    const samples: ClockSample[] = [];
    for (let i = 0; i < pings; i++) {
      const t0 = this.pageNow();
      const res = await fetch(`${this.baseUrl}${API_PATHS.time}`);
      const { receivedAt, sentAt } = TimeResponse.parse(await res.json());
      samples.push({ t0, t1: receivedAt, t2: sentAt, t3: this.pageNow() });
    }
    const estimate = estimateClockOffset(samples);
    this.offsetMs = estimate.offsetMs;
    this.uncertaintyMs = estimate.uncertaintyMs;
  }

  /** Opens the lane (again, after a drop). */
  connect(): void {
    if (this.online) return;
    this.online = true;
    this.connections += 1;
    switch (this.lane) {
      case 'short-polling':
        this.stopLane = this.shortPoll();
        break;
      case 'long-polling':
        this.stopLane = this.longPoll();
        break;
      case 'sse':
        this.stopLane = this.stream(`${this.baseUrl}${BOARD_PATHS.stream(this.code)}`);
        break;
      case 'webhook':
        this.stopLane = this.stream(`${this.receiverUrl}${BOARD_PATHS.relay(this.code)}`);
        break;
      case 'websocket':
        this.stopLane = this.websocket();
        break;
    }
  }

  /** Cuts the lane as a dropped network would: requests aborted, the socket's transport closed. */
  /**
   * `page`: the page closes its connection (as a lane switch or a reload would). `network`: on the
   * websocket lane, the transport is cut under socket.io, which reconnects by itself within
   * SOCKET_RECOVERY_MS and may recover the missed packets; the other lanes have no difference.
   */
  drop(kind: 'page' | 'network' = 'page'): void {
    if (!this.online) return;
    this.online = false;
    this.drops += 1;
    this.dropKind = kind;
    this.stopLane?.();
    this.stopLane = undefined;
  }

  close(): void {
    clearTimeout(this.gapTimer);
    clearTimeout(this.reportTimer);
    this.drop();
    this.socket?.disconnect();
  }

  /** Sends one edit, retrying a network failure with the same edit id; refusals are answers. */
  async edit(editId: string, op: BoardOp): Promise<{ status: number; json: unknown }> {
    const url = `${this.baseUrl}${BOARD_PATHS.edits(this.code)}`;
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await postJson(url, { ...this.credentials, editId, op });
        // The author's page shows its own edit from the answer, in order like any other change.
        if (answer.status === 200) this.receive([BoardEditResponse.parse(answer.json).change], 'answer');
        return answer;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  }

  /** Resolves once the page has applied `version` (checked now and at each change). */
  reached(version: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.board.version < version) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Settles once every report queued so far has been answered. */
  flushReports(): Promise<void> {
    this.sendReport();
    return this.reporting;
  }

  /** Changes from any lane: applied in version order, duplicates dropped, later ones held. */
  receive(changes: BoardChange[], source: Source = 'lane'): void {
    const shownAt = this.pageNow();
    for (const change of changes)
      if (change.version > this.board.version) this.held.set(change.version, change);
    const shown: number[] = [];
    for (;;) {
      const next = this.held.get(this.board.version + 1);
      if (!next) break;
      this.held.delete(next.version);
      const { board, outcome } = applyChange(this.board, next);
      if (outcome !== 'applied') throw new Error(`change ${next.version} did not apply: ${outcome}`);
      this.board = board;
      shown.push(next.version);
      this.applied[source] += 1;
      this.record(next.version, next.at, shownAt);
    }
    for (const version of [...this.held.keys()]) if (version <= this.board.version) this.held.delete(version);
    // A change ahead of a missing one (the author's own answer overtaking the lane) waits for the
    // lane; only if the gap is still there GAP_FILL_MS later is it filled from the log.
    if (this.held.size > 0 && !this.gapTimer) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        if (this.held.size > 0) void this.fillGap();
      }, GAP_FILL_MS);
    }
    this.queueReport();
    if (shown.length > 0) this.settled();
  }

  /** A snapshot: every version between the page's and the snapshot's is shown now. */
  receiveSnapshot(board: BoardState, changesAt: Map<number, number>, source: Source = 'lane'): void {
    if (board.version <= this.board.version) return;
    const shownAt = this.pageNow();
    for (let v = this.board.version + 1; v <= board.version; v++) {
      this.applied[source] += 1;
      const at = changesAt.get(v);
      if (at !== undefined) this.record(v, at, shownAt);
    }
    this.board = board;
    this.receive([], source);
    this.settled();
  }

  private record(version: number, at: number, shownAt: number): void {
    // The page's time on the server's clock, minus the change's server time: the page's own figure.
    const delayMs = shownAt + this.offsetMs - at;
    this.reported.set(version, { lane: this.lane, delayMs, clockUncertaintyMs: this.uncertaintyMs });
    this.toReport.push({ version, delayMs });
  }

  /** Reports go out in batches, at most one per REPORT_INTERVAL_MS, as the page sends them. */
  private queueReport(): void {
    if (this.toReport.length === 0 || this.reportTimer) return;
    this.reportTimer = setTimeout(() => this.sendReport(), REPORT_INTERVAL_MS);
  }

  private sendReport(): void {
    clearTimeout(this.reportTimer);
    this.reportTimer = undefined;
    const shown = this.toReport.splice(0);
    if (shown.length === 0) return;
    const body = { ...this.credentials, lane: this.lane, clockUncertaintyMs: this.uncertaintyMs, shown };
    this.reporting = this.reporting.then(async () => {
      const answer = await postJson(`${this.baseUrl}${BOARD_PATHS.reports(this.code)}`, body);
      if (answer.status !== 200)
        throw new Error(`report answered ${answer.status}: ${JSON.stringify(answer.json)}`);
    });
  }

  private settled(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private async applyCatchUp(body: BoardChanges, source: Source = 'lane'): Promise<void> {
    if (body.snapshot) this.receiveSnapshot(body.snapshot, new Map(), source);
    this.receive(body.changes, source);
  }

  private async fillGap(): Promise<void> {
    if (this.filling) return;
    this.filling = true;
    try {
      const res = await fetch(
        `${this.baseUrl}${BOARD_PATHS.changes(this.code)}?after=${this.board.version}&waitMs=0`,
      );
      await this.applyCatchUp(BoardChanges.parse(await res.json()), 'gap-fill');
    } finally {
      this.filling = false;
    }
  }

  private shortPoll(): () => void {
    const abort = new AbortController();
    let etag: string | undefined;
    const loop = async () => {
      while (!abort.signal.aborted) {
        try {
          const since = this.board.version;
          const res = await fetch(`${this.baseUrl}${BOARD_PATHS.board(this.code)}?since=${since}`, {
            headers: etag ? { [HTTP_HEADERS.ifNoneMatch]: etag } : {},
            signal: abort.signal,
          });
          if (res.status === 200) {
            etag = res.headers.get(HTTP_HEADERS.etag) ?? undefined;
            const { board, times } = BoardResponse.parse(await res.json());
            // Short polling sees states, not changes: every version it skipped over is shown now.
            this.receiveSnapshot(board, new Map(times.map((t) => [t.version, t.at])));
          } else if (res.status !== 304) throw new Error(`poll answered ${res.status}`);
        } catch (error) {
          if (abort.signal.aborted) return;
          throw error;
        }
        // The lane's own interval between polls: this is what short polling is, not a wait for a result.
        await new Promise((resolve) => setTimeout(resolve, this.pollIntervalMs));
      }
    };
    void loop();
    return () => abort.abort();
  }

  private longPoll(): () => void {
    const abort = new AbortController();
    const loop = async () => {
      while (!abort.signal.aborted) {
        try {
          const res = await fetch(
            `${this.baseUrl}${BOARD_PATHS.changes(this.code)}?after=${this.board.version}&waitMs=2000`,
            { signal: abort.signal },
          );
          await this.applyCatchUp(BoardChanges.parse(await res.json()));
        } catch (error) {
          if (abort.signal.aborted) return;
          throw error;
        }
      }
    };
    void loop();
    return () => abort.abort();
  }

  /** SSE with EventSource's resume: the first connection from the page's version, later ones
   *  with Last-Event-ID = the last id received. */
  private stream(url: string): () => void {
    const abort = new AbortController();
    const headers: Record<string, string> = this.lastEventId
      ? { [HTTP_HEADERS.lastEventId]: this.lastEventId }
      : {};
    const query = this.lastEventId ? '' : `?after=${this.board.version}`;
    readEvents(`${url}${query}`, headers, abort.signal, (event, data, id) => {
      if (id !== undefined) this.lastEventId = id;
      if (event === BOARD_SSE.snapshot) this.receiveSnapshot(BoardState.parse(JSON.parse(data)), new Map());
      else if (event === BOARD_SSE.change) this.receive([BoardChange.parse(JSON.parse(data))]);
    }).catch((error: unknown) => {
      if (!abort.signal.aborted) throw error;
    });
    return () => abort.abort();
  }

  private websocket(): () => void {
    if (!this.socket) {
      const socket: BoardSocket = connect(`${this.baseUrl}${BOARD_NAMESPACE}`, {
        transports: ['websocket'],
        forceNew: true,
        reconnectionDelay: 20,
        reconnectionDelayMax: 80,
      });
      this.socket = socket;
      socket.on(BOARD_EVENTS.change, (change) => this.receive([BoardChange.parse(change)]));
      // Every (re)connection subscribes from the page's version; duplicates are dropped by version.
      socket.on('connect', () => {
        if (socket.recovered) this.recovered += 1;
        socket.emit(BOARD_EVENTS.subscribe, { code: this.code, after: this.board.version }, (ack) => {
          const parsed = BoardSubscribeAck.parse(ack);
          if (parsed.ok) void this.applyCatchUp(parsed.catchUp);
        });
      });
    } else if (!this.socket.connected && !this.socket.active) {
      this.socket.connect(); // after a page drop; a network drop reconnects by itself
    }
    const socket = this.socket;
    return () => {
      // Only an open transport can be cut: closing an engine.io socket that is still opening leaves
      // socket.io's manager waiting for ever (it listens for close only once open), which no
      // network failure does (it fails the opening with an error, and the manager retries).
      if (this.dropKind === 'network' && socket.connected) {
        this.networkDrops += 1;
        socket.io.engine.close();
      } else socket.disconnect();
    };
  }
}

/** The presenter's map as it arrives on the `/board` socket: the whole map, then updates. */
export class TestPresenterMap {
  readonly entries = new Map<string, PropagationEntry>();
  readonly rows = new Set<number>();
  private readonly waiters = new Set<() => void>();
  private constructor(readonly socket: BoardSocket) {}

  static async open(baseUrl: string, code: string, presenter: BoardCredentials): Promise<TestPresenterMap> {
    const socket: BoardSocket = connect(`${baseUrl}${BOARD_NAMESPACE}`, {
      transports: ['websocket'],
      forceNew: true,
    });
    const map = new TestPresenterMap(socket);
    socket.on(BOARD_EVENTS.propagation, (update) => map.merge(PropagationUpdate.parse(update)));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        socket.emit(BOARD_EVENTS.subscribe, { code, after: 0, presenter }, (raw) => {
          const ack = BoardSubscribeAck.parse(raw);
          if (!ack.ok) return reject(new Error(ack.error.message));
          for (const row of ack.map?.rows ?? []) {
            map.rows.add(row.version);
            for (const entry of row.entries) map.put(entry);
          }
          map.settled();
          resolve();
        });
      });
      socket.once('connect_error', reject);
    });
    return map;
  }

  merge(update: PropagationUpdate): void {
    for (const row of update.rows) this.rows.add(row.version);
    for (const entry of update.entries) this.put(entry);
    this.settled();
  }

  /** Resolves once the map holds an entry of each participant for each version up to `version`. */
  complete(participants: string[], version: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        for (let v = 1; v <= version; v++) {
          for (const p of participants) if (!this.entries.has(`${v}:${p}`)) return;
        }
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }

  close(): void {
    this.socket.disconnect();
  }

  private put(entry: PropagationEntry): void {
    const key = `${entry.version}:${entry.participantId}`;
    if (!this.entries.has(key)) this.entries.set(key, entry);
  }

  private settled(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
