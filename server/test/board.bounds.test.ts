import {
  BOARD_LIMITS,
  BOARD_PATHS,
  type BoardCredentials,
  type BoardOp,
  BoardResponse,
  ErrorEnvelope,
  type Note,
} from '@transport-lab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.ts';
import { expectLimited } from './limitsHarness.ts';
import { RoomPeer } from './roomsHarness.ts';

/**
 * Issue 11, item 2: board notes per participant (docs/security.md, "Limits"). One participant past
 * its notes is refused `429` while another's note is added meanwhile; the audience together cannot
 * take the presenter's reserve; a note is deleted by its author or the presenter only.
 */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A live room with its presenter and three audience members, each with the board credentials of
 *  their join. */
async function boardRoom(env: Parameters<typeof startTestServer>[0]) {
  const server: TestServer = await startTestServer(env);
  cleanups.push(() => server.close());
  const peer = async () => {
    const p = await RoomPeer.connect(server.baseUrl);
    cleanups.push(() => p.close());
    return p;
  };
  const created = await (await peer()).create({ device: 'desktop' });
  const code = created.room.code;
  const audience = async (name: string): Promise<BoardCredentials> => {
    const joined = await (await peer()).joinOk({ code, name });
    return { participantId: joined.self, token: joined.participantToken };
  };
  const presenter = { participantId: created.self, token: created.participantToken };
  const [bot, phone, late] = [await audience('Bot'), await audience('Phone'), await audience('Late')];
  let edits = 0;
  const edit = (who: BoardCredentials, op: BoardOp, editId = `edit-${++edits}`) =>
    fetch(`${server.baseUrl}${BOARD_PATHS.edits(code)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...who, editId, op }),
    });
  const add = (who: BoardCredentials, id: string, editId?: string) =>
    edit(who, { type: 'note.add', note: note(id) }, editId);
  const remove = (who: BoardCredentials, id: string) => edit(who, { type: 'note.delete', id });
  const noteIds = async () => {
    const { board } = BoardResponse.parse(
      await (await fetch(`${server.baseUrl}${BOARD_PATHS.board(code)}`)).json(),
    );
    return board.notes.map((n) => n.id).sort();
  };
  return { presenter, bot, phone, late, add, remove, noteIds };
}

const note = (id: string): Note => ({ id, text: `note ${id}`, x: 10, y: 20, colour: 'blue' });

async function expectRefused(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status);
  const { error } = ErrorEnvelope.parse(await res.json());
  expect(error.code).toBe(code);
  return error.message;
}

describe('board notes per participant', () => {
  it("refuses one participant's note past its share while another's is added; a retried add is still answered", async () => {
    const { presenter, bot, phone, add, remove, noteIds } = await boardRoom({
      BOARD_NOTES_PER_PARTICIPANT: '2',
    });
    expect((await add(bot, 'bot-n1')).status).toBe(200);
    expect((await add(bot, 'bot-n2', 'bot-add-2')).status).toBe(200);
    const details = await expectLimited(await add(bot, 'bot-n3'), 'board-notes');
    expect(details.limit).toBe(2);
    // The answer to a lost one is not a new note: it is answered, not refused.
    expect((await add(bot, 'bot-n2', 'bot-add-2')).status).toBe(200);

    // Meanwhile another participant's note, and the presenter's, whatever the bot holds.
    expect((await add(phone, 'phone-n1')).status).toBe(200);
    for (const id of ['pres-n1', 'pres-n2', 'pres-n3']) expect((await add(presenter, id)).status).toBe(200);

    // Its own note deleted, the bot may add one again.
    expect((await remove(bot, 'bot-n1')).status).toBe(200);
    expect((await add(bot, 'bot-n3')).status).toBe(200);
    expect(await noteIds()).toEqual(['bot-n2', 'bot-n3', 'phone-n1', 'pres-n1', 'pres-n2', 'pres-n3']);
  });

  it("keeps the presenter's reserve: the audience together fills only the rest", async () => {
    // 50 notes, 46 kept for the presenter: the audience's share is 4.
    const { presenter, bot, phone, late, add, remove, noteIds } = await boardRoom({
      BOARD_NOTES_PER_PARTICIPANT: '3',
      BOARD_PRESENTER_RESERVED_NOTES: String(BOARD_LIMITS.maxNotes - 4),
    });
    for (const id of ['bot-n1', 'bot-n2', 'bot-n3']) expect((await add(bot, id)).status).toBe(200);
    expect((await add(phone, 'phone-n1')).status).toBe(200);
    const message = await expectRefused(await add(late, 'late-n1'), 409, 'BOARD_CONFLICT');
    expect(message).toMatch(/kept for the presenter\.$/);
    expect((await add(presenter, 'pres-n1')).status).toBe(200);
    // The presenter clears a note of the audience's: someone else may add one.
    expect((await remove(presenter, 'bot-n1')).status).toBe(200);
    expect((await add(late, 'late-n1')).status).toBe(200);
    expect(await noteIds()).toEqual(['bot-n2', 'bot-n3', 'late-n1', 'phone-n1', 'pres-n1']);
  });
});

describe('deleting a note', () => {
  it('is for its author or the presenter only', async () => {
    const { presenter, bot, phone, add, remove, noteIds } = await boardRoom({});
    expect((await add(presenter, 'pres-n1')).status).toBe(200);
    expect((await add(phone, 'phone-n1')).status).toBe(200);
    expect(await expectRefused(await remove(bot, 'pres-n1'), 403, 'FORBIDDEN')).toMatch(
      /^Only its author or the presenter/,
    );
    await expectRefused(await remove(bot, 'phone-n1'), 403, 'FORBIDDEN');
    expect(await noteIds()).toEqual(['phone-n1', 'pres-n1']);
    expect((await remove(phone, 'phone-n1')).status).toBe(200);
    expect((await add(bot, 'bot-n1')).status).toBe(200);
    expect((await remove(presenter, 'bot-n1')).status).toBe(200);
    expect(await noteIds()).toEqual(['pres-n1']);
  });
});
