import { cleanup, render, screen, within } from '@testing-library/preact';
import {
  BOARD_EVENTS,
  BOARD_PATHS,
  type BoardChange,
  type BoardOp,
  type BoardState,
  emptyBoard,
  LANES,
} from '@transport-lab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { BoardPanel } from './BoardPanel.tsx';
import type { BoardSocket } from './board-follow.ts';
import { type BoardDeps, createBoardStore } from './board-store.ts';

afterEach(cleanup);

const CODE = 'B0ARD234';
const SESSION = {
  code: CODE,
  participantId: 'page01',
  token: 'token-01-abcdefghijklmnopqrstu',
  role: 'audience' as const,
};

const change = (version: number, op: BoardOp, at = 10_000 + version): BoardChange => ({
  version,
  at,
  by: 'page02',
  editId: `edit-${String(version).padStart(4, '0')}`,
  op,
});

/** A socket.io client socket the test drives: `deliver` is the server's broadcast. */
class FakeSocket {
  readonly handlers = new Map<string, (...args: unknown[]) => void>();
  subscribeAck: unknown = { ok: true, catchUp: { changes: [], nextAfter: 0 } };
  on(event: string, handler: (...args: unknown[]) => void) {
    this.handlers.set(event, handler);
    return this;
  }
  emit(event: string, _payload: unknown, ack: (res: unknown) => void) {
    if (event === BOARD_EVENTS.subscribe) ack(this.subscribeAck);
    return this;
  }
  connect() {
    this.handlers.get('connect')?.();
    return this;
  }
  disconnect() {
    return this;
  }
  removeAllListeners() {
    this.handlers.clear();
    return this;
  }
  deliver(event: string, payload: unknown) {
    this.handlers.get(event)?.(payload);
  }
}

function setUp(board: BoardState = emptyBoard(CODE)) {
  const reports: unknown[] = [];
  const sockets: FakeSocket[] = [];
  let pageNow = 50_000;
  const settled: Array<() => void> = [];
  const deps: BoardDeps = {
    fetch: async (input, init) => {
      const url = String(input);
      if (url === BOARD_PATHS.board(CODE)) return Response.json({ board, times: [] });
      if (url === BOARD_PATHS.reports(CODE) && init?.method === 'POST') {
        reports.push(JSON.parse(String(init.body)));
        settled.splice(0).forEach((f) => {
          f();
        });
        return Response.json({ accepted: 1 });
      }
      return Response.json({ error: { code: 'NOT_FOUND', message: url } }, { status: 404 });
    },
    now: () => pageNow,
    // The page's clock is 40 000 ms behind the server's.
    clock: () => ({ offsetMs: 40_000, uncertaintyMs: 2, rttMs: 4, samples: 8 }),
    receiverOrigin: () => 'http://127.0.0.1:3997',
    openEventSource: () => {
      throw new Error('not this lane');
    },
    openSocket: () => {
      const socket = new FakeSocket();
      sockets.push(socket);
      return socket as unknown as BoardSocket;
    },
    afterPaint: (callback) => callback(),
    randomId: () => 'random01',
  };
  const store = createBoardStore(deps);
  return {
    store,
    sockets,
    reports,
    setNow: (ms: number) => {
      pageNow = ms;
    },
    nextReport: () => new Promise<void>((resolve) => settled.push(resolve)),
  };
}

/** Resolves once the board's store says its lane is live (checked now and at each change). */
function live(store: ReturnType<typeof createBoardStore>): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (store.getState().status !== 'live') return;
      off();
      resolve();
    };
    const off = store.subscribe(check);
    check();
  });
}

describe('board store', () => {
  it('applies changes in version order, holds one that came early, drops a repeat', async () => {
    const { store, sockets } = setUp();
    store.getState().start(SESSION);
    await live(store);
    const socket = sockets[0] as FakeSocket;
    const add = change(1, {
      type: 'note.add',
      note: { id: 'note01', text: 'a', x: 1, y: 1, colour: 'pink' },
    });
    const slide = change(2, { type: 'slider.set', value: 77 });
    socket.deliver(BOARD_EVENTS.change, slide);
    expect(store.getState().board?.version).toBe(0);
    socket.deliver(BOARD_EVENTS.change, add);
    socket.deliver(BOARD_EVENTS.change, add);
    expect(store.getState().board).toEqual({
      code: CODE,
      version: 2,
      notes: [{ id: 'note01', text: 'a', x: 1, y: 1, colour: 'pink' }],
      slider: 77,
    });
    store.getState().stop();
  });

  it('reports each version shown as (page time + clock offset) − the change’s server time, with its lane', async () => {
    const { store, sockets, reports, setNow, nextReport } = setUp();
    store.getState().start(SESSION);
    await live(store);
    setNow(50_000.5);
    const reported = nextReport();
    (sockets[0] as FakeSocket).deliver(
      BOARD_EVENTS.change,
      change(1, { type: 'slider.set', value: 3 }, 89_990.25),
    );
    await reported;
    expect(reports).toEqual([
      {
        participantId: 'page01',
        token: SESSION.token,
        lane: 'websocket',
        clockUncertaintyMs: 2,
        shown: [{ version: 1, delayMs: 50_000.5 + 40_000 - 89_990.25 }],
      },
    ]);
    expect(store.getState().lastDelayMs).toBe(10.25);
    store.getState().stop();
  });
});

describe('BoardPanel', () => {
  it('shows note text as text, and the presenter map with each page’s lane mark and its own figure', async () => {
    const board: BoardState = {
      ...emptyBoard(CODE),
      version: 1,
      notes: [{ id: 'note01', text: '<img src=x onerror=alert(1)>', x: 100, y: 100, colour: 'blue' }],
    };
    const { store, sockets } = setUp(board);
    render(<BoardPanel {...SESSION} roomRole="presenter" names={{ page02: 'Ann' }} store={store} />);
    await screen.findByText('<img src=x onerror=alert(1)>');
    expect(document.querySelector('img')).toBeNull();
    // The presenter's map arrives on its own socket (the first one opened).
    const mapSocket = sockets[0] as FakeSocket;
    mapSocket.deliver(BOARD_EVENTS.propagation, {
      code: CODE,
      rows: [{ version: 1, at: 10_001, by: 'page02', opType: 'note.add' }],
      entries: [
        { version: 1, participantId: 'page02', lane: 'sse', delayMs: 41.6, clockUncertaintyMs: 1 },
        { version: 1, participantId: 'page03', lane: 'webhook', delayMs: 12.2, clockUncertaintyMs: 3 },
      ],
    });
    const row = (await screen.findByText(/added a note/)).closest('tr') as HTMLElement;
    const dots = within(row).getAllByRole('listitem');
    expect(dots.map((d) => d.textContent)).toEqual([
      `${LANES.webhook.mark} ${LANES.webhook.name}, Anonymous page 12 ms`,
      `${LANES.sse.mark} ${LANES.sse.name}, Ann 42 ms`,
    ]);
    expect((screen.getByRole('radio', { name: /WebSocket/ }) as HTMLInputElement).checked).toBe(true);
    store.getState().stop();
  });
});
