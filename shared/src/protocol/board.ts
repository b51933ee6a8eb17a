import { z } from 'zod';
import { ErrorBody } from './errors.ts';
import type { LaneId } from './lanes.ts';
import { ParticipantId, RoomCode, RoomSecret } from './room.ts';

/**
 * The shared board of a room: sticky notes and one slider, edited by participants. Convergence is by
 * a server-ordered log, not a CRDT: every edit is validated and applied by the server in arrival
 * order and numbered with the board's next `version` (from 1, +1 each); every page applies changes
 * in version order and resumes from the last version it applied. See server/src/board/README.md.
 */
export const BOARD_LIMITS = {
  maxNotes: 50,
  /** A note's text, in UTF-16 code units; shown as text only, never as markup. */
  maxTextLength: 140,
  /** Notes sit on a board of this many units square; the page scales it to its width. */
  size: 1_000,
  sliderMin: 0,
  sliderMax: 100,
  /** Changes the server keeps; a page further behind is sent a snapshot instead. */
  retainedChanges: 1_000,
  /** Edits whose propagation the server keeps, newest first out of the map past this. */
  mappedEdits: 200,
  /** Versions one report may carry (a short poll that jumped far reports them all at once). */
  maxReportVersions: 1_000,
  /** Edits one participant may make per second, sustained, with bursts up to twice that; beyond it
   *  they are refused with 429 and the board is untouched. Reports have the same budget apart. */
  editsPerSecond: 20,
} as const;

/** Okabe–Ito-adjacent pastel names; the page shows the name beside the colour. */
export const NOTE_COLOURS = ['yellow', 'pink', 'blue', 'green', 'grey'] as const;
export const NoteColour = z.enum(NOTE_COLOURS);
export type NoteColour = z.infer<typeof NoteColour>;

/** Chosen by the page that adds the note, so that a retried add names the same note. */
export const NoteId = z.string().regex(/^[A-Za-z0-9_-]{6,32}$/, 'not a note id');
export type NoteId = z.infer<typeof NoteId>;

const coordinate = z.int().min(0).max(BOARD_LIMITS.size);
export const NoteText = z.string().max(BOARD_LIMITS.maxTextLength);

export const Note = z.strictObject({
  id: NoteId,
  text: NoteText,
  x: coordinate,
  y: coordinate,
  colour: NoteColour,
});
export type Note = z.infer<typeof Note>;

export const SliderValue = z.int().min(BOARD_LIMITS.sliderMin).max(BOARD_LIMITS.sliderMax);

export const BOARD_OP_TYPES = ['note.add', 'note.update', 'note.delete', 'slider.set'] as const;

/** What one edit does. Unions are discriminated on `type`. */
export const BoardOp = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('note.add'), note: Note }),
  z.strictObject({
    type: z.literal('note.update'),
    id: NoteId,
    text: NoteText.optional(),
    x: coordinate.optional(),
    y: coordinate.optional(),
    colour: NoteColour.optional(),
  }),
  z.strictObject({ type: z.literal('note.delete'), id: NoteId }),
  z.strictObject({ type: z.literal('slider.set'), value: SliderValue }),
]);
export type BoardOp = z.infer<typeof BoardOp>;

/** Page-chosen, unique per participant: a retried POST with the same id is applied once. */
export const EditId = z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, 'not an edit id');

export const BoardState = z.object({
  code: RoomCode,
  /** The version of the last change applied; 0 for a new board. */
  version: z.int().min(0),
  notes: z.array(Note).max(BOARD_LIMITS.maxNotes),
  slider: SliderValue,
});
export type BoardState = z.infer<typeof BoardState>;

/** One entry of the board's log: the op as applied, its version and the server time it was applied. */
export const BoardChange = z.object({
  version: z.int().min(1),
  /** Server time, epoch ms: the zero of this edit's propagation delays. */
  at: z.number(),
  by: ParticipantId,
  editId: EditId,
  op: BoardOp,
});
export type BoardChange = z.infer<typeof BoardChange>;

/** A participant's proof of membership, from the room's join (`JoinRoomAck.participantToken`). */
export const BoardCredentials = z.strictObject({ participantId: ParticipantId, token: RoomSecret });
export type BoardCredentials = z.infer<typeof BoardCredentials>;

/** The lanes a participant may receive others' changes through. */
export const BOARD_LANES = [
  'short-polling',
  'long-polling',
  'sse',
  'websocket',
  'webhook',
] as const satisfies readonly LaneId[];
export const BoardLane = z.enum(BOARD_LANES);
export type BoardLane = z.infer<typeof BoardLane>;

/** `POST /api/boards/{code}/edits`. */
export const BoardEditRequest = BoardCredentials.extend({ editId: EditId, op: BoardOp });
export type BoardEditRequest = z.infer<typeof BoardEditRequest>;

/** Its answer: the change as applied (200; the same change again for a repeated editId). */
export const BoardEditResponse = z.object({ change: BoardChange });
export type BoardEditResponse = z.infer<typeof BoardEditResponse>;

/** `GET /api/boards/{code}?since=V`: `since` asks for the server times of the versions after V. */
export const BoardQuery = z.strictObject({ since: z.coerce.number().pipe(z.int().min(0)).optional() });

/**
 * `GET /api/boards/{code}` answer; ETag `"board.<code>.<version>"`, If-None-Match → 304. A short
 * poll sees states, not changes: `times` (the versions after `since` that the log still holds, with
 * their server times) lets the page say when each version it skipped over was applied.
 */
export const BoardResponse = z.object({
  board: BoardState,
  times: z.array(z.object({ version: z.int().min(1), at: z.number() })),
});
export type BoardResponse = z.infer<typeof BoardResponse>;

/** `GET /api/boards/{code}/changes?after=V&waitMs=N`: the long poll, and any lane's catch-up. */
export const BoardChangesQuery = z.strictObject({
  after: z.coerce.number().pipe(z.int().min(0)).default(0),
  waitMs: z.coerce.number().pipe(z.int().min(0).max(30_000)).default(25_000),
});
export type BoardChangesQuery = z.infer<typeof BoardChangesQuery>;

/**
 * Every change after `after`, in order. When `after` is older than the kept log, `snapshot` is the
 * board at some version S ≥ after and `changes` follow S: the page replaces its state, then applies.
 */
export const BoardChanges = z.object({
  snapshot: BoardState.optional(),
  changes: z.array(BoardChange),
  nextAfter: z.int().min(0),
});
export type BoardChanges = z.infer<typeof BoardChanges>;

/** SSE framing of `GET /api/boards/{code}/stream` and of the receiver's `/relay/boards/{code}`:
 *  `change` events with `id: <version>`, and a `snapshot` event (id = its version) when the
 *  page's Last-Event-ID is older than the kept log. */
export const BOARD_SSE = { change: 'change', snapshot: 'snapshot' } as const;

/** One page's report: for each version, when the page showed it, as a delay from the change's `at`. */
export const ShownVersion = z.strictObject({
  version: z.int().min(1),
  /** (page time the change was on screen + the page's clock offset) − change.at, ms. The page's
   *  own measurement: the server stores and forwards it unchanged. */
  delayMs: z.number().finite(),
});
export type ShownVersion = z.infer<typeof ShownVersion>;

/** `POST /api/boards/{code}/reports`. */
export const BoardReportRequest = BoardCredentials.extend({
  lane: BoardLane,
  /** Half the round trip of the page's winning clock sample: the delays are true within ± this. */
  clockUncertaintyMs: z.number().finite().min(0),
  shown: z.array(ShownVersion).min(1).max(BOARD_LIMITS.maxReportVersions),
});
export type BoardReportRequest = z.infer<typeof BoardReportRequest>;

/** `POST /api/boards/{code}/reports` answer: how many of the report's versions were kept. */
export const BoardReportResponse = z.object({ accepted: z.int().min(0) });
export type BoardReportResponse = z.infer<typeof BoardReportResponse>;

/** One dot of the propagation map. */
export const PropagationEntry = z.object({
  version: z.int().min(1),
  participantId: ParticipantId,
  lane: BoardLane,
  delayMs: z.number(),
  clockUncertaintyMs: z.number(),
});
export type PropagationEntry = z.infer<typeof PropagationEntry>;

/** One row of the map: an edit and each page's report of it (the first report per page counts). */
export const PropagationRow = z.object({
  version: z.int().min(1),
  at: z.number(),
  by: ParticipantId,
  opType: z.enum(BOARD_OP_TYPES),
  entries: z.array(PropagationEntry),
});
export type PropagationRow = z.infer<typeof PropagationRow>;

export const PropagationMap = z.object({ code: RoomCode, rows: z.array(PropagationRow) });
export type PropagationMap = z.infer<typeof PropagationMap>;

/** socket.io namespace of the board: its own, so the board's traffic is apart from rooms and lanes. */
export const BOARD_NAMESPACE = '/board';

export const BOARD_EVENTS = {
  /** c→s: follow a board from a version; with a presenter's credentials, also its propagation map. */
  subscribe: 'board:subscribe',
  /** s→c: one change. */
  change: 'board:change',
  /** s→c, presenters: new map entries (and rows), as they are reported. */
  propagation: 'board:propagation',
  /** s→c: the room ended; the board is gone. */
  ended: 'board:ended',
} as const;

export const BoardSubscribeRequest = z.strictObject({
  code: RoomCode,
  after: z.int().min(0),
  /** Given by the presenter to receive the propagation map on this socket. */
  presenter: BoardCredentials.optional(),
});
export type BoardSubscribeRequest = z.infer<typeof BoardSubscribeRequest>;

export const BoardSubscribeAck = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), catchUp: BoardChanges, map: PropagationMap.optional() }),
  z.object({ ok: z.literal(false), error: ErrorBody }),
]);
export type BoardSubscribeAck = z.infer<typeof BoardSubscribeAck>;

/** A presenter's map update: rows first seen now, and the entries reported since the last one. */
export const PropagationUpdate = z.object({
  code: RoomCode,
  rows: z.array(PropagationRow.omit({ entries: true })),
  entries: z.array(PropagationEntry),
});
export type PropagationUpdate = z.infer<typeof PropagationUpdate>;

export interface BoardClientToServerEvents {
  [BOARD_EVENTS.subscribe]: (req: BoardSubscribeRequest, ack: (res: BoardSubscribeAck) => void) => void;
}

export interface BoardServerToClientEvents {
  [BOARD_EVENTS.change]: (change: BoardChange) => void;
  [BOARD_EVENTS.propagation]: (update: PropagationUpdate) => void;
  [BOARD_EVENTS.ended]: () => void;
}

/** HTTP paths of the board, written once. */
export const BOARD_PATHS = {
  board: (code: string) => `/api/boards/${encodeURIComponent(code)}`,
  edits: (code: string) => `/api/boards/${encodeURIComponent(code)}/edits`,
  changes: (code: string) => `/api/boards/${encodeURIComponent(code)}/changes`,
  stream: (code: string) => `/api/boards/${encodeURIComponent(code)}/stream`,
  reports: (code: string) => `/api/boards/${encodeURIComponent(code)}/reports`,
  /** On the built-in receiver: where the server delivers, and the page's relay stream. */
  receiverWebhooks: '/webhooks/boards',
  relay: (code: string) => `/relay/boards/${encodeURIComponent(code)}`,
} as const;

export const BOARD_ROUTES = {
  board: '/api/boards/:code',
  edits: '/api/boards/:code/edits',
  changes: '/api/boards/:code/changes',
  stream: '/api/boards/:code/stream',
  reports: '/api/boards/:code/reports',
} as const;

/** The Standard Webhooks body of one board change delivered to the receiver. */
export const BoardWebhookPayload = z.object({
  type: z.literal('board.change'),
  timestamp: z.string(),
  data: z.object({ code: RoomCode, change: BoardChange }),
});
export type BoardWebhookPayload = z.infer<typeof BoardWebhookPayload>;

export function emptyBoard(code: string): BoardState {
  return { code, version: 0, notes: [], slider: 50 };
}

/** Why an op cannot be applied to a board: the error code it travels with, and a message. */
export interface OpRefusal {
  code: 'NOT_FOUND' | 'BOARD_CONFLICT';
  message: string;
}

/**
 * The board's reducer: the state after `op`, or why it cannot apply. Pure; `version` is untouched
 * (the log numbers changes, not the reducer). The server runs it to accept an edit; every page runs
 * it on each change, in version order, so every page computes the same state.
 */
export function applyOp(
  board: BoardState,
  op: BoardOp,
): { ok: true; board: BoardState } | { ok: false; refusal: OpRefusal } {
  switch (op.type) {
    case 'note.add': {
      if (board.notes.some((n) => n.id === op.note.id)) {
        return {
          ok: false,
          refusal: { code: 'BOARD_CONFLICT', message: `Note ${op.note.id} already exists.` },
        };
      }
      if (board.notes.length >= BOARD_LIMITS.maxNotes) {
        return {
          ok: false,
          refusal: { code: 'BOARD_CONFLICT', message: `The board holds its ${BOARD_LIMITS.maxNotes} notes.` },
        };
      }
      return { ok: true, board: { ...board, notes: [...board.notes, op.note] } };
    }
    case 'note.update': {
      const index = board.notes.findIndex((n) => n.id === op.id);
      const note = board.notes[index];
      if (!note)
        return { ok: false, refusal: { code: 'NOT_FOUND', message: `No note ${op.id} on the board.` } };
      const { type: _type, id: _id, ...fields } = op;
      const updated: Note = { ...note };
      for (const [key, value] of Object.entries(fields) as [keyof typeof fields, never][]) {
        if (value !== undefined) updated[key] = value;
      }
      const notes = board.notes.slice();
      notes[index] = updated;
      return { ok: true, board: { ...board, notes } };
    }
    case 'note.delete': {
      if (!board.notes.some((n) => n.id === op.id)) {
        return { ok: false, refusal: { code: 'NOT_FOUND', message: `No note ${op.id} on the board.` } };
      }
      return { ok: true, board: { ...board, notes: board.notes.filter((n) => n.id !== op.id) } };
    }
    case 'slider.set':
      return { ok: true, board: { ...board, slider: op.value } };
  }
}

/**
 * A page applying the log: a change at or below the board's version is already in it (a duplicate
 * from a resumed stream or a second lane) and changes nothing; the next version applies; a later one
 * is a gap and is not applied (`gap`: the caller holds it until the missing ones come). The server
 * accepted every change, so its op applies; if it ever did not, the state is kept and `refused` says so.
 */
export function applyChange(
  board: BoardState,
  change: BoardChange,
): { board: BoardState; outcome: 'applied' | 'duplicate' | 'gap' | 'refused' } {
  if (change.version <= board.version) return { board, outcome: 'duplicate' };
  if (change.version > board.version + 1) return { board, outcome: 'gap' };
  const result = applyOp(board, change.op);
  if (!result.ok) return { board: { ...board, version: change.version }, outcome: 'refused' };
  return { board: { ...result.board, version: change.version }, outcome: 'applied' };
}
