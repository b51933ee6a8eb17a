import {
  applyOp,
  BOARD_LIMITS,
  type BoardChange,
  type BoardChanges,
  type BoardCredentials,
  type BoardEditRequest,
  type BoardOp,
  type BoardReportRequest,
  type BoardState,
  emptyBoard,
  type PropagationEntry,
  type PropagationMap,
  type PropagationRow,
  type PropagationUpdate,
} from '@transport-lab/shared';
import { clientLimitError, GAUGE_RETRY_AFTER_S } from '../access/index.ts';
import { AppError } from '../errors.ts';
import { epochNow } from '../observability/clock.ts';
import type { RoomDirectory, RoomRole } from './directory.ts';

/** Presenters' map updates are batched this long, ms: a burst of reports is one message, not hundreds. */
export const PROPAGATION_FLUSH_MS = 100;

/** Edit ids remembered per board for de-duplicating retried POSTs (the oldest go first). */
const REMEMBERED_EDITS = 10_000;

type ChangeListener = (change: BoardChange) => void;
type MapListener = (update: PropagationUpdate) => void;

interface Row extends Omit<PropagationRow, 'entries'> {
  entries: Map<string, PropagationEntry>;
}

interface Board {
  state: BoardState;
  /** The newest changes, oldest first, at most BOARD_LIMITS.retainedChanges. */
  log: BoardChange[];
  /** `${participantId}:${editId}` → the change it made. */
  edits: Map<string, BoardChange>;
  listeners: Set<ChangeListener>;
  /** version → row, at most BOARD_LIMITS.mappedEdits, in version order. */
  rows: Map<number, Row>;
  mapListeners: Set<MapListener>;
  pending: PropagationUpdate | undefined;
  flushTimer: NodeJS.Timeout | undefined;
  endListeners: Set<() => void>;
  /** `${kind}:${participantId}` → its token bucket (BOARD_LIMITS.editsPerSecond). */
  budgets: Map<string, { tokens: number; at: number }>;
  /** Note id → who added it, for each note on the board: who may delete it, and whose share it is. */
  authors: Map<string, { by: string; role: RoomRole }>;
}

/** BOARD_NOTES_PER_PARTICIPANT and BOARD_PRESENTER_RESERVED_NOTES (config.ts). */
export interface BoardNoteLimits {
  /** Notes one audience participant may have on the board at once. */
  perParticipant: number;
  /** Of BOARD_LIMITS.maxNotes, how many only the presenter may fill. */
  presenterReserved: number;
}

export interface BoardServiceDeps {
  rooms: RoomDirectory;
  noteLimits: BoardNoteLimits;
  now?: () => number;
}

/**
 * The boards, one per room, in memory: the state, the log of the newest changes, the edits already
 * applied (so a retried POST is applied once) and the propagation map. A board is made on first use
 * of a room that exists and forgotten when the room ends. Every method that touches a board runs
 * without awaiting between reading and writing it, so the order of the log is the order of arrival.
 */
export class BoardService {
  private readonly boards = new Map<string, Board>();
  private readonly rooms: RoomDirectory;
  private readonly noteLimits: BoardNoteLimits;
  private readonly now: () => number;
  private readonly changeListeners = new Set<(code: string, change: BoardChange) => void>();
  private readonly endedListeners = new Set<(code: string) => void>();
  private readonly offRooms: () => void;

  constructor({ rooms, noteLimits, now = epochNow }: BoardServiceDeps) {
    this.rooms = rooms;
    this.noteLimits = noteLimits;
    this.now = now;
    this.offRooms = rooms.onRoomEnded((code) => this.end(code));
  }

  /** The board of a room that exists (made now if new); 404 otherwise. */
  async board(code: string): Promise<BoardState> {
    return (await this.open(code)).state;
  }

  /** Whether the room (and so its board) exists: never throws. */
  async exists(code: string): Promise<boolean> {
    return this.boards.has(code) || (await this.rooms.exists(code));
  }

  /** Checks the credentials: 404 for a room that does not exist, 403 for a token that is not theirs. */
  async authorize(code: string, credentials: BoardCredentials): Promise<RoomRole> {
    await this.open(code);
    const role = await this.rooms.verifyParticipant(code, credentials.participantId, credentials.token);
    if (!role) throw new AppError('FORBIDDEN', 'Not a participant of this room, or the token is not theirs.');
    return role;
  }

  /** Applies one edit and gives it the board's next version; a repeated editId answers its change. */
  async edit(code: string, request: BoardEditRequest): Promise<BoardChange> {
    const role = await this.authorize(code, request);
    // An edit is activity in the room: a room busy only on its board does not expire as idle.
    this.rooms.touch?.(code);
    // Read the board again after the await: the room may have ended meanwhile.
    const board = await this.open(code);
    this.spend(board, `edit:${request.participantId}`);
    const key = `${request.participantId}:${request.editId}`;
    const earlier = board.edits.get(key);
    if (earlier) return earlier;
    this.permit(board, request.op, request.participantId, role);
    const result = applyOp(board.state, request.op);
    if (!result.ok) throw new AppError(result.refusal.code, result.refusal.message);
    if (request.op.type === 'note.add')
      board.authors.set(request.op.note.id, { by: request.participantId, role });
    else if (request.op.type === 'note.delete') board.authors.delete(request.op.id);
    const change: BoardChange = {
      version: board.state.version + 1,
      at: this.now(),
      by: request.participantId,
      editId: request.editId,
      op: request.op,
    };
    board.state = { ...result.board, version: change.version };
    board.log.push(change);
    if (board.log.length > BOARD_LIMITS.retainedChanges) board.log.shift();
    board.edits.set(key, change);
    if (board.edits.size > REMEMBERED_EDITS) board.edits.delete(board.edits.keys().next().value as string);
    this.addRow(board, change);
    for (const listener of [...board.listeners]) listener(change);
    for (const listener of [...this.changeListeners]) listener(code, change);
    return change;
  }

  /**
   * Every change after `after`. A page further behind than the log, or ahead of it (the board was
   * forgotten and made anew), gets the board as it is now as a snapshot, and the changes after it.
   */
  catchUp(state: BoardState, log: readonly BoardChange[], after: number): BoardChanges {
    if (after === state.version) return { changes: [], nextAfter: after };
    const oldest = log[0]?.version ?? state.version + 1;
    if (after > state.version || after < oldest - 1) {
      return { snapshot: state, changes: [], nextAfter: state.version };
    }
    return { changes: log.slice(after - oldest + 1), nextAfter: state.version };
  }

  async changesAfter(code: string, after: number): Promise<BoardChanges> {
    const board = await this.open(code);
    return this.catchUp(board.state, board.log, after);
  }

  /**
   * Listens to a board's changes after `after`: the catch-up is computed and the listener added in
   * one turn, so that nothing falls between them. `onEnd` is called if the room ends.
   */
  async follow(
    code: string,
    after: number,
    listener: ChangeListener,
    onEnd: () => void,
  ): Promise<{ catchUp: BoardChanges; off: () => void }> {
    const board = await this.open(code);
    const catchUp = this.catchUp(board.state, board.log, after);
    board.listeners.add(listener);
    board.endListeners.add(onEnd);
    return {
      catchUp,
      off: () => {
        board.listeners.delete(listener);
        board.endListeners.delete(onEnd);
      },
    };
  }

  /** Every change of every board, as it is applied (the webhook relay's feed). */
  onChange(listener: (code: string, change: BoardChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Every board that ends (its room ended, or the server is closing). */
  onEnded(listener: (code: string) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  /**
   * A page's report of when it showed each version. The first report of a version by a participant
   * is kept, exactly as sent; repeats are ignored (a page may report again after a retry). A version
   * the board has not reached is refused: no page can have shown it.
   */
  async report(code: string, request: BoardReportRequest): Promise<{ accepted: number }> {
    await this.authorize(code, request);
    const board = await this.open(code);
    this.spend(board, `report:${request.participantId}`);
    const future = request.shown.find((s) => s.version > board.state.version);
    if (future) {
      throw new AppError(
        'VALIDATION_FAILED',
        `Version ${future.version} is beyond the board's ${board.state.version}: no page has shown it.`,
      );
    }
    let accepted = 0;
    for (const shown of request.shown) {
      const row = board.rows.get(shown.version);
      if (!row || row.entries.has(request.participantId)) continue;
      const entry: PropagationEntry = {
        version: shown.version,
        participantId: request.participantId,
        lane: request.lane,
        delayMs: shown.delayMs,
        clockUncertaintyMs: request.clockUncertaintyMs,
      };
      row.entries.set(request.participantId, entry);
      this.pendingUpdate(code, board).entries.push(entry);
      accepted += 1;
    }
    return { accepted };
  }

  /** The whole propagation map: the presenter's starting point, then updates. */
  async propagation(code: string): Promise<PropagationMap> {
    const board = await this.open(code);
    return {
      code,
      rows: [...board.rows.values()].map((row) => ({ ...row, entries: [...row.entries.values()] })),
    };
  }

  /** Map updates for a presenter; the caller has checked the role. */
  async watchPropagation(code: string, listener: MapListener): Promise<() => void> {
    const board = await this.open(code);
    board.mapListeners.add(listener);
    return () => board.mapListeners.delete(listener);
  }

  /** Forgets a room's board and ends whatever follows it. */
  end(code: string): void {
    const board = this.boards.get(code);
    if (!board) return;
    this.boards.delete(code);
    clearTimeout(board.flushTimer);
    for (const onEnd of [...board.endListeners]) onEnd();
    for (const listener of [...this.endedListeners]) listener(code);
  }

  close(): void {
    this.offRooms();
    for (const code of [...this.boards.keys()]) this.end(code);
  }

  private async open(code: string): Promise<Board> {
    const existing = this.boards.get(code);
    if (existing) return existing;
    if (!(await this.rooms.exists(code))) throw new AppError('NOT_FOUND', `No room ${code}.`);
    // Another request may have made it while this one awaited.
    const made = this.boards.get(code) ?? {
      state: emptyBoard(code),
      log: [],
      edits: new Map(),
      listeners: new Set(),
      rows: new Map(),
      mapListeners: new Set(),
      pending: undefined,
      flushTimer: undefined,
      endListeners: new Set(),
      budgets: new Map(),
      authors: new Map(),
    };
    this.boards.set(code, made);
    return made;
  }

  /**
   * What one participant may do to notes that are not only theirs (docs/security.md, "Limits"): a
   * note is deleted by its author or the presenter only; an audience participant adds a note while
   * they have fewer than `perParticipant` on the board (`429`), and while the audience's notes leave
   * the presenter's reserve free (`409 BOARD_CONFLICT`, as a full board). Moving and editing stay
   * open to everyone: the board is for working together.
   */
  private permit(board: Board, op: BoardOp, participantId: string, role: RoomRole): void {
    if (role === 'presenter') return;
    if (op.type === 'note.delete') {
      const author = board.authors.get(op.id);
      if (author && author.by !== participantId)
        throw new AppError('FORBIDDEN', 'Only its author or the presenter may delete a note.');
      return;
    }
    // A taken id is the reducer's refusal (409), whoever's it is.
    if (op.type !== 'note.add' || board.authors.has(op.note.id)) return;
    const { perParticipant, presenterReserved } = this.noteLimits;
    let mine = 0;
    let audience = 0;
    for (const author of board.authors.values()) {
      if (author.by === participantId) mine += 1;
      if (author.role === 'audience') audience += 1;
    }
    if (mine >= perParticipant) throw clientLimitError('board-notes', perParticipant, GAUGE_RETRY_AFTER_S);
    const audienceShare = BOARD_LIMITS.maxNotes - presenterReserved;
    if (audience >= audienceShare)
      throw new AppError(
        'BOARD_CONFLICT',
        `The audience's ${audienceShare} notes are on the board: the other ${presenterReserved} are kept for the presenter.`,
      );
  }

  /** A token bucket per participant and kind: a flooding page is refused (429), the board untouched. */
  private spend(board: Board, key: string): void {
    const rate = BOARD_LIMITS.editsPerSecond;
    const now = this.now();
    const bucket = board.budgets.get(key) ?? { tokens: 2 * rate, at: now };
    bucket.tokens = Math.min(2 * rate, bucket.tokens + ((now - bucket.at) / 1_000) * rate);
    bucket.at = now;
    board.budgets.set(key, bucket);
    if (bucket.tokens < 1) {
      const waitS = Math.ceil((1 - bucket.tokens) / rate);
      throw new AppError('RATE_LIMITED', `At most ${rate} a second; try again shortly.`, undefined, {
        'Retry-After': String(waitS),
      });
    }
    bucket.tokens -= 1;
  }

  private addRow(board: Board, change: BoardChange): void {
    const row: Row = {
      version: change.version,
      at: change.at,
      by: change.by,
      opType: change.op.type,
      entries: new Map(),
    };
    board.rows.set(change.version, row);
    if (board.rows.size > BOARD_LIMITS.mappedEdits)
      board.rows.delete(board.rows.keys().next().value as number);
    const { entries: _entries, ...bare } = row;
    this.pendingUpdate(board.state.code, board).rows.push(bare);
  }

  private pendingUpdate(code: string, board: Board): PropagationUpdate {
    if (!board.pending) {
      board.pending = { code, rows: [], entries: [] };
      board.flushTimer = setTimeout(() => {
        const update = board.pending;
        board.pending = undefined;
        board.flushTimer = undefined;
        if (!update) return;
        for (const listener of [...board.mapListeners]) listener(update);
      }, PROPAGATION_FLUSH_MS);
      board.flushTimer.unref();
    }
    return board.pending;
  }
}
