import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { distribution, type Participant, type RaceAggregate, type RoomScenario } from '@transport-lab/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { appStore } from '../../store/index.ts';
import type { RoomSessionState } from '../../store/room-slice.ts';
import { RoomPage } from './RoomPage.tsx';

const SCENARIO: RoomScenario = {
  spec: { durationMs: 1_000, steps: 5 },
  lanes: ['sse', 'websocket'],
  laneSettings: { longPollWaitMs: 20_000, hybridWaitS: 2, hybridPushLane: 'sse' },
};

const HOSTILE_NAME = '<img src=x onerror=alert(1)>';

function person(id: string, overrides: Partial<Participant> = {}): Participant {
  return {
    id,
    name: null,
    device: 'phone',
    role: 'audience',
    connected: true,
    clock: null,
    joinedAt: 1,
    ...overrides,
  };
}

const initialRoom = appStore.getState().room;
const setRoom = (room: Partial<RoomSessionState>) => appStore.setState({ room: { ...initialRoom, ...room } });

beforeEach(() => {
  setRoom({});
  // The presenter's screen asks for the server's view: here no server answers (its own tests are
  // in features/server-view), and no answer is what this page's tests need from it.
  vi.stubGlobal('fetch', () => new Promise<Response>(() => {}));
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** The room page of a presenter, once its view (loaded on first need, RoomPage.tsx) has arrived. */
async function renderPresenting() {
  const rendered = render(<RoomPage />);
  await screen.findByTestId('room-code');
  return rendered;
}

describe('RoomPage, presenter', () => {
  const aggregate: RaceAggregate = {
    raceId: 'race-000001',
    expected: 3,
    reported: 2,
    lanes: [
      {
        lane: 'websocket',
        succeeded: 2,
        failed: 0,
        metrics: {
          totalPerceivedMs: distribution([
            { participantId: 'phone-aaaa', value: 1_210.25 },
            { participantId: 'phone-bbbb', value: 1_340.5 },
          ]),
          requests: distribution([
            { participantId: 'phone-aaaa', value: 1 },
            { participantId: 'phone-bbbb', value: 1 },
          ]),
        },
      },
    ],
  };

  beforeEach(() =>
    setRoom({
      phase: 'joined',
      screen: 'room',
      role: 'presenter',
      code: 'ABCD2345',
      self: 'presenter1',
      scenario: SCENARIO,
      participants: [
        person('presenter1', { role: 'presenter', device: 'desktop', name: 'Ada' }),
        person('phone-aaaa', {
          name: HOSTILE_NAME,
          clock: { offsetMs: -3.21, uncertaintyMs: 1.5, rttMs: 3 },
        }),
        person('phone-bbbb', { connected: false }),
      ],
      race: { raceId: 'race-000001', scenario: SCENARIO, startedAt: 1, expected: 3 },
      aggregate,
    }),
  );

  it('shows the code as people read it, the join link and its QR code', async () => {
    await renderPresenting();
    expect(screen.getByTestId('room-code').textContent).toBe('ABCD-2345');
    expect((screen.getByTestId('room-link') as HTMLInputElement).value).toMatch(/\?room=ABCD2345$/);
    expect(screen.getByRole('img', { name: 'QR code of the join link' })).toBeTruthy();
  });

  it('offers the faults for everyone while the race runs, and none before one starts', async () => {
    await renderPresenting();
    const faults = screen.getByRole('region', { name: 'Faults for everyone' });
    const drop = within(faults).getByRole('button', { name: 'Drop WebSocket connections' });
    expect((drop as HTMLButtonElement).disabled).toBe(false); // 2 of 3 reported: still racing
    cleanup();
    setRoom({ ...appStore.getState().room, race: undefined, aggregate: undefined, progress: undefined });
    await renderPresenting();
    const idle = screen.getByRole('region', { name: 'Faults for everyone' });
    expect(within(idle).getByText('Start a race for everyone to inject faults into it.')).toBeTruthy();
    for (const button of within(idle).getAllByRole('button'))
      expect((button as HTMLButtonElement).disabled).toBe(true);
  });

  it("on a loopback address, links phones to the server's network address when it has one, else says how", async () => {
    expect(location.hostname).toBe('localhost');
    const server = appStore.getState().server;
    try {
      await renderPresenting();
      expect(screen.getByTestId('room-loopback-warning').textContent).toContain('HOST=0.0.0.0');
      cleanup();
      appStore.setState({
        server: {
          status: 'ready',
          settings: {
            protocolVersion: 1,
            syncTimeoutMs: 30_000,
            pollIntervalMs: 1_000,
            maxLongPollWaitMs: 30_000,
            receiver: { port: 1, webhookUrl: 'http://127.0.0.1:1/webhooks' },
            webhookScheduleScale: 1,
            lanUrls: ['http://192.168.1.20:3000', 'http://10.0.0.7:3000'],
          },
        },
      });
      await renderPresenting();
      expect((screen.getByTestId('room-link') as HTMLInputElement).value).toBe(
        'http://192.168.1.20:3000/?room=ABCD2345',
      );
      expect(screen.getByTestId('room-lan-note').textContent).toContain('192.168.1.20:3000');
      expect(screen.queryByTestId('room-loopback-warning')).toBeNull();
    } finally {
      appStore.setState({ server });
    }
  });

  it('shows a name as text, never as markup', async () => {
    const { container } = await renderPresenting();
    expect(container.querySelector('img')).toBeNull();
    const rows = screen.getAllByTestId('room-participant');
    expect(rows.map((row) => within(row).getByRole('rowheader').textContent)).toEqual([
      'Ada (you) presenter',
      HOSTILE_NAME,
      'Anonymous phon',
    ]);
    expect(rows[1]?.textContent).toContain('-3.2 ms ± 1.5 ms');
    expect(rows[2]?.dataset.connected).toBe('false');
  });

  it('shows per lane its mark, name, count, median and p95; lanes nobody reported yet read 0', async () => {
    await renderPresenting();
    expect(screen.getByTestId('room-reported').textContent).toBe('2');
    expect(screen.getByTestId('room-expected').textContent).toBe('3');
    const ws = screen.getByTestId('aggregate-lane-websocket');
    expect(within(ws).getByRole('heading', { name: 'WebSocket' })).toBeTruthy();
    expect(ws.textContent).toContain('WS');
    expect(within(ws).getByTestId('aggregate-count').textContent).toBe('2');
    expect(within(ws).getByTestId('aggregate-median').textContent).toBe('1210 ms');
    expect(within(ws).getByTestId('aggregate-p95').textContent).toBe('1341 ms');
    expect(within(ws).getByTestId('aggregate-outliers').textContent).toBe('Outliers: none');
    const sse = screen.getByTestId('aggregate-lane-sse');
    expect(within(sse).getByTestId('aggregate-count').textContent).toBe('0');
  });

  it('says nothing of the lab’s own lateness when no phone reported any', async () => {
    await renderPresenting();
    expect(screen.queryByTestId('room-server-late')).toBeNull();
    expect(screen.queryByTestId('room-phones-busy')).toBeNull();
  });

  it('says plainly when the server ran late and which share of the phones were busy with their own work', async () => {
    const lane = aggregate.lanes[0] as RaceAggregate['lanes'][number];
    setRoom({
      ...appStore.getState().room,
      aggregate: {
        ...aggregate,
        lanes: [
          {
            ...lane,
            metrics: {
              ...lane.metrics,
              serverLatenessMs: distribution([
                { participantId: 'phone-aaaa', value: 3 },
                { participantId: 'phone-bbbb', value: 140.4 },
              ]),
              pageBusyMs: distribution([
                { participantId: 'phone-aaaa', value: 62 },
                { participantId: 'phone-bbbb', value: 233 },
              ]),
            },
          },
        ],
      },
    });
    await renderPresenting();
    expect(screen.getByTestId('room-server-late').textContent).toContain(
      'The server fell 140 ms behind its own schedule: these figures include its queueing',
    );
    expect(screen.getByTestId('room-phones-busy').textContent).toContain(
      '1 of 2 phones were busy with their own work for 100 ms or more at a time (longest 233 ms)',
    );
  });

  it('lists every participant’s own figure to 0.1 ms once opened, as their table shows it', async () => {
    await renderPresenting();
    expect(screen.queryByTestId('aggregate-everyone')).toBeNull();
    fireEvent.click(screen.getByText(/Every participant’s time to the result shown \(2\)/));
    const table = await screen.findByTestId('aggregate-everyone');
    const cells = [...table.querySelectorAll('td[data-lane="websocket"]')].map((td) => td.textContent);
    expect(cells).toEqual(['1210.3 ms', '1340.5 ms']);
  });

  it('asks before ending the room, with the keyboard on the safe answer', async () => {
    await renderPresenting();
    fireEvent.click(screen.getByRole('button', { name: 'End room…' }));
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Keep it open' }));
    expect(screen.getByRole('button', { name: 'End room' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Keep it open' }));
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'End room…' }));
  });

  it('shows a refusal with its code in an alert', async () => {
    appStore.setState((s) => ({
      room: {
        ...s.room,
        problem: { action: 'start', code: 'FORBIDDEN', message: 'Only the presenter may.' },
      },
    }));
    await renderPresenting();
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('Could not start the race');
    expect(alert.textContent).toContain('FORBIDDEN');
  });
});

describe('RoomPage, someone opening a room’s link', () => {
  it('offers the join form with the code filled in and one Join button', () => {
    setRoom({ screen: 'room', joinCode: 'ABCD-2345' });
    render(<RoomPage />);
    expect((screen.getByLabelText('Room code') as HTMLInputElement).value).toBe('ABCD-2345');
    expect((screen.getByLabelText('Your name (optional)') as HTMLInputElement).value).toBe('');
    expect(screen.getByRole('button', { name: 'Join' })).toBeTruthy();
  });
});
