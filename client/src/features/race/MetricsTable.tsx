import { LANES, nielsenBand } from '@transport-lab/shared';
import { type CSSProperties, useMemo } from 'react';
import { useShallow } from 'zustand/shallow';
import { appStore, useAppStore } from '../../store/index.ts';
import {
  type MetricCell,
  type MetricsRow,
  plainFigure,
  TABLE_METRICS,
  type TableMetric,
} from '../../store/metrics-table.ts';
import { metricsTable } from '../../store/race-view.ts';
import { useThrottledRace } from '../../store/use-throttled-race.ts';
import { FigureLabel } from './FigureLabel.tsx';
import type { GlossaryKey } from './glossary.ts';

/** While a race runs the table refreshes this often, ms; the cards follow every frame. */
const TABLE_REFRESH_MS = 500;

import { UNMEASURED } from './format.ts';

/** Nielsen's bands in the table's few words (the cards say them in full). */
const BAND_WORDS = {
  instant: 'instant',
  flow: 'flow kept',
  attention: 'attention kept',
  lost: 'attention lost',
};

/** The glossary entry of each column. */
const TERM_OF: Record<TableMetric, GlossaryKey> = {
  firstFeedback: 'firstFeedback',
  totalPerceived: 'totalPerceived',
  completionLag: 'completionLag',
  stalenessMean: 'staleness',
  stalenessMax: 'staleness',
  requests: 'requests',
  bytesUp: 'bytesUp',
  bytesDown: 'bytesDown',
  wastedPolls: 'wastedPolls',
  connectionsOpened: 'connectionsOpened',
  connectionsAtOnce: 'connectionsAtOnce',
  serverLate: 'serverLate',
  queueTime: 'queueTime',
};

const BOUND_SIGN = { 'at least': '≥', 'at most': '≤' } as const;

function Cell({
  metric,
  cell,
  best,
  band,
}: {
  metric: (typeof TABLE_METRICS)[number];
  cell: MetricCell;
  best: boolean;
  /** Nielsen's band is shown: a wait without feedback. */
  band: boolean;
}) {
  const { value, bound } = cell;
  return (
    <td
      data-metric={metric.key}
      data-value={value === undefined ? undefined : plainFigure(metric.key, value)}
      data-bound={bound}
      data-best={best || undefined}
    >
      <span className="num cell-value">
        {bound ? (
          <>
            <span aria-hidden="true">{BOUND_SIGN[bound]} </span>
            <span className="visually-hidden">{bound} </span>
          </>
        ) : null}
        {value === undefined ? UNMEASURED : plainFigure(metric.key, value)}
      </span>
      {band && value !== undefined ? (
        <span className="band" data-band={nielsenBand(value)}>
          {BAND_WORDS[nielsenBand(value)]}
        </span>
      ) : null}
      {best ? <span className="best-mark">★ best</span> : null}
    </td>
  );
}

/**
 * The result was the lane's first reply (a blocking call): the whole wait had no feedback, so Nielsen's
 * bands apply to it. (1 ms: both are frame times, equal when one frame showed both.)
 */
function nothingBefore(cells: MetricsRow): boolean {
  const first = cells.firstFeedback.value;
  const result = cells.totalPerceived.value;
  return first !== undefined && result !== undefined && first >= result - 1;
}

/** Every lane × every metric in one table, the best lane per metric marked with a star and a word. */
export function MetricsTable() {
  const race = useThrottledRace(TABLE_REFRESH_MS);
  const selectedLanes = useAppStore(useShallow((s) => s.selectedLanes));
  const clock = useAppStore((s) => s.clock);
  const { rows, best } = useMemo(
    () => metricsTable({ race, selectedLanes, clock }, appStore.getState().raceLog()),
    [race, selectedLanes, clock],
  );
  if (race.actionAt === undefined) return null;
  return (
    <section className="results-section" aria-labelledby="metrics-title">
      <h2 id="metrics-title" className="section-title">
        Metrics
      </h2>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a table wider than the screen scrolls, and a keyboard must reach it */}
      <section className="table-scroll" tabIndex={0} aria-labelledby="metrics-title">
        <table className="metrics-table" data-testid="metrics-table">
          <caption className="visually-hidden">
            Each lane's measurements; lower is better on every column; ★ marks the best lane of a column among
            lanes that ran the task to its end; ≥ and ≤ mark bounds, which are not ranked.
          </caption>
          <thead>
            <tr>
              <th scope="col">Lane</th>
              {TABLE_METRICS.map((metric) => (
                <th scope="col" key={metric.key} data-metric={metric.key} title={metric.label}>
                  <FigureLabel term={TERM_OF[metric.key]}>
                    {metric.short === metric.label ? (
                      metric.label
                    ) : (
                      <>
                        <span aria-hidden="true">{metric.short}</span>
                        <span className="visually-hidden">{metric.label}</span>
                      </>
                    )}{' '}
                    {metric.unit === 'count' ? null : <span className="unit">({metric.unit})</span>}
                  </FigureLabel>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr
                key={row.id}
                data-testid={`metrics-row-${row.id}`}
                data-status={row.status}
                style={{ '--lane-color': LANES[row.id].color } as CSSProperties}
              >
                <th scope="row">
                  <span className="lane-label">
                    <span className="lane-swatch" aria-hidden="true" />
                    <span className="lane-mark" aria-hidden="true">
                      {LANES[row.id].mark}
                    </span>
                    <span className="row-name">{row.name}</span>
                  </span>
                  <span className="row-status">{row.status}</span>
                </th>
                {TABLE_METRICS.map((metric) => (
                  <Cell
                    key={metric.key}
                    metric={metric}
                    cell={row.cells[metric.key as TableMetric]}
                    best={best[metric.key].has(row.id)}
                    band={metric.band || (metric.key === 'totalPerceived' && nothingBefore(row.cells))}
                  />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </section>
  );
}
