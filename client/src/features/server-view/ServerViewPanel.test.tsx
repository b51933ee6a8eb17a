import { act, cleanup, render, screen, within } from '@testing-library/preact';
import { API_PATHS, type RoomScenario } from '@transport-lab/shared';
import {
  SERVER_VIEW_MAX_AGE_MS,
  SERVER_VIEW_REFRESH_MS,
  type ServerView,
} from '@transport-lab/shared/server-view';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { appStore } from '../../store/index.ts';
import type { AppState } from '../../store/types.ts';
import { loadServerView } from './load.ts';
import { RACE_RUNS, ServerViewPanel } from './ServerViewPanel.tsx';
import { MAX_LIVE_TICKS } from './use-server-view.ts';

function viewWith(succeeded: number, extra: Partial<ServerView> = {}): ServerView {
  return {
    at: 1_700_000_000_000 + succeeded,
    startedAt: 1_699_999_000_000,
    window: 1_000,
    tasks: {
      queued: 1,
      running: 2,
      succeeded,
      failed: 1,
      cancelled: 0,
      successRate: succeeded / (succeeded + 1),
    },
    lanes: [
      {
        lane: 'sse',
        succeeded,
        failed: 1,
        cancelled: 0,
        successRate: succeeded / (succeeded + 1),
        queue: { count: 3, p50Ms: 0.4, p95Ms: 1.2, p99Ms: 1.2, maxMs: 1.2 },
        latency: { count: 3, p50Ms: 1_003.4, p95Ms: 1_010, p99Ms: 1_010, maxMs: 1_010 },
      },
      {
        lane: 'other',
        succeeded: 0,
        failed: 0,
        cancelled: 1,
        successRate: null,
        queue: { count: 0, p50Ms: null, p95Ms: null, p99Ms: null, maxMs: null },
        latency: { count: 0, p50Ms: null, p95Ms: null, p99Ms: null, maxMs: null },
      },
    ],
    connections: {
      byLane: [
        { lane: 'sse', channel: 'page', open: 2 },
        { lane: 'webhook', channel: 'receiverToPage', open: 0 },
      ],
      sockets: [{ namespace: '/', open: 3 }],
    },
    webhooks: { attempts: { delivered: 7, retry: 2, 'gave-up': 0, disabled: 0 }, pending: 1, inFlight: 0 },
    ...extra,
  };
}

/** A load that answers from a list, counting the asks. */
function loads(...views: ServerView[]) {
  let asked = 0;
  const load = vi.fn(async () => {
    const view = views[Math.min(asked, views.length - 1)];
    asked++;
    if (!view) throw new Error('no view');
    return view;
  });
  return load;
}

const initialRoom = appStore.getState().room;
/** The room's race, two expected, `reported` of them in: it runs until both have reported. */
function roomRace(reported: number) {
  appStore.setState({
    room: {
      ...initialRoom,
      race: { raceId: 'race-1', scenario: SCENARIO, startedAt: 1, expected: 2 },
      progress: { raceId: 'race-1', expected: 2, reported },
    },
  });
}
const SCENARIO: RoomScenario = {
  spec: { durationMs: 1_000, steps: 5 },
  lanes: ['sse'],
  laneSettings: { longPollWaitMs: 20_000, hybridWaitS: 2, hybridPushLane: 'sse' },
};

/** Lets the pending promise callbacks (a load's answer) run, within act. */
const settle = () => act(async () => {});

beforeEach(() => {
  vi.useFakeTimers({
    now: 1_700_000_000_000,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  });
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
  appStore.setState({ room: initialRoom });
});

describe('ServerViewPanel', () => {
  it('shows the totals, each lane’s counts and percentiles, connections and webhook attempts', async () => {
    render(<ServerViewPanel of="room" load={loads(viewWith(9))} />);
    await settle();
    const panel = screen.getByRole('region', { name: 'The server’s own view' });
    expect(within(panel).getByTestId('server-view-succeeded').textContent).toBe('9');
    expect(within(panel).getByTestId('server-view-queued').textContent).toBe('1');
    expect(within(panel).getByTestId('server-view-running').textContent).toBe('2');
    expect(within(panel).getByTestId('server-view-success-rate').textContent).toBe('90 %');
    const sse = within(panel).getByTestId('server-view-lane-sse');
    expect(within(sse).getByText('Server-Sent Events', { exact: false })).toBeTruthy();
    // p50 · p95 · max, rounded to whole ms; the full figures for a screen reader.
    expect(sse.textContent).toContain('1003 ms · 1010 ms · 1010 ms');
    expect(sse.textContent).toContain(
      'End to end: median 1003 ms, 95th percentile 1010 ms, 99th 1010 ms, largest 1010 ms, over 3 tasks',
    );
    const other = within(panel).getByTestId('server-view-lane-other');
    expect(other.textContent).toContain('—'); // no success rate, no durations: not measured, not 0
    const connections = within(panel).getByTestId('server-view-connections');
    expect(connections.textContent).toContain('Server-Sent Events2');
    expect(connections.textContent).not.toContain('Webhook'); // none open: not listed
    expect(connections.textContent).toContain('(websocket lane)3');
    expect(within(panel).getByTestId('server-view-webhooks').textContent).toContain('Delivered7');
  });

  it('asks once when not live, every second while live, and once more a served view’s age after the race ends', async () => {
    const load = loads(viewWith(1), viewWith(2), viewWith(3), viewWith(4), viewWith(5));
    render(<ServerViewPanel of="room" load={load} />);
    await settle();
    expect(load).toHaveBeenCalledTimes(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(10 * SERVER_VIEW_REFRESH_MS);
    });
    expect(load).toHaveBeenCalledTimes(1);

    act(() => roomRace(0)); // the room's race starts: nobody has reported
    await settle();
    expect(load).toHaveBeenCalledTimes(2);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(2 * SERVER_VIEW_REFRESH_MS);
    });
    expect(load).toHaveBeenCalledTimes(4);
    expect(screen.getByTestId('server-view-succeeded').textContent).toBe('4');

    act(() => roomRace(2)); // everyone expected has reported: the race has ended
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SERVER_VIEW_MAX_AGE_MS - 1);
    });
    expect(load).toHaveBeenCalledTimes(4);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1);
    });
    expect(load).toHaveBeenCalledTimes(5);
    expect(screen.getByTestId('server-view-succeeded').textContent).toBe('5');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(10 * SERVER_VIEW_REFRESH_MS);
    });
    expect(load).toHaveBeenCalledTimes(5);
  });

  it('never has two asks on their way, and stops a race’s refreshes after MAX_LIVE_TICKS seconds', async () => {
    let answer: (view: ServerView) => void = () => {};
    const load = vi.fn(
      () =>
        new Promise<ServerView>((resolve) => {
          answer = resolve;
        }),
    );
    roomRace(1);
    render(<ServerViewPanel of="room" load={load} />);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(3 * SERVER_VIEW_REFRESH_MS);
    });
    expect(load).toHaveBeenCalledTimes(1); // the first is still on its way
    await act(async () => answer(viewWith(1)));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SERVER_VIEW_REFRESH_MS);
    });
    expect(load).toHaveBeenCalledTimes(2);
    for (let i = 0; i < MAX_LIVE_TICKS + 5; i++) {
      await act(async () => answer(viewWith(1)));
      await act(async () => {
        await vi.advanceTimersByTimeAsync(SERVER_VIEW_REFRESH_MS);
      });
    }
    // The first ask, then one per tick but the three skipped while it was on its way: MAX_LIVE_TICKS
    // ticks (a race's longest), and none after.
    expect(load).toHaveBeenCalledTimes(1 + MAX_LIVE_TICKS - 3);
  });

  it('says so in an alert when the view cannot be read, and keeps the Refresh button', async () => {
    const load = vi.fn(async (): Promise<ServerView> => {
      throw new Error('GET /api/server-view answered 500');
    });
    render(<ServerViewPanel of="room" load={load} />);
    await settle();
    expect(screen.getByRole('alert').textContent).toContain('answered 500');
    screen.getByRole('button', { name: 'Refresh' }).click();
    expect(load).toHaveBeenCalledTimes(2);
  });
});

describe('RACE_RUNS', () => {
  const state = (race: object, room: object = initialRoom) => ({ race, room }) as unknown as AppState;
  it('says the page’s race runs while a lane of it runs, and not while a recording plays', () => {
    const running = { status: 'running' };
    expect(RACE_RUNS.page(state({ lanes: { sse: running } }))).toBe(true);
    expect(RACE_RUNS.page(state({ lanes: { sse: { status: 'succeeded' } } }))).toBe(false);
    expect(RACE_RUNS.page(state({ lanes: { sse: running }, recording: { source: 'x' } }))).toBe(false);
  });

  it('says the room’s race runs until everyone expected has reported', () => {
    const race = { raceId: 'race-1', expected: 2 };
    expect(RACE_RUNS.room(state({}, { race }))).toBe(true);
    expect(RACE_RUNS.room(state({}, { race, progress: { expected: 2, reported: 1 } }))).toBe(true);
    expect(RACE_RUNS.room(state({}, { race, progress: { expected: 2, reported: 2 } }))).toBe(false);
    expect(RACE_RUNS.room(state({}, {}))).toBe(false);
  });
});

describe('loadServerView', () => {
  it('parses the answer with the shared schema, untagged and uncached, and refuses one that does not match', async () => {
    const fetchImpl = vi.fn(async (_input: RequestInfo | URL, _init?: RequestInit) =>
      Response.json(viewWith(3)),
    );
    expect((await loadServerView(fetchImpl)).tasks.succeeded).toBe(3);
    expect(fetchImpl).toHaveBeenCalledWith(
      API_PATHS.serverView,
      expect.objectContaining({ cache: 'no-store', credentials: 'omit' }),
    );
    const bad = vi.fn(async () => Response.json({ tasks: 'many' }));
    await expect(loadServerView(bad)).rejects.toThrow('does not match the protocol');
    const refused = vi.fn(async () =>
      Response.json({ error: { code: 'INTERNAL', message: 'Something failed.' } }, { status: 500 }),
    );
    await expect(loadServerView(refused)).rejects.toThrow('Something failed. (500 INTERNAL)');
  });
});
