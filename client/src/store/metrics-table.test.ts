import { describe, expect, it } from 'vitest';
import { runningLane } from './lane-reducer.ts';
import { bestPerMetric, connectionsAtOnce, metricsCsv, metricsRow } from './metrics-table.ts';
import { emptyLaneLog } from './race-log.ts';

function shortPollingRun() {
  const lane = {
    ...runningLane(),
    status: 'succeeded' as const,
    wire: { requests: 5, bytesUp: 1_210, bytesDown: 2_345, connections: 1 },
    wastedPolls: 2,
    progressAgeBound: 'upper' as const,
    serverLatenessMs: 31.26,
    serverQueuedAt: 1_000,
    serverStartedAt: 1_412.34,
  };
  const metrics = {
    firstFeedbackMs: 12.34,
    totalPerceivedMs: 3_456.78,
    completionLagMs: 251.25,
    staleness: { meanMs: 480.04, medianMs: 400, maxMs: 990.5, count: 3 },
  };
  const log = emptyLaneLog();
  log.exchanges.push(
    {
      id: 1,
      kind: 'http',
      label: 'POST /api/tasks',
      sentAt: 0,
      endedAt: 10,
      outcome: 'answered',
      status: 202,
    },
    {
      id: 2,
      kind: 'http',
      label: 'GET /api/tasks/t',
      sentAt: 10,
      endedAt: 20,
      outcome: 'answered',
      status: 304,
    },
    {
      id: 3,
      kind: 'http',
      label: 'POST /api/tasks/t/cancel',
      sentAt: 15,
      endedAt: 25,
      outcome: 'answered',
      status: 200,
    },
  );
  return { id: 'short-polling' as const, lane, metrics, log };
}

describe('metrics table', () => {
  it('counts exchanges in flight at once from the race log', () => {
    expect(connectionsAtOnce(shortPollingRun().log)).toBe(2);
    expect(connectionsAtOnce(undefined)).toBeUndefined();
  });

  it('writes a CSV with one column per metric and its unit, and one row per lane (hand-worked)', () => {
    const run = shortPollingRun();
    const cells = metricsRow(run, run.log);
    const csv = metricsCsv([{ id: run.id, name: 'Short polling', status: 'succeeded', cells }]);
    const [header, row, end] = csv.split('\r\n');
    expect(header).toBe(
      'lane,name,status,first reply shown (ms),result shown (ms),completion lag (ms),"delay per update, mean (ms)","delay per update, max (ms)",requests (count),bytes up (B),bytes down (B),wasted polls (count),connections opened (count),connections in use at once (count),"server behind its schedule, max (ms)",queue time (ms),bounds',
    );
    expect(row).toBe(
      'short-polling,Short polling,succeeded,12.3,3456.8,251.3,480.0,990.5,5,1210,2345,2,1,2,31.3,412.3,stalenessMean at most; stalenessMax at most',
    );
    expect(end).toBe('');
  });

  it('leaves a cell empty where nothing was measured, and quotes what needs it', () => {
    const run = shortPollingRun();
    const cells = metricsRow({ ...run, lane: { ...runningLane(), status: 'idle' }, metrics: {} }, undefined);
    const csv = metricsCsv([{ id: run.id, name: 'Short, "polling"', status: 'idle', cells }]);
    expect(csv.split('\r\n')[1]).toBe('short-polling,"Short, ""polling""",idle,,,,,,,,,,,,,,');
  });

  it('marks the lowest measured value best, never a bound nor a lane that did not finish', () => {
    const a = shortPollingRun();
    const rowA = metricsRow(a, a.log);
    const rowB = metricsRow(
      {
        id: 'sse',
        lane: {
          ...a.lane,
          wire: { requests: 2, bytesUp: 900, unmeasuredUp: 1, bytesDown: 3_000 },
          progressAgeBound: undefined,
        },
        metrics: { ...a.metrics, firstFeedbackMs: 10 },
      },
      a.log,
    );
    const rowC = metricsRow(
      { id: 'hybrid', lane: { ...a.lane, status: 'error' }, metrics: { firstFeedbackMs: 1 } },
      a.log,
    );
    const best = bestPerMetric([
      { id: 'short-polling', comparable: true, cells: rowA },
      { id: 'sse', comparable: true, cells: rowB },
      { id: 'hybrid', comparable: false, cells: rowC },
    ]);
    expect([...best.firstFeedback]).toEqual(['sse']);
    expect([...best.requests]).toEqual(['sse']);
    expect([...best.bytesDown]).toEqual(['short-polling']);
    // SSE's bytes up are "at least": only one lane measured, so no mark.
    expect(best.bytesUp.size).toBe(0);
    // Short polling's ages are "at most": only SSE's count, so no mark.
    expect(best.stalenessMean.size).toBe(0);
    // The server's lateness differs between the rows but is nobody's merit: never marked.
    const rowD = metricsRow({ ...a, id: 'long-polling', lane: { ...a.lane, serverLatenessMs: 2 } }, a.log);
    expect(
      bestPerMetric([
        { id: 'short-polling', comparable: true, cells: rowA },
        { id: 'long-polling', comparable: true, cells: rowD },
      ]).serverLate.size,
    ).toBe(0);
  });
});
