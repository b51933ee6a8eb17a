import {
  applyChange,
  BOARD_EVENTS,
  BOARD_LIMITS,
  BOARD_NAMESPACE,
  BOARD_PATHS,
  type BoardChange,
  BoardChanges,
  BoardEditResponse,
  type BoardLane,
  type BoardOp,
  BoardResponse,
  type BoardState,
  BoardSubscribeAck,
  type ClockEstimate,
  ErrorEnvelope,
  type Note,
  type PropagationEntry,
  type PropagationRow,
  PropagationUpdate,
} from '@transport-lab/shared';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { type BoardSocket, type EventSourceLike, followBoard } from './board-follow.ts';

export interface BoardSession {
  code: string;
  participantId: string;
  token: string;
  role: 'presenter' | 'audience';
}

export type LaneStatus = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'ended';

export interface MapRow extends Omit<PropagationRow, 'entries'> {
  /** participantId → that page's own report of when it showed this edit. */
  entries: Record<string, PropagationEntry>;
}

export interface BoardViewState {
  session: BoardSession | undefined;
  lane: BoardLane;
  pollIntervalMs: number;
  board: BoardState | undefined;
  status: LaneStatus;
  detail: string | undefined;
  /** The last refusal or failure of one of this page's edits, shown and announced. */
  problem: string | undefined;
  /** Edits sent and not yet answered. */
  sending: number;
  /** This page's own figure for the newest version it showed, ms (clock corrected). */
  lastDelayMs: number | undefined;
  /** Presenter only: rows by version, newest last. */
  map: MapRow[];
  start(session: BoardSession): void;
  stop(): void;
  setLane(lane: BoardLane): void;
  setPollInterval(ms: number): void;
  edit(op: BoardOp): Promise<boolean>;
}

export interface BoardDeps {
  fetch: typeof fetch;
  /** The page clock, epoch ms (clientNow). */
  now(): number;
  /** The page's clock estimate (the app store's), undefined until measured. */
  clock(): ClockEstimate | undefined;
  receiverOrigin(): string | undefined;
  openEventSource(url: string): EventSourceLike;
  openSocket(path: string): BoardSocket;
  /** Calls back once what was just rendered is on screen (the next animation frame). */
  afterPaint(callback: () => void): void;
  randomId(): string;
}

/** Reports are sent at most this often, ms, and held while the clock is not yet measured. */
export const REPORT_INTERVAL_MS = 500;
/** A change that came before its predecessor waits this long for the lane before the log is asked, ms. */
export const GAP_FILL_MS = 3_000;
/** Rows of the map kept on the page. */
const MAP_ROWS = BOARD_LIMITS.mappedEdits;

/**
 * The board's state on the page, in a store of its own (not the app store: the room slice lives
 * there). Changes from any source (the lane, this page's own edit answers, a gap fill) go through one
 * orderer: applied in version order with the shared reducer, duplicates dropped, a later change held
 * until its predecessor comes. The moment each version is on screen is taken at the next animation
 * frame and reported as (page time + clock offset) − the change's server time: the page's own figure.
 */
export function createBoardStore(deps: BoardDeps): StoreApi<BoardViewState> {
  const held = new Map<number, BoardChange>();
  /** Versions shown, page time, waiting for a clock estimate and the next report. */
  let shown: { version: number; at: number; shownAt: number }[] = [];
  let stopLane: (() => void) | undefined;
  let mapSocket: BoardSocket | undefined;
  let reportTimer: ReturnType<typeof setTimeout> | undefined;
  let gapTimer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;

  const store = createStore<BoardViewState>()((set, get) => {
    const markShown = (versions: { version: number; at: number | undefined }[]) => {
      if (versions.length === 0) return;
      deps.afterPaint(() => {
        const shownAt = deps.now();
        for (const { version, at } of versions) if (at !== undefined) shown.push({ version, at, shownAt });
        // Held while the clock is unmeasured; a page that never gets an estimate keeps only the newest.
        if (shown.length > BOARD_LIMITS.maxReportVersions)
          shown.splice(0, shown.length - BOARD_LIMITS.maxReportVersions);
        const clock = deps.clock();
        const last = shown.at(-1);
        if (clock && last) set({ lastDelayMs: last.shownAt + clock.offsetMs - last.at });
        scheduleReport();
      });
    };

    const applyHeld = (from: BoardState): BoardState => {
      let board = from;
      const applied: { version: number; at: number }[] = [];
      for (;;) {
        const next = held.get(board.version + 1);
        if (!next) break;
        held.delete(next.version);
        board = applyChange(board, next).board;
        applied.push({ version: next.version, at: next.at });
      }
      for (const version of [...held.keys()]) if (version <= board.version) held.delete(version);
      markShown(applied);
      if (held.size > 0 && !gapTimer) gapTimer = setTimeout(fillGap, GAP_FILL_MS);
      return board;
    };

    const receive = (changes: BoardChange[]) => {
      const board = get().board;
      if (!board) {
        for (const change of changes) held.set(change.version, change);
        return;
      }
      for (const change of changes) if (change.version > board.version) held.set(change.version, change);
      const next = applyHeld(board);
      if (next !== board) set({ board: next });
    };

    const receiveSnapshot = (snapshot: BoardState, times: Map<number, number>) => {
      const board = get().board;
      if (board && snapshot.version <= board.version) return;
      const from = board?.version ?? snapshot.version;
      const covered: { version: number; at: number | undefined }[] = [];
      for (let v = from + 1; v <= snapshot.version; v++) covered.push({ version: v, at: times.get(v) });
      markShown(covered);
      set({ board: applyHeld(snapshot) });
    };

    const fillGap = async () => {
      gapTimer = undefined;
      const { session, board } = get();
      if (!session || !board || held.size === 0) return;
      try {
        const res = await deps.fetch(`${BOARD_PATHS.changes(session.code)}?after=${board.version}&waitMs=0`);
        const body = (await res.json()) as unknown;
        const parsed = BoardChanges.parse(body);
        if (parsed.snapshot) receiveSnapshot(parsed.snapshot, new Map());
        receive(parsed.changes);
      } catch {
        gapTimer = setTimeout(fillGap, GAP_FILL_MS);
      }
    };

    const scheduleReport = () => {
      if (reportTimer || shown.length === 0) return;
      reportTimer = setTimeout(() => {
        reportTimer = undefined;
        void sendReport();
      }, REPORT_INTERVAL_MS);
    };

    const sendReport = async () => {
      const { session, lane } = get();
      const clock = deps.clock();
      if (!session || !clock || shown.length === 0) {
        if (!clock) scheduleReport();
        return;
      }
      const batch = shown.splice(0, BOARD_LIMITS.maxReportVersions);
      try {
        const res = await deps.fetch(BOARD_PATHS.reports(session.code), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            participantId: session.participantId,
            token: session.token,
            lane,
            clockUncertaintyMs: clock.uncertaintyMs,
            shown: batch.map(({ version, at, shownAt }) => ({
              version,
              delayMs: shownAt + clock.offsetMs - at,
            })),
          }),
        });
        // A refusal is not retried (it would be refused again); a network failure is.
        if (res.status >= 500) throw new Error(`report answered ${res.status}`);
      } catch {
        shown = [...batch, ...shown];
      }
      scheduleReport();
    };

    const openLane = () => {
      stopLane?.();
      const { session, lane, pollIntervalMs } = get();
      if (!session) return;
      const mine = generation;
      stopLane = followBoard(
        lane,
        session.code,
        {
          changes: (changes) => mine === generation && receive(changes),
          snapshot: (board, times) => mine === generation && receiveSnapshot(board, times),
          // Every poll says "live" again: only a change of status or detail is set (and re-rendered).
          status: (status, detail) => {
            if (mine !== generation) return;
            if (get().status !== status || get().detail !== detail) set({ status, detail });
          },
          ended: (reason) => {
            if (mine !== generation) return;
            set({ status: 'ended', detail: reason });
            stopLane?.();
          },
        },
        {
          fetch: deps.fetch,
          openEventSource: deps.openEventSource,
          openSocket: deps.openSocket,
          receiverOrigin: deps.receiverOrigin,
          version: () => get().board?.version ?? 0,
          pollIntervalMs,
        },
      );
    };

    const openMap = (session: BoardSession) => {
      const socket = deps.openSocket(BOARD_NAMESPACE);
      mapSocket = socket;
      const merge = (rows: Omit<PropagationRow, 'entries'>[], entries: PropagationEntry[]) => {
        const byVersion = new Map(get().map.map((row) => [row.version, row]));
        for (const row of rows)
          if (!byVersion.has(row.version)) byVersion.set(row.version, { ...row, entries: {} });
        for (const entry of entries) {
          const row = byVersion.get(entry.version);
          // The first report of a page counts, as on the server.
          if (row && !row.entries[entry.participantId]) {
            byVersion.set(entry.version, {
              ...row,
              entries: { ...row.entries, [entry.participantId]: entry },
            });
          }
        }
        const map = [...byVersion.values()].sort((a, b) => a.version - b.version).slice(-MAP_ROWS);
        set({ map });
      };
      socket.on(BOARD_EVENTS.propagation, (raw) => {
        const update = PropagationUpdate.safeParse(raw);
        if (update.success) merge(update.data.rows, update.data.entries);
      });
      socket.on('connect', () => {
        const presenter = { participantId: session.participantId, token: session.token };
        socket.emit(BOARD_EVENTS.subscribe, { code: session.code, after: 0, presenter }, (raw) => {
          const ack = BoardSubscribeAck.safeParse(raw);
          if (!ack.success || !ack.data.ok || !ack.data.map) return;
          const rows = ack.data.map.rows;
          merge(
            rows.map(({ entries: _entries, ...row }) => row),
            rows.flatMap((row) => row.entries),
          );
        });
      });
      socket.connect();
    };

    return {
      session: undefined,
      lane: 'websocket',
      pollIntervalMs: 1_000,
      board: undefined,
      status: 'idle',
      detail: undefined,
      problem: undefined,
      sending: 0,
      lastDelayMs: undefined,
      map: [],

      start(session) {
        get().stop();
        generation += 1;
        set({ session, status: 'connecting', board: undefined, map: [], problem: undefined });
        const mine = generation;
        // The board as it is now, then the lane from its version: the page shows the present at once.
        void (async () => {
          try {
            const res = await deps.fetch(BOARD_PATHS.board(session.code), { cache: 'no-store' });
            if (mine !== generation) return;
            if (res.status === 404 || res.status === 410) {
              set({ status: 'ended', detail: 'The room has ended, or there is no such room.' });
              return;
            }
            const { board } = BoardResponse.parse(await res.json());
            set({ board: applyHeld(board) });
          } catch (error) {
            set({ detail: error instanceof Error ? error.message : String(error) });
          }
          if (mine === generation) openLane();
        })();
        if (session.role === 'presenter') openMap(session);
      },

      stop() {
        generation += 1;
        stopLane?.();
        stopLane = undefined;
        mapSocket?.removeAllListeners();
        mapSocket?.disconnect();
        mapSocket = undefined;
        clearTimeout(gapTimer);
        gapTimer = undefined;
        held.clear();
        if (reportTimer) {
          clearTimeout(reportTimer);
          reportTimer = undefined;
          void sendReport();
        }
        set({ status: 'idle' });
      },

      setLane(lane) {
        if (lane === get().lane) return;
        // Versions shown so far were shown on the old lane: report them under it first.
        if (reportTimer) {
          clearTimeout(reportTimer);
          reportTimer = undefined;
          void sendReport();
        }
        set({ lane });
        if (get().session && get().status !== 'ended') openLane();
      },

      setPollInterval(ms) {
        set({ pollIntervalMs: ms });
        if (get().lane === 'short-polling' && get().session) openLane();
      },

      async edit(op) {
        const { session } = get();
        if (!session) return false;
        const editId = deps.randomId();
        set((s) => ({ sending: s.sending + 1 }));
        try {
          // One network retry with the same edit id: the server applies it once either way.
          for (let attempt = 1; ; attempt++) {
            let res: Response;
            try {
              res = await deps.fetch(BOARD_PATHS.edits(session.code), {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({
                  participantId: session.participantId,
                  token: session.token,
                  editId,
                  op,
                }),
              });
            } catch (error) {
              if (attempt < 2) continue;
              throw error;
            }
            const body: unknown = await res.json();
            if (res.ok) {
              receive([BoardEditResponse.parse(body).change]);
              set({ problem: undefined });
              return true;
            }
            const envelope = ErrorEnvelope.safeParse(body);
            set({
              problem: envelope.success ? envelope.data.error.message : `The server answered ${res.status}.`,
            });
            return false;
          }
        } catch (error) {
          set({ problem: `Not sent: ${error instanceof Error ? error.message : String(error)}` });
          return false;
        } finally {
          set((s) => ({ sending: s.sending - 1 }));
        }
      },
    };
  });
  return store;
}

/**
 * Where a fresh note goes: a grid of 6 × 4 slots about a note's size apart on a desktop board, the
 * next round of 24 a little lower and to the right, so no new note lands exactly on an older one.
 */
export function newNote(id: string, text: string, colour: Note['colour'], count: number): Note {
  const slot = count % 24;
  const round = Math.floor(count / 24);
  return {
    id,
    text,
    colour,
    x: Math.min(BOARD_LIMITS.size, 20 + (slot % 6) * 170 + round * 40),
    y: Math.min(BOARD_LIMITS.size, 20 + Math.floor(slot / 6) * 250 + round * 60),
  };
}
