import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  BOARD_EVENTS,
  BOARD_LANES,
  BOARD_LIMITS,
  BOARD_NAMESPACE,
  BOARD_PATHS,
  BoardChanges,
  type BoardCredentials,
  type BoardLane,
  type BoardOp,
  BoardResponse,
  BoardSubscribeAck,
  ClientLimitDetails,
  ErrorEnvelope,
  HTTP_HEADERS,
  NOTE_COLOURS,
  ROOM_EVENTS,
} from '@transport-lab/shared';
import { createParser } from 'eventsource-parser';
import { io as connect } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, listen } from '../src/app.ts';
import { MAX_SUBSCRIPTIONS_PER_SOCKET } from '../src/board/socket.ts';
import { loadConfig } from '../src/config.ts';
import { epochNow } from '../src/observability/clock.ts';
import { postJson, seeded, TestParticipant, TestPresenterMap, TestRooms } from './boardClients.ts';
import { startTestServer, tempDataDir } from './harness.ts';
import { RoomPeer } from './roomsHarness.ts';

const CODE = 'B0ARD234';
const TOKEN = (n: number) => `token-${String(n).padStart(2, '0')}-abcdefghijklmnopqrstu`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real server on loopback whose rooms are the test's. */
async function boardServer(rooms: TestRooms, env: Record<string, string> = {}) {
  const dataDir = tempDataDir();
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    // Lanes and rights under test, not admission: the event-loop guard out of the way (harness.ts).
    MAX_EVENT_LOOP_DELAY_MS: '60000',
    STATIC_DIR: join(dataDir, 'no-client'),
    DATA_DIR: dataDir,
    PORT: '0',
    WEBHOOK_SCHEDULE_SCALE: '0.001',
    ...env,
  });
  const app = await createServer(config, undefined, { rooms });
  const { port, receiverPort } = await listen(app, { port: 0, receiverPort: 0, host: '127.0.0.1' });
  cleanups.push(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { app, baseUrl: `http://127.0.0.1:${port}`, receiverUrl: `http://127.0.0.1:${receiverPort}` };
}

const note = (id: string, text = 'hello') => ({ id, text, x: 10, y: 20, colour: 'yellow' as const });

describe('board HTTP edges', () => {
  async function setUp(env: Record<string, string> = {}) {
    const rooms = new TestRooms();
    const me = rooms.add(CODE, 'alice1', TOKEN(1));
    const srv = await boardServer(rooms, env);
    const edit = (body: Record<string, unknown>, code = CODE) =>
      postJson(`${srv.baseUrl}${BOARD_PATHS.edits(code)}`, body);
    return { rooms, me, srv, edit };
  }

  it('applies an edit, numbers it with the next version, and answers a repeated editId with the same change', async () => {
    const { me, srv, edit } = await setUp();
    const first = await edit({ ...me, editId: 'edit-0001', op: { type: 'note.add', note: note('note01') } });
    expect(first.status).toBe(200);
    const again = await edit({ ...me, editId: 'edit-0001', op: { type: 'note.add', note: note('note01') } });
    expect(again).toEqual(first);
    const res = await fetch(`${srv.baseUrl}${BOARD_PATHS.board(CODE)}`);
    const { board } = BoardResponse.parse(await res.json());
    expect(board).toEqual({ code: CODE, version: 1, notes: [note('note01')], slider: 50 });
  });

  it.each([
    ['a note with an unknown colour', { type: 'note.add', note: { ...note('note01'), colour: 'purple' } }],
    ['a note text over 140 characters', { type: 'note.add', note: note('note01', 'x'.repeat(141)) }],
    ['a note outside the board', { type: 'note.add', note: { ...note('note01'), x: BOARD_LIMITS.size + 1 } }],
    ['a slider past 100', { type: 'slider.set', value: 101 }],
    ['an unknown op', { type: 'note.paint', id: 'note01' }],
  ])('refuses %s with 400 in the envelope, and nothing changes', async (_what, op) => {
    const { me, srv, edit } = await setUp();
    const answer = await edit({ ...me, editId: 'edit-0001', op });
    expect(answer.status).toBe(400);
    expect(ErrorEnvelope.parse(answer.json).error.code).toBe('VALIDATION_FAILED');
    const { board } = BoardResponse.parse(
      await (await fetch(`${srv.baseUrl}${BOARD_PATHS.board(CODE)}`)).json(),
    );
    expect(board.version).toBe(0);
  });

  it('answers 404 for a room that does not exist, on reads and writes', async () => {
    const { me, srv, edit } = await setUp();
    const write = await edit(
      { ...me, editId: 'edit-0001', op: { type: 'slider.set', value: 3 } },
      'ZZZZ9999',
    );
    expect(write.status).toBe(404);
    expect(ErrorEnvelope.parse(write.json).error.code).toBe('NOT_FOUND');
    for (const path of [
      BOARD_PATHS.board('ZZZZ9999'),
      BOARD_PATHS.changes('ZZZZ9999'),
      BOARD_PATHS.stream('ZZZZ9999'),
    ]) {
      const res = await fetch(`${srv.baseUrl}${path}`);
      expect(res.status, path).toBe(404);
      expect(ErrorEnvelope.parse(await res.json()).error.code).toBe('NOT_FOUND');
    }
  });

  it('answers 403 for a token that is not the participant’s, and for an unknown participant', async () => {
    const { rooms, srv, edit } = await setUp();
    rooms.add(CODE, 'bobby1', TOKEN(2));
    const op = { type: 'slider.set', value: 3 };
    const forged = await edit({ participantId: 'alice1', token: TOKEN(2), editId: 'edit-0001', op });
    expect(forged.status).toBe(403);
    expect(ErrorEnvelope.parse(forged.json).error.code).toBe('FORBIDDEN');
    const stranger = await edit({ participantId: 'mallory', token: TOKEN(3), editId: 'edit-0002', op });
    expect(stranger.status).toBe(403);
    const report = await postJson(`${srv.baseUrl}${BOARD_PATHS.reports(CODE)}`, {
      participantId: 'alice1',
      token: TOKEN(2),
      lane: 'sse',
      clockUncertaintyMs: 1,
      shown: [{ version: 1, delayMs: 5 }],
    });
    expect(report.status).toBe(403);
  });

  it('refuses a 51st note and a second note with the same id with 409, an edit of a missing note with 404', async () => {
    // The board's own 50, without the audience's bounds (notes per participant, the presenter's
    // reserve: board.bounds.test.ts).
    const { rooms, me, edit } = await setUp({
      BOARD_NOTES_PER_PARTICIPANT: String(BOARD_LIMITS.maxNotes),
      BOARD_PRESENTER_RESERVED_NOTES: '0',
    });
    // Five members share the 50 adds: one alone would meet its edit budget first.
    const members = [me, ...[2, 3, 4, 5].map((n) => rooms.add(CODE, `member${n}`, TOKEN(n)))];
    for (let i = 0; i < BOARD_LIMITS.maxNotes; i++) {
      const id = `note${String(i).padStart(2, '0')}`;
      const by = members[i % members.length] as BoardCredentials;
      expect(
        (await edit({ ...by, editId: `add-${id}`, op: { type: 'note.add', note: note(id) } })).status,
      ).toBe(200);
    }
    const full = await edit({ ...me, editId: 'add-extra', op: { type: 'note.add', note: note('extra1') } });
    expect(full.status).toBe(409);
    expect(ErrorEnvelope.parse(full.json).error.code).toBe('BOARD_CONFLICT');
    await edit({ ...me, editId: 'del-00', op: { type: 'note.delete', id: 'note00' } });
    const taken = await edit({ ...me, editId: 'add-dup', op: { type: 'note.add', note: note('note01') } });
    expect(taken.status).toBe(409);
    const missing = await edit({
      ...me,
      editId: 'upd-00',
      op: { type: 'note.update', id: 'note00', text: 'x' },
    });
    expect(missing.status).toBe(404);
  });

  it('refuses a participant’s flood of edits with 429 beyond the budget, and applies exactly the accepted ones', async () => {
    const { me, srv, edit } = await setUp();
    const answers = await Promise.all(
      Array.from({ length: 3 * BOARD_LIMITS.editsPerSecond }, (_, i) =>
        edit({ ...me, editId: `flood-${i}`, op: { type: 'slider.set', value: i % 100 } }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    const refused = answers.find((a) => a.status === 429);
    expect(ErrorEnvelope.parse(refused?.json).error.code).toBe('RATE_LIMITED');
    const { board } = BoardResponse.parse(
      await (await fetch(`${srv.baseUrl}${BOARD_PATHS.board(CODE)}`)).json(),
    );
    expect(board.version).toBe(statuses.filter((s) => s === 200).length);
  });

  it('the receiver refuses a board delivery it cannot verify (401), and relays only what the server signed', async () => {
    const { me, srv, edit } = await setUp();
    const made = await edit({ ...me, editId: 'edit-0001', op: { type: 'slider.set', value: 4 } });
    const change = (made.json as { change: unknown }).change;
    const forged = JSON.stringify({
      type: 'board.change',
      timestamp: new Date().toISOString(),
      data: {
        code: CODE,
        change: { ...(change as object), version: 2, op: { type: 'slider.set', value: 99 } },
      },
    });
    const res = await fetch(`${srv.receiverUrl}${BOARD_PATHS.receiverWebhooks}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_forged',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,bm90IGEgc2lnbmF0dXJl',
      },
      body: forged,
    });
    expect(res.status).toBe(401);
    // The relay replays what it accepted: the server's change 1 (once delivered), never the forgery.
    const relay = await fetch(`${srv.receiverUrl}${BOARD_PATHS.relay(CODE)}?after=0`);
    const events: string[] = [];
    const parser = createParser({ onEvent: (m) => events.push(`${m.event}:${m.id}:${m.data}`) });
    const reader = (relay.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    while (events.length === 0) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    await reader.cancel();
    expect(events).toEqual([`change:1:${JSON.stringify(change)}`]);
  });

  it('short polling: ETag per version, 304 while nothing changed, times of the versions after since', async () => {
    const { me, srv, edit } = await setUp();
    const url = `${srv.baseUrl}${BOARD_PATHS.board(CODE)}`;
    const first = await fetch(url);
    const etag = first.headers.get(HTTP_HEADERS.etag) as string;
    expect(etag).toBe(`"board.${CODE}.0"`);
    expect((await fetch(url, { headers: { [HTTP_HEADERS.ifNoneMatch]: etag } })).status).toBe(304);
    const made = await edit({ ...me, editId: 'edit-0001', op: { type: 'slider.set', value: 7 } });
    const changed = await fetch(`${url}?since=0`, { headers: { [HTTP_HEADERS.ifNoneMatch]: etag } });
    expect(changed.status).toBe(200);
    const body = BoardResponse.parse(await changed.json());
    expect(body.times).toEqual([{ version: 1, at: (made.json as { change: { at: number } }).change.at }]);
  });

  it('long polling answers at once when behind, holds until the next change otherwise', async () => {
    const { me, srv, edit } = await setUp();
    const held = fetch(`${srv.baseUrl}${BOARD_PATHS.changes(CODE)}?after=0&waitMs=10000`);
    await edit({ ...me, editId: 'edit-0001', op: { type: 'slider.set', value: 9 } });
    const body = BoardChanges.parse(await (await held).json());
    expect(body.changes.map((c) => c.version)).toEqual([1]);
    expect(body.nextAfter).toBe(1);
    const bad = await fetch(`${srv.baseUrl}${BOARD_PATHS.changes(CODE)}?after=-1`);
    expect(bad.status).toBe(400);
  });

  it('socket: a malformed subscribe and an audience member asking for the map are refused by ack', async () => {
    const { me, srv } = await setUp();
    const socket = connect(`${srv.baseUrl}${BOARD_NAMESPACE}`, { transports: ['websocket'], forceNew: true });
    cleanups.push(() => void socket.disconnect());
    const ask = (payload: unknown) =>
      new Promise<BoardSubscribeAck>((resolve) =>
        socket.emit(BOARD_EVENTS.subscribe, payload as never, (raw: unknown) =>
          resolve(BoardSubscribeAck.parse(raw)),
        ),
      );
    const malformed = await ask({ code: CODE, after: -3 });
    expect(malformed.ok || malformed.error.code).toBe('VALIDATION_FAILED');
    const notPresenter = await ask({ code: CODE, after: 0, presenter: me });
    expect(notPresenter.ok || notPresenter.error.code).toBe('FORBIDDEN');
    const unknown = await ask({ code: 'ZZZZ9999', after: 0 });
    expect(unknown.ok || unknown.error.code).toBe('NOT_FOUND');
    // Three asked so far; a connection that keeps subscribing is refused past its cap.
    const more = await Promise.all(
      Array.from({ length: MAX_SUBSCRIPTIONS_PER_SOCKET }, () => ask({ code: CODE, after: 0 })),
    );
    expect(more.filter((a) => a.ok).length).toBe(MAX_SUBSCRIPTIONS_PER_SOCKET - 3);
    expect(more.filter((a) => !a.ok && a.error.code === 'RATE_LIMITED').length).toBe(3);
  });

  it('a room that ends ends its board: open streams end, later reads answer 404', async () => {
    const { rooms, me, srv, edit } = await setUp();
    await edit({ ...me, editId: 'edit-0001', op: { type: 'slider.set', value: 9 } });
    const res = await fetch(`${srv.baseUrl}${BOARD_PATHS.stream(CODE)}?after=0`);
    const events: string[] = [];
    const parser = createParser({ onEvent: (m) => events.push(`${m.event}:${m.id}`) });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    // Once change 1 has come, the stream follows the board; then the room ends.
    while (events.length === 0) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    expect(events).toEqual(['change:1']);
    rooms.end(CODE);
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    expect((await fetch(`${srv.baseUrl}${BOARD_PATHS.board(CODE)}`)).status).toBe(404);
    // The webhook lane's relay too, so that EventSource stops rather than waiting on a dead room.
    expect((await fetch(`${srv.receiverUrl}${BOARD_PATHS.relay(CODE)}`)).status).toBe(404);
  });
});

describe('board with the rooms server', () => {
  it('members edit with the token their join gave; a forged token is refused; only the presenter gets the map; ending the room ends the board', async () => {
    const srv = await startTestServer();
    cleanups.push(() => srv.close());
    const presenter = await RoomPeer.connect(srv.baseUrl);
    const audience = await RoomPeer.connect(srv.baseUrl);
    cleanups.push(() => {
      presenter.socket.disconnect();
      audience.socket.disconnect();
    });
    const created = await presenter.create({ device: 'desktop' });
    const code = created.room.code;
    const joined = await audience.joinOk({ code });
    if (!joined.ok) throw new Error('join refused');
    const member = { participantId: joined.self, token: joined.participantToken };
    const host = { participantId: created.self, token: created.participantToken };
    const edits = `${srv.baseUrl}${BOARD_PATHS.edits(code)}`;

    const made = await postJson(edits, {
      ...member,
      editId: 'edit-0001',
      op: { type: 'slider.set', value: 12 },
    });
    expect(made.status).toBe(200);
    const forged = await postJson(edits, {
      participantId: joined.self,
      token: created.participantToken,
      editId: 'edit-0002',
      op: { type: 'slider.set', value: 13 },
    });
    expect(forged.status).toBe(403);

    const socket = connect(`${srv.baseUrl}${BOARD_NAMESPACE}`, { transports: ['websocket'], forceNew: true });
    cleanups.push(() => void socket.disconnect());
    const subscribe = (presenterCredentials: BoardCredentials) =>
      new Promise<BoardSubscribeAck>((resolve) =>
        socket.emit(
          BOARD_EVENTS.subscribe,
          { code, after: 0, presenter: presenterCredentials },
          (raw: unknown) => resolve(BoardSubscribeAck.parse(raw)),
        ),
      );
    const refused = await subscribe(member);
    expect(refused.ok || refused.error.code).toBe('FORBIDDEN');
    const granted = await subscribe(host);
    expect(granted.ok && granted.map?.rows.map((r) => r.version)).toEqual([1]);

    const ended = (await presenter.ask(ROOM_EVENTS.end)) as { ok: boolean };
    expect(ended.ok).toBe(true);
    expect((await fetch(`${srv.baseUrl}${BOARD_PATHS.board(code)}`)).status).toBe(404);
  });
});

/** One random op against what this page knows of the board (it may be stale: the server decides). */
function randomOp(
  random: () => number,
  known: { notes: { id: string }[] },
  author: string,
  n: number,
): BoardOp {
  const pick = random();
  const existing = known.notes[Math.floor(random() * known.notes.length)];
  if (pick < 0.35 || !existing) {
    return {
      type: 'note.add',
      note: {
        id: `${author}-n${n}`,
        text: `note ${n} by ${author} <b>not bold</b>`,
        x: Math.floor(random() * BOARD_LIMITS.size),
        y: Math.floor(random() * BOARD_LIMITS.size),
        colour: NOTE_COLOURS[Math.floor(random() * NOTE_COLOURS.length)] ?? 'yellow',
      },
    };
  }
  if (pick < 0.6)
    return { type: 'note.update', id: existing.id, text: `edited ${n} by ${author}`.slice(0, 140) };
  if (pick < 0.75) return { type: 'note.update', id: existing.id, x: Math.floor(random() * 1000), y: 0 };
  if (pick < 0.85) return { type: 'note.delete', id: existing.id };
  return { type: 'slider.set', value: Math.floor(random() * 101) };
}

/** `<status>`, with the error code of a 403 and the reason of a 429. */
function refusalOf({ status, json }: { status: number; json: unknown }): string {
  const { error } = ErrorEnvelope.parse(json);
  if (status === 403) return `403 ${error.code}`;
  if (status === 429) return `429 ${ClientLimitDetails.parse(error.details).reason}`;
  return String(status);
}

describe('board convergence over five lanes', () => {
  // Seeded, so a failure replays exactly: BOARD_SEED=<n> to try another run.
  const seed = Number(process.env.BOARD_SEED ?? 20261126);

  it(`every participant, on five lanes with random drops, ends with the server's board, and the presenter's map shows each page's own figures exactly (seed ${seed})`, async () => {
    const random = seeded(seed);
    // The rooms server's own rooms: every page joins and edits with the token its join gave it.
    const srv = await startTestServer({ WEBHOOK_SCHEDULE_SCALE: '0.001' });
    cleanups.push(() => srv.close());
    const host = await RoomPeer.connect(srv.baseUrl);
    cleanups.push(() => void host.socket.disconnect());
    const created = await host.create({ device: 'desktop' });
    const code = created.room.code;
    const presenter: BoardCredentials = { participantId: created.self, token: created.participantToken };

    const lanes: BoardLane[] = [...BOARD_LANES, ...BOARD_LANES]; // two pages per lane
    const participants: TestParticipant[] = [];
    for (const lane of lanes) {
      const peer = await RoomPeer.connect(srv.baseUrl);
      cleanups.push(() => void peer.socket.disconnect());
      const joined = await peer.joinOk({ code });
      if (!joined.ok) throw new Error('join refused');
      // Each page's clock is off the server's by up to ±5 s; its own offset estimate corrects it.
      const skewMs = (random() - 0.5) * 10_000;
      participants.push(
        new TestParticipant(
          srv.baseUrl,
          srv.receiverUrl,
          code,
          { participantId: joined.self, token: joined.participantToken },
          lane,
          () => epochNow() + skewMs,
        ),
      );
    }
    cleanups.push(() => {
      for (const p of participants) p.close();
    });
    const map = await TestPresenterMap.open(srv.baseUrl, code, presenter);
    cleanups.push(() => map.close());
    for (const p of participants) await p.measureClock();
    for (const p of participants) p.connect();

    const EDITS_PER_PAGE = 12;
    const DROPS_PER_PAGE = 3;
    const outcomes = { applied: 0, refused: 0 };
    await Promise.all(
      participants.map(async (p, index) => {
        const mine = seeded(seed + index + 1);
        const dropAt = new Set(
          Array.from({ length: DROPS_PER_PAGE }, () => Math.floor(mine() * EDITS_PER_PAGE)),
        );
        for (let n = 0; n < EDITS_PER_PAGE; n++) {
          const answer = await p.edit(`${p.id}-e${n}`, randomOp(mine, p.board, `page${index}`, n));
          if (answer.status === 200) outcomes.applied += 1;
          else {
            // Concurrent edits may make one stale (the note was deleted, the board filled), and the
            // audience's bounds refuse some (another's note deleted, a page's notes full): refused, not lost.
            expect(refusalOf(answer)).toMatch(/^(404|409|403 FORBIDDEN|429 board-notes)/);
            outcomes.refused += 1;
          }
          if (dropAt.has(n)) {
            // A websocket page's first drop cuts its transport, so that recovery is always exercised.
            const network = (p.lane === 'websocket' && p.drops === 0) || mine() < 0.5;
            p.drop(network ? 'network' : 'page');
            // The lane stays down while the others edit: a random 0–3 turns of this page's own edits.
            const downFor = Math.floor(mine() * 3);
            for (let k = 0; k < downFor && n + 1 < EDITS_PER_PAGE; k++) {
              n += 1;
              const more = await p.edit(`${p.id}-e${n}`, randomOp(mine, p.board, `page${index}`, n));
              if (more.status === 200) outcomes.applied += 1;
              else outcomes.refused += 1;
            }
            p.connect();
          }
        }
      }),
    );

    const final = BoardResponse.parse(
      await (await fetch(`${srv.baseUrl}${BOARD_PATHS.board(code)}`)).json(),
    ).board;
    expect(final.version).toBe(outcomes.applied);
    expect(final.version).toBeLessThanOrEqual(BOARD_LIMITS.mappedEdits);
    await Promise.all(participants.map((p) => p.reached(final.version)));
    if (process.env.BOARD_STATS) {
      console.table(
        participants.map((p) => ({
          id: p.id,
          on: p.lane,
          ...p.applied,
          drops: p.drops,
          connections: p.connections,
          recovered: p.recovered,
          maxDelayMs: Math.round(Math.max(...[...p.reported.values()].map((r) => r.delayMs))),
        })),
      );
      console.log(outcomes, 'final version', final.version);
    }
    for (const p of participants) {
      expect(p.board, `${p.id} on ${p.lane}`).toEqual(final);
      expect(p.drops, `${p.id} dropped`).toBeGreaterThan(0);
      // Others' changes came through the page's own lane, resumed after each drop: a lane that lost
      // one would leave a gap that only the page's fallback (a gap fill) could close.
      expect(p.applied, `${p.id} on ${p.lane}`).toMatchObject({ 'gap-fill': 0 });
      expect(p.applied.lane + p.applied.answer).toBe(final.version);
      expect(p.applied.lane, `${p.id} on ${p.lane}`).toBeGreaterThan(final.version / 2);
      // Every cut transport came back through socket.io's connection state recovery.
      if (p.lane === 'websocket') {
        expect(p.networkDrops, `${p.id} network drops`).toBeGreaterThan(0);
        expect(p.recovered, `${p.id} recovered`).toBeGreaterThanOrEqual(p.networkDrops);
      }
    }

    // The map: an entry of every page for every version, each exactly what that page reported.
    await Promise.all(participants.map((p) => p.flushReports()));
    const ids = participants.map((p) => p.id);
    await map.complete(ids, final.version);
    for (const p of participants) {
      for (let v = 1; v <= final.version; v++) {
        const shown = map.entries.get(`${v}:${p.id}`);
        const own = p.reported.get(v);
        expect(own, `${p.id} reported version ${v}`).toBeDefined();
        expect(shown).toEqual({ version: v, participantId: p.id, ...own });
      }
    }
    expect(map.rows.size).toBe(final.version);
  }, 60_000);
});
