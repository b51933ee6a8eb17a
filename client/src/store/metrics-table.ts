import { clearlyLowest, type LaneId, maxConcurrent } from '@transport-lab/shared';
import { laneQueueMs } from './lane-reducer.ts';
import type { LaneMeasurement } from './metrics.ts';
import type { LaneLog } from './race-log.ts';

/** Every metric of the table, in column order; `key` is the cell's `data-metric`. Lower is better on all. */
export const TABLE_METRICS = [
  // Names say what is measured (glossary.ts). Nielsen's bands are for waits without feedback: the first
  // reply always; the result only when nothing came before it (MetricsTable.tsx).
  { key: 'firstFeedback', label: 'First reply shown', short: 'First reply', unit: 'ms', band: true },
  { key: 'totalPerceived', label: 'Result shown', short: 'Result shown', unit: 'ms', band: false },
  { key: 'completionLag', label: 'Completion lag', short: 'Completion lag', unit: 'ms', band: false },
  { key: 'stalenessMean', label: 'Delay per update, mean', short: 'Delay mean', unit: 'ms', band: false },
  { key: 'stalenessMax', label: 'Delay per update, max', short: 'Delay max', unit: 'ms', band: false },
  { key: 'requests', label: 'Requests', short: 'Requests', unit: 'count', band: false },
  { key: 'bytesUp', label: 'Bytes up', short: 'Bytes up', unit: 'B', band: false },
  { key: 'bytesDown', label: 'Bytes down', short: 'Bytes down', unit: 'B', band: false },
  { key: 'wastedPolls', label: 'Wasted polls', short: 'Wasted polls', unit: 'count', band: false },
  {
    key: 'connectionsOpened',
    label: 'Connections opened',
    short: 'Conns opened',
    unit: 'count',
    band: false,
  },
  {
    key: 'connectionsAtOnce',
    label: 'Connections in use at once',
    short: 'Conns at once',
    unit: 'count',
    band: false,
  },
  // Not the lane's merit: the server's own queueing, which every figure of the row includes.
  {
    key: 'serverLate',
    label: 'Server behind its schedule, max',
    short: 'Server late',
    unit: 'ms',
    band: false,
    unranked: true,
  },
  // Nor this: how long the task waited for a worker (the server's queue), which every time of the row
  // after it includes.
  {
    key: 'queueTime',
    label: 'Queue time',
    short: 'Queue time',
    unit: 'ms',
    band: false,
    unranked: true,
  },
] as const;

export type TableMetric = (typeof TABLE_METRICS)[number]['key'];

export interface MetricCell {
  value?: number;
  /**
   * The figure is a bound, not a measurement: "at least" (something was not measured) or "at most"
   * (a delay per update timed from a lower bound of its server time). A bound earns no best mark.
   */
  bound?: 'at least' | 'at most';
}

export type MetricsRow = Record<TableMetric, MetricCell>;

/**
 * Exchanges (HTTP requests, streams, sockets) in flight at once, the most over the run: over HTTP/1.1
 * each needs a connection of its own, so this is the connections the lane held at once. Idle
 * keep-alive connections are not in it; the page cannot see them (the server's count can).
 */
export function connectionsAtOnce(log: LaneLog | undefined): number | undefined {
  if (!log || log.exchanges.length === 0) return undefined;
  return maxConcurrent(
    log.exchanges.map((e) =>
      e.endedAt === undefined ? { start: e.sentAt } : { start: e.sentAt, end: e.endedAt },
    ),
  );
}

const cell = (value: number | undefined, bound?: MetricCell['bound']): MetricCell => {
  const out: MetricCell = {};
  if (value !== undefined) out.value = value;
  if (bound && value !== undefined) out.bound = bound;
  return out;
};

/** One lane's row of the table: the shared metrics, the wire counts, and what the race log shows. */
export function metricsRow(m: LaneMeasurement, log: LaneLog | undefined): MetricsRow {
  const { lane, metrics } = m;
  const idle = lane.status === 'idle';
  const ageBound = lane.progressAgeBound ? 'at most' : undefined;
  const wire = lane.wire;
  return {
    firstFeedback: cell(metrics.firstFeedbackMs),
    totalPerceived: cell(metrics.totalPerceivedMs),
    completionLag: cell(metrics.completionLagMs),
    stalenessMean: cell(metrics.staleness?.meanMs, ageBound),
    stalenessMax: cell(metrics.staleness?.maxMs, ageBound),
    requests: cell(idle ? undefined : wire.requests),
    bytesUp: cell(wire.bytesUp, wire.unmeasuredUp ? 'at least' : undefined),
    bytesDown: cell(wire.bytesDown, wire.unmeasuredDown ? 'at least' : undefined),
    wastedPolls: cell(lane.wastedPolls),
    connectionsOpened: cell(
      idle ? undefined : (wire.connections ?? (wire.unmeasuredConnections ? 0 : undefined)),
      wire.unmeasuredConnections ? 'at least' : undefined,
    ),
    connectionsAtOnce: cell(connectionsAtOnce(log)),
    serverLate: cell(lane.serverLatenessMs),
    queueTime: cell(lane.recordedQueueMs ?? laneQueueMs(lane)),
  };
}

/**
 * The best lane(s) per metric: lowest value among the runs the server carried to their end (succeeded
 * or failed: the same task to the same point), bounds left out; marked only when the best leads by
 * more than 5 % and, for a time, by more than the clock's stated uncertainty (`clearlyLowest`).
 * Leaders that cannot be told apart share the mark.
 */
export function bestPerMetric(
  rows: ReadonlyArray<{ id: LaneId; comparable: boolean; cells: MetricsRow }>,
  clockUncertaintyMs = 0,
): Record<TableMetric, ReadonlySet<LaneId>> {
  const best = {} as Record<TableMetric, ReadonlySet<LaneId>>;
  for (const metric of TABLE_METRICS) {
    const { key } = metric;
    if ('unranked' in metric) {
      best[key] = new Set();
      continue;
    }
    const values = rows.flatMap(({ id, comparable, cells }) => {
      const { value, bound } = cells[key];
      return comparable && value !== undefined && !bound ? [{ id, value }] : [];
    });
    best[key] = clearlyLowest(values, metric.unit === 'ms' ? clockUncertaintyMs : 0);
  }
  return best;
}

/** A metric's figure as the table and the CSV write it: ms to 0.1, counts and bytes whole. */
export function plainFigure(key: TableMetric, value: number): string {
  const unit = TABLE_METRICS.find((m) => m.key === key)?.unit;
  return unit === 'ms' ? value.toFixed(1) : String(Math.round(value));
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The metrics table as CSV (RFC 4180, CRLF): one row per lane, one column per metric with its unit in
 * the header, an empty cell where nothing was measured, and one column saying which figures are bounds.
 */
export function metricsCsv(
  rows: ReadonlyArray<{ id: LaneId; name: string; status: string; cells: MetricsRow }>,
): string {
  const header = [
    'lane',
    'name',
    'status',
    ...TABLE_METRICS.map((m) => `${m.label.toLowerCase()} (${m.unit})`),
    'bounds',
  ];
  const lines = [header.map(csvField).join(',')];
  for (const row of rows) {
    const bounds = TABLE_METRICS.flatMap((m) => {
      const { bound } = row.cells[m.key];
      return bound ? [`${m.key} ${bound}`] : [];
    });
    const fields = [
      row.id,
      row.name,
      row.status,
      ...TABLE_METRICS.map((m) => {
        const { value } = row.cells[m.key];
        return value === undefined ? '' : plainFigure(m.key, value);
      }),
      bounds.join('; '),
    ];
    lines.push(fields.map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
