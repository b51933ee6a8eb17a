import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
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

  it('names the lane and its mark beside the colour, and shows the Nielsen band of each latency', () => {
    render(
      <LaneCard
        lane={LANES.websocket}
        run={succeededRun()}
        metrics={{ firstFeedbackMs: 30, totalPerceivedMs: 2_040 }}
        best={NONE}
        actionAt={1_000}
      />,
    );
    const el = card('websocket');
    expect(within(el).getByRole('heading', { name: 'WebSocket' })).toBeTruthy();
    expect(el.textContent).toContain('WS');
    expect(el.textContent).toContain('instant (≤ 0.1 s)');
    expect(el.textContent).toContain('attention kept (≤ 10 s)');
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
    fireEvent.click(within(el).getByRole('button', { name: "Fetch the task's state" }));
    expect(onRecover).toHaveBeenCalledTimes(1);
  });
});
