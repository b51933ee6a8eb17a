import {
  applyChange,
  applyOp,
  BOARD_LIMITS,
  type BoardChange,
  BoardEditRequest,
  type BoardOp,
  BoardReportRequest,
  type BoardState,
  emptyBoard,
  type Note,
} from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';

const note = (id: string, text = 'hi'): Note => ({ id, text, x: 1, y: 2, colour: 'blue' });
const change = (version: number, op: BoardOp): BoardChange => ({
  version,
  at: 1_000 + version,
  by: 'alice1',
  editId: `edit-${String(version).padStart(4, '0')}`,
  op,
});

function replay(changes: BoardChange[], from: BoardState = emptyBoard('B0ARD234')) {
  const outcomes: string[] = [];
  let board = from;
  for (const c of changes) {
    const next = applyChange(board, c);
    outcomes.push(next.outcome);
    board = next.board;
  }
  return { board, outcomes };
}

describe('board reducer', () => {
  const log = [
    change(1, { type: 'note.add', note: note('note01') }),
    change(2, { type: 'note.add', note: note('note02') }),
    change(3, { type: 'note.update', id: 'note01', text: 'changed', x: 500 }),
    change(4, { type: 'slider.set', value: 80 }),
    change(5, { type: 'note.delete', id: 'note02' }),
  ];

  it('applies changes in version order to the same state on every page', () => {
    const { board, outcomes } = replay(log);
    expect(outcomes).toEqual(['applied', 'applied', 'applied', 'applied', 'applied']);
    expect(board).toEqual({
      code: 'B0ARD234',
      version: 5,
      notes: [{ ...note('note01'), text: 'changed', x: 500 }],
      slider: 80,
    });
  });

  it('re-applying an old version changes nothing (a resumed stream, a second copy)', () => {
    const once = replay(log).board;
    const again = replay([log[2] as BoardChange, log[4] as BoardChange, log[0] as BoardChange], once);
    expect(again.outcomes).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect(again.board).toBe(once);
  });

  it('does not apply a change ahead of a missing one', () => {
    const { board, outcomes } = replay([log[0] as BoardChange, log[2] as BoardChange]);
    expect(outcomes).toEqual(['applied', 'gap']);
    expect(board.version).toBe(1);
  });

  it('refuses a 51st note, a taken note id, and edits of a note that is not there', () => {
    let board = emptyBoard('B0ARD234');
    for (let i = 0; i < BOARD_LIMITS.maxNotes; i++) {
      const result = applyOp(board, { type: 'note.add', note: note(`note${String(i).padStart(2, '0')}`) });
      if (!result.ok) throw new Error(result.refusal.message);
      board = result.board;
    }
    const full = applyOp(board, { type: 'note.add', note: note('extra1') });
    expect(full.ok || full.refusal.code).toBe('BOARD_CONFLICT');
    const taken = applyOp(emptyBoard('B0ARD234'), { type: 'note.add', note: note('note01') });
    const twice = taken.ok && applyOp(taken.board, { type: 'note.add', note: note('note01') });
    expect(twice && (twice.ok || twice.refusal.code)).toBe('BOARD_CONFLICT');
    for (const op of [
      { type: 'note.update', id: 'absent', text: 'x' },
      { type: 'note.delete', id: 'absent' },
    ] as const) {
      const missing = applyOp(board, op);
      expect(missing.ok || missing.refusal.code).toBe('NOT_FOUND');
    }
  });

  it('an update leaves the fields it does not name as they were', () => {
    const added = applyOp(emptyBoard('B0ARD234'), { type: 'note.add', note: note('note01', 'keep') });
    if (!added.ok) throw new Error(added.refusal.message);
    const moved = applyOp(added.board, { type: 'note.update', id: 'note01', y: 999 });
    expect(moved.ok ? moved.board.notes : moved).toEqual([{ ...note('note01', 'keep'), y: 999 }]);
  });
});

describe('board schemas refuse', () => {
  const credentials = { participantId: 'alice1', token: 'token-01-abcdefghijklmnopqrstu' };
  const edit = (op: unknown) => BoardEditRequest.safeParse({ ...credentials, editId: 'edit-0001', op });

  it.each([
    ['text over 140 characters', { type: 'note.add', note: note('note01', 'é'.repeat(141)) }],
    ['a colour outside the palette', { type: 'note.add', note: { ...note('note01'), colour: 'red' } }],
    ['a fractional coordinate', { type: 'note.add', note: { ...note('note01'), x: 1.5 } }],
    ['a negative coordinate', { type: 'note.update', id: 'note01', y: -1 }],
    ['an extra field on a note', { type: 'note.add', note: { ...note('note01'), html: '<b>' } }],
    ['a note id with markup', { type: 'note.delete', id: '<img src=x>' }],
    ['a slider below 0', { type: 'slider.set', value: -1 }],
    ['an unknown type', { type: 'board.clear' }],
  ])('%s', (_what, op) => {
    expect(edit(op).success).toBe(false);
  });

  it('accepts exactly 140 characters, shown as text: markup is only characters', () => {
    expect(edit({ type: 'note.add', note: note('note01', '<'.repeat(140)) }).success).toBe(true);
  });

  it('a request without a token, or with a token that is not a room secret', () => {
    expect(
      BoardEditRequest.safeParse({
        participantId: 'alice1',
        editId: 'edit-0001',
        op: { type: 'slider.set', value: 1 },
      }).success,
    ).toBe(false);
    expect(edit({ type: 'slider.set', value: 1 }).success).toBe(true);
    expect(
      BoardEditRequest.safeParse({
        ...credentials,
        token: 'short',
        editId: 'edit-0001',
        op: { type: 'slider.set', value: 1 },
      }).success,
    ).toBe(false);
  });

  it('a report with no versions, a version 0, or a lane that is not one of the five', () => {
    const report = {
      ...credentials,
      lane: 'sse',
      clockUncertaintyMs: 1,
      shown: [{ version: 1, delayMs: 3.25 }],
    };
    expect(BoardReportRequest.safeParse(report).success).toBe(true);
    expect(BoardReportRequest.safeParse({ ...report, shown: [] }).success).toBe(false);
    expect(BoardReportRequest.safeParse({ ...report, shown: [{ version: 0, delayMs: 1 }] }).success).toBe(
      false,
    );
    expect(BoardReportRequest.safeParse({ ...report, lane: 'hybrid' }).success).toBe(false);
    expect(
      BoardReportRequest.safeParse({ ...report, shown: [{ version: 1, delayMs: Number.NaN }] }).success,
    ).toBe(false);
  });
});
