import { BOARD_PATHS, BOARD_SSE, type BoardChange, emptyBoard, HTTP_HEADERS } from '@transport-lab/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  backoffMs,
  type EventSourceLike,
  type FollowDeps,
  type FollowHandlers,
  followBoard,
} from './board-follow.ts';

const CODE = 'B0ARD234';

afterEach(() => {
  vi.useRealTimers();
});

function recorder() {
  const seen: string[] = [];
  const handlers: FollowHandlers = {
    changes: (changes) => seen.push(`changes ${changes.map((c) => c.version).join(',')}`),
    snapshot: (board, times) => seen.push(`snapshot v${board.version} times ${[...times.keys()].join(',')}`),
    status: (status) => seen.push(status),
    ended: () => seen.push('ended'),
  };
  return { seen, handlers };
}

function deps(fetchImpl: FollowDeps['fetch'], extra: Partial<FollowDeps> = {}): FollowDeps {
  return {
    fetch: fetchImpl,
    openEventSource: () => {
      throw new Error('no stream here');
    },
    openSocket: () => {
      throw new Error('no socket here');
    },
    receiverOrigin: () => 'http://127.0.0.1:3997',
    version: () => 0,
    pollIntervalMs: 1_000,
    ...extra,
  };
}

const change = (version: number): BoardChange => ({
  version,
  at: 1_000 + version,
  by: 'page02',
  editId: `edit-${String(version).padStart(4, '0')}`,
  op: { type: 'slider.set', value: version },
});

describe('board lanes on the page', () => {
  it('short polling sends the ETag back, takes a 304 as nothing new, and stops at a 404', async () => {
    vi.useFakeTimers();
    const requests: { url: string; ifNoneMatch?: string }[] = [];
    const answers = [
      () =>
        Response.json(
          {
            board: { ...emptyBoard(CODE), version: 2 },
            times: [
              { version: 1, at: 1 },
              { version: 2, at: 2 },
            ],
          },
          { headers: { etag: '"board.B0ARD234.2"' } },
        ),
      () => new Response(null, { status: 304 }),
      () => Response.json({ error: { code: 'NOT_FOUND', message: 'gone' } }, { status: 404 }),
    ];
    const { seen, handlers } = recorder();
    const stop = followBoard(
      'short-polling',
      CODE,
      handlers,
      deps(async (input, init) => {
        const headers = (init?.headers ?? {}) as Record<string, string>;
        requests.push({ url: String(input), ifNoneMatch: headers[HTTP_HEADERS.ifNoneMatch] });
        return (answers.shift() as () => Response)();
      }),
    );
    await vi.advanceTimersByTimeAsync(2_500);
    stop();
    expect(requests).toEqual([
      { url: `${BOARD_PATHS.board(CODE)}?since=0`, ifNoneMatch: undefined },
      { url: `${BOARD_PATHS.board(CODE)}?since=0`, ifNoneMatch: '"board.B0ARD234.2"' },
      { url: `${BOARD_PATHS.board(CODE)}?since=0`, ifNoneMatch: '"board.B0ARD234.2"' },
    ]);
    expect(seen).toEqual(['connecting', 'snapshot v2 times 1,2', 'live', 'live', 'ended']);
  });

  it('long polling asks from the page’s version and backs off after a failure', async () => {
    vi.useFakeTimers();
    let version = 4;
    const urls: string[] = [];
    const answers: Array<() => Response | Promise<Response>> = [
      () => Promise.reject(new TypeError('network down')),
      () => Response.json({ changes: [change(5), change(6)], nextAfter: 6 }),
      () => new Promise<Response>(() => undefined), // held
    ];
    const { seen, handlers } = recorder();
    const stop = followBoard(
      'long-polling',
      CODE,
      {
        ...handlers,
        changes: (changes) => {
          handlers.changes(changes);
          version = changes.at(-1)?.version ?? version;
        },
      },
      deps(
        async (input) => {
          urls.push(String(input));
          return (answers.shift() as () => Response | Promise<Response>)();
        },
        { version: () => version },
      ),
    );
    await vi.advanceTimersByTimeAsync(backoffMs(1) + 10);
    stop();
    expect(urls).toEqual([
      `${BOARD_PATHS.changes(CODE)}?after=4&waitMs=25000`,
      `${BOARD_PATHS.changes(CODE)}?after=4&waitMs=25000`,
      `${BOARD_PATHS.changes(CODE)}?after=6&waitMs=25000`,
    ]);
    expect(seen).toEqual(['connecting', 'reconnecting', 'changes 5,6', 'live']);
  });

  it('the webhook relay: changes by event, and a refused stream whose room is gone ends the lane', async () => {
    vi.useFakeTimers();
    const sources: FakeSource[] = [];
    const { seen, handlers } = recorder();
    const stop = followBoard(
      'webhook',
      CODE,
      handlers,
      deps(async () => Response.json({ error: { code: 'NOT_FOUND', message: 'gone' } }, { status: 404 }), {
        version: () => 3,
        openEventSource: (url) => {
          const source = new FakeSource(url);
          sources.push(source);
          return source;
        },
      }),
    );
    const source = sources[0] as FakeSource;
    expect(source.url).toBe(`http://127.0.0.1:3997${BOARD_PATHS.relay(CODE)}?after=3`);
    source.onopen?.(new Event('open'));
    source.emit(BOARD_SSE.change, change(4));
    source.readyState = 2;
    source.onerror?.(new Event('error'));
    await vi.advanceTimersByTimeAsync(backoffMs(1) + 10);
    stop();
    expect(seen).toEqual(['connecting', 'live', 'changes 4', 'reconnecting', 'ended']);
    expect(sources).toHaveLength(1);
  });
});

class FakeSource implements EventSourceLike {
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readyState = 0;
  private readonly listeners = new Map<string, (event: MessageEvent<string>) => void>();
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.set(type, listener);
  }
  emit(type: string, data: unknown) {
    this.listeners.get(type)?.(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
  close() {
    this.readyState = 2;
  }
}
