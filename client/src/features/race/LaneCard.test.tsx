import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { LANES } from '@transport-lab/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { idleLane, runningLane } from '../../store/lane-reducer.ts';
import type { MetricKey } from '../../store/metrics.ts';
import type { LaneRunState } from '../../store/types.ts';
import { LaneCard } from './LaneCard.tsx';

afterEach(cleanup);

const NONE: ReadonlySet<MetricKey> = new Set();

function succeededRun(): LaneRunState {
  return {
    ...runningLane(),
    status: 'succeeded',
    detail: 'Succeeded',
    step: 4,
    steps: 4,
    percent: 100,
    firstFeedbackAt: 1_030,
    finishedShownAt: 3_040,
    endedAt: 3_040,
    wire: { requests: 1, bytesUp: 612, bytesDown: 2_048 },
  };
}

function card(laneId: string) {
  return screen.getByTestId(`lane-card-${laneId}`);
}

describe('LaneCard', () => {
  it('shows its status and every metric with its unit', () => {
    render(
      <LaneCard
        lane={LANES.websocket}
        run={succeededRun()}
        metrics={{ firstFeedbackMs: 30.4, totalPerceivedMs: 2_040, completionLagMs: 40 }}
        best={NONE}
        actionAt={1_000}
      />,
    );
    const el = card('websocket');
    expect(el.dataset.status).toBe('succeeded');
    const inCard = within(el);
    expect(inCard.getByTestId('lane-status').textContent).toBe('Succeeded');
    expect(inCard.getByTestId('metric-first-feedback').textContent).toBe('30 ms');
    expect(inCard.getByTestId('metric-total-perceived').textContent).toBe('2040 ms');
    expect(inCard.getByTestId('metric-completion-lag').textContent).toBe('40 ms');
    expect(inCard.getByTestId('metric-requests').textContent).toBe('1 request');
    expect(inCard.getByTestId('metric-bytes-down').textContent).toBe('2048 B');
    expect(inCard.getByTestId('metric-bytes-up').textContent).toBe('612 B');
    expect(inCard.getByTestId('lane-elapsed').textContent).toBe('2.0 s');
  });

  it('names the lane and its mark beside the colour, and bands the first reply, a wait without feedback', () => {
    render(
      <LaneCard
        lane={LANES.websocket}
        run={succeededRun()}
        metrics={{ firstFeedbackMs: 30, totalPerceivedMs: 2_040, completionLagMs: 1_500 }}
        best={NONE}
        actionAt={1_000}
      />,
    );
    const el = card('websocket');
    expect(within(el).getByRole('heading', { name: 'WebSocket' })).toBeTruthy();
    expect(el.textContent).toContain('WS');
    expect(el.textContent).toContain('instant (≤ 0.1 s)');
    // Progress came between the first reply and the result: the result's wait had feedback, so
    // Nielsen's bands do not judge it; nor the completion lag, a delay of delivery.
    expect(el.textContent).not.toContain('attention kept (≤ 10 s)');
    expect(el.textContent).not.toContain('flow kept (≤ 1 s)');
  });

  it('bands the result only when it was the first reply (a blocking call)', () => {
    render(
      <LaneCard
        lane={LANES['request-response']}
        run={succeededRun()}
        metrics={{ firstFeedbackMs: 2_040, totalPerceivedMs: 2_040 }}
        best={NONE}
        actionAt={1_000}
      />,
    );
    const tags = within(card('request-response')).getAllByText('attention kept (≤ 10 s)');
    expect(tags).toHaveLength(2);
  });

  it('defines every figure label, by a button that describes it (hover, focus and tap)', () => {
    render(<LaneCard lane={LANES.sse} run={succeededRun()} metrics={{}} best={NONE} actionAt={1_000} />);
    const el = card('sse');
    const labels = el.querySelectorAll('.metric dt');
    expect(labels.length).toBeGreaterThan(0);
    for (const label of labels) {
      const button = within(label as HTMLElement).getByRole('button');
      const describedBy = button.getAttribute('aria-describedby') ?? '';
      const definition = document.getElementById(describedBy);
      expect(definition?.textContent?.length ?? 0, label.textContent ?? '').toBeGreaterThan(20);
      fireEvent.click(button);
      expect(button.getAttribute('aria-expanded')).toBe('true');
      expect(definition?.hasAttribute('data-open')).toBe(true);
    }
  });

  it('shows — for every metric not measured yet', () => {
    render(<LaneCard lane={LANES['request-response']} run={idleLane()} metrics={{}} best={NONE} />);
    const el = card('request-response');
    expect(el.dataset.status).toBe('idle');
    for (const id of [
      'metric-first-feedback',
      'metric-total-perceived',
      'metric-completion-lag',
      'metric-requests',
      'metric-bytes-down',
      'metric-bytes-up',
    ]) {
      expect(within(el).getByTestId(id).textContent).toBe('—');
    }
  });

  it('moves the progress bar to the reported percent', () => {
    const run = { ...runningLane(), step: 3, steps: 4, percent: 75, detail: 'Step 3 of 4' };
    render(<LaneCard lane={LANES.websocket} run={run} metrics={{}} best={NONE} actionAt={1_000} />);
    const bar = screen.getByRole('progressbar', { name: 'WebSocket progress' });
    expect(bar.getAttribute('aria-valuenow')).toBe('75');
    const fill = bar.firstElementChild as HTMLElement;
    expect(fill.style.width).toBe('75%');
    expect(within(card('websocket')).getByTestId('lane-status').textContent).toBe('Step 3 of 4');
  });

  it('marks a best metric with words, not colour alone', () => {
    render(
      <LaneCard
        lane={LANES.websocket}
        run={succeededRun()}
        metrics={{ totalPerceivedMs: 2_040 }}
        best={new Set<MetricKey>(['totalPerceived'])}
        actionAt={1_000}
      />,
    );
    const total = screen.getByTestId('metric-total-perceived').closest('.metric');
    expect(total?.textContent).toContain('★ best');
    expect(screen.getByTestId('metric-first-feedback').closest('.metric')?.textContent).not.toContain('best');
  });

  it('shows a 504 with its task id and fetches the task when asked', () => {
    const onRecover = vi.fn();
    const run: LaneRunState = {
      ...runningLane(),
      status: 'error',
      detail: 'Error: still running',
      error: {
        code: 'SYNC_TIMEOUT',
        message: 'still running',
        status: 504,
        taskId: 'task-0001',
        location: '/api/tasks/task-0001',
        fromServer: true,
      },
    };
    render(
      <LaneCard lane={LANES['request-response']} run={run} metrics={{}} best={NONE} onRecover={onRecover} />,
    );
    const el = card('request-response');
    expect(el.dataset.status).toBe('error');
    expect(within(el).getByTestId('lane-error').textContent).toContain('SYNC_TIMEOUT (HTTP 504)');
    expect(within(el).getByTestId('lane-error-task-id').textContent).toBe('task-0001');
    fireEvent.click(within(el).getByRole('button', { name: 'Follow the task to its end' }));
    expect(onRecover).toHaveBeenCalledTimes(1);
  });
});

describe('LaneCard, what only some lanes measure', () => {
  it('counts wasted polls and draws every poll, each named in words as well as shape', () => {
    const run: LaneRunState = {
      ...runningLane(),
      polls: [
        { outcome: 'news', status: 200, label: '200, running 25%', shownAt: 1 },
        { outcome: 'wasted', status: 304, label: '304 Not Modified', shownAt: 2 },
        { outcome: 'error', label: 'network: Failed to fetch', shownAt: 3 },
        { outcome: 'wasted', status: 304, label: '304 Not Modified', shownAt: 4 },
      ],
      wastedPolls: 2,
    };
    render(<LaneCard lane={LANES['short-polling']} run={run} metrics={{}} best={NONE} actionAt={0} />);
    const el = card('short-polling');
    expect(within(el).getByTestId('metric-wasted-polls').textContent).toBe('2');
    expect(within(el).getByTestId('metric-wasted-polls').closest('.metric')?.textContent).toContain(
      'of 4 polls',
    );
    const strip = within(el).getByRole('list', { name: /Short polling polls/ });
    expect(strip.getAttribute('aria-label')).toContain('4 polls: 1 with news, 2 wasted, 1 failed');
    const marks = within(strip).getAllByRole('listitem');
    expect(marks.map((m) => m.dataset.outcome)).toEqual(['news', 'wasted', 'error', 'wasted']);
    expect(marks[1]?.textContent).toBe('Poll 2, wasted: 304 Not Modified');
    expect(marks[1]?.getAttribute('title')).toBe('Poll 2: 304 Not Modified (wasted)');
  });

  it('shows — for wasted polls on a lane that does not poll', () => {
    render(<LaneCard lane={LANES.sse} run={runningLane()} metrics={{}} best={NONE} actionAt={0} />);
    expect(within(card('sse')).getByTestId('metric-wasted-polls').textContent).toBe('—');
    expect(within(card('sse')).queryByTestId('lane-polls')).toBeNull();
  });

  it('says which path a hybrid run took', () => {
    const run: LaneRunState = { ...runningLane(), path: { kind: 'pushed', text: '202 → SSE' } };
    render(<LaneCard lane={LANES.hybrid} run={run} metrics={{}} best={NONE} actionAt={0} />);
    const path = within(card('hybrid')).getByTestId('lane-path');
    expect(path.textContent).toBe('202 → SSE');
    expect(path.dataset.path).toBe('pushed');
  });

  it('lists every delivery attempt with its status, and the hops apart', () => {
    const run: LaneRunState = {
      ...runningLane(),
      deliveries: {
        taskId: 'task-0001',
        subscriber: { url: 'http://127.0.0.1:3997/webhooks', disabled: false },
        deliveries: [
          {
            id: 'msg_1',
            eventSeq: 1,
            eventType: 'task.queued',
            state: 'delivered',
            attempts: [
              { attempt: 1, startedAt: 100, durationMs: 3, httpStatus: 503, outcome: 'retry' },
              { attempt: 2, startedAt: 160, durationMs: 2, httpStatus: 200, outcome: 'delivered' },
            ],
          },
          {
            id: 'msg_2',
            eventSeq: 2,
            eventType: 'task.started',
            state: 'pending',
            attempts: [{ attempt: 1, startedAt: 101, durationMs: 5_000, outcome: 'retry', error: 'timeout' }],
            nextAttemptAt: 5_151,
          },
        ],
      },
    };
    render(
      <LaneCard
        lane={LANES.webhook}
        run={run}
        metrics={{}}
        best={NONE}
        actionAt={0}
        hops={{
          delivery: { meanMs: 12.4, maxMs: 30, count: 2 },
          held: { meanMs: 0.5, maxMs: 1, count: 2 },
        }}
      />,
    );
    const el = card('webhook');
    const deliveries = within(el).getByTestId('lane-deliveries');
    expect(deliveries.textContent).toContain('2 deliveries, 3 attempts, 1 retried, 1 pending');
    const items = within(deliveries).getAllByRole('listitem');
    expect(items[0]?.textContent).toContain('#1 HTTP 503 retry, 3 ms → #2 HTTP 200 delivered, 2 ms');
    expect(items[1]?.textContent).toContain('#1 no answer retry, 5000 ms (timeout)');
    expect(items[1]?.textContent).toContain('next attempt 50 ms after the last');
    expect(within(el).getByTestId('metric-delivery-hop').textContent).toBe('12 ms');
    expect(within(el).getByTestId('metric-relay-hop').textContent).toBe('—');
    expect(el.textContent).toContain('needs the clock offset');
  });

  it('says "at least" beside a byte total that left an exchange unmeasured', () => {
    const run: LaneRunState = {
      ...succeededRun(),
      wire: { requests: 2, bytesUp: 300, bytesDown: 900, unmeasuredUp: 1 },
    };
    render(<LaneCard lane={LANES.sse} run={run} metrics={{}} best={NONE} actionAt={1_000} />);
    const up = screen.getByTestId('metric-bytes-up').closest('.metric');
    expect(up?.textContent).toContain('at least');
    expect(screen.getByTestId('metric-bytes-down').closest('.metric')?.textContent).not.toContain('at least');
  });
});
