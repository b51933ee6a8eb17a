import { PlotAxes } from './PlotAxes.tsx';
import type { LaneOutcome, StepOutcome } from './scenarios.ts';

interface Series {
  label: string;
  unit: string;
  values: Array<number | undefined>;
  /** A push lane's figure over the same runs: a dashed line across the plot, as the yardstick. */
  reference?: { label: string; value: number | undefined };
}

const WIDTH = 320;
const HEIGHT = 160;
const PAD = { left: 48, right: 20, top: 12, bottom: 36 };

/** One line of the sweep against the steps' x, on its own axis from 0. */
function LinePlot({ xs, xLabel, series }: { xs: number[]; xLabel: string; series: Series }) {
  const reference = series.reference?.value;
  const max = Math.max(1, ...series.values.map((v) => v ?? 0), reference ?? 0);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (k: number) => PAD.left + (xs.length <= 1 ? plotW / 2 : (k / (xs.length - 1)) * plotW);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const points = series.values
    .map((v, k) => (v === undefined ? undefined : `${x(k).toFixed(1)},${y(v).toFixed(1)}`))
    .filter(Boolean)
    .join(' ');
  const title = `${series.label} by ${xLabel}${
    series.reference && reference !== undefined
      ? `; ${series.reference.label}: ${Math.round(reference)} ${series.unit}`
      : ''
  }`;
  return (
    <figure className="sweep-plot">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={title}>
        <title>{title}</title>
        <PlotAxes width={WIDTH} height={HEIGHT} pad={PAD} max={max} />
        {xs.map((value, k) => (
          <text key={value} x={x(k)} y={HEIGHT - 18} textAnchor="middle" className="tick">
            {value}
          </text>
        ))}
        <text x={PAD.left + plotW / 2} y={HEIGHT - 3} textAnchor="middle" className="tick">
          {xLabel}
        </text>
        {series.reference && reference !== undefined ? (
          <>
            <line
              x1={PAD.left}
              y1={y(reference)}
              x2={WIDTH - PAD.right}
              y2={y(reference)}
              className="reference"
            />
            {/* Midway between the middle points, where no point of a doubling sweep falls. */}
            <text
              x={PAD.left + plotW / 2}
              y={y(reference) - 4}
              textAnchor="middle"
              className="reference-label"
            >
              {series.reference.label}
            </text>
          </>
        ) : null}
        <polyline points={points} className="line" />
        {series.values.map((v, k) =>
          v === undefined ? null : <circle key={xs[k]} cx={x(k)} cy={y(v)} r={4} className="dot" />,
        )}
      </svg>
      <figcaption>
        {series.label} ({series.unit})
      </figcaption>
    </figure>
  );
}

const mean = (values: Array<number | undefined>): number | undefined => {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? undefined : known.reduce((a, b) => a + b, 0) / known.length;
};
const msCell = (value: number | undefined) => (value === undefined ? '—' : `${Math.round(value)} ms`);

interface RowFigures {
  requests?: number | undefined;
  ageMs?: number | undefined;
  delayMs?: number | undefined;
  shown?: string | undefined;
  wasted?: number | undefined;
}

const rowOf = (lane: LaneOutcome | undefined, steps: number): RowFigures => ({
  requests: lane?.requests,
  ageMs: lane?.informationAgeMs,
  delayMs: lane?.stalenessMeanMs,
  shown: lane ? `${lane.progressUpdates} of ${steps}` : undefined,
  wasted: lane?.wastedPolls,
});

function SweepRow({ head, row }: { head: string; row: RowFigures }) {
  return (
    <tr>
      <th scope="row" className="num">
        {head}
      </th>
      <td className="num">{row.requests === undefined ? '—' : Math.round(row.requests)}</td>
      <td className="num">{msCell(row.ageMs)}</td>
      <td className="num">{msCell(row.delayMs)}</td>
      <td className="num">{row.shown ?? '—'}</td>
      <td className="num">{row.wasted ?? '—'}</td>
    </tr>
  );
}

/**
 * The interval sweep, plotted: requests and the screen's age of information (time-averaged) against the
 * interval, SSE's as a dashed yardstick, and a table with both ages: the time-averaged one, which grows
 * with the interval, and the delay per update, which a skipping poll keeps small (its updates shown fall).
 */
export function SweepPlot({ outcomes, xLabel }: { outcomes: StepOutcome[]; xLabel: string }) {
  const xs = outcomes.map((o) => o.x ?? 0);
  const poll = (o: StepOutcome) => o.lanes['short-polling'];
  const push = (o: StepOutcome) => o.lanes.sse;
  const hasPush = outcomes.some((o) => push(o) !== undefined);
  const requests: Series = {
    label: 'Requests',
    unit: 'count',
    values: outcomes.map((o) => poll(o)?.requests),
    ...(hasPush
      ? { reference: { label: 'SSE (push)', value: mean(outcomes.map((o) => push(o)?.requests)) } }
      : {}),
  };
  const ages: Series = {
    label: 'Age of information, time-averaged',
    unit: 'ms',
    values: outcomes.map((o) => poll(o)?.informationAgeMs),
    ...(hasPush
      ? { reference: { label: 'SSE (push)', value: mean(outcomes.map((o) => push(o)?.informationAgeMs)) } }
      : {}),
  };
  return (
    <div className="sweep" data-testid="sweep-plot">
      <LinePlot xs={xs} xLabel={xLabel} series={requests} />
      <LinePlot xs={xs} xLabel={xLabel} series={ages} />
      <table className="sweep-table">
        <caption className="visually-hidden">The sweep's figures, short polling by interval, and SSE</caption>
        <thead>
          <tr>
            <th scope="col">{xLabel}</th>
            <th scope="col">requests</th>
            <th scope="col">age of information, time-averaged</th>
            <th scope="col">delay per update, mean</th>
            <th scope="col">updates shown</th>
            <th scope="col">wasted polls</th>
          </tr>
        </thead>
        <tbody>
          {outcomes.map((o) => (
            <SweepRow key={o.label} head={String(o.x)} row={rowOf(poll(o), o.spec.steps)} />
          ))}
          {hasPush ? (
            <SweepRow
              head={`SSE (push), mean of ${outcomes.length}`}
              row={{
                requests: mean(outcomes.map((o) => push(o)?.requests)),
                ageMs: mean(outcomes.map((o) => push(o)?.informationAgeMs)),
                delayMs: mean(outcomes.map((o) => push(o)?.stalenessMeanMs)),
                shown: `${Math.round(mean(outcomes.map((o) => push(o)?.progressUpdates)) ?? 0)} of ${outcomes[0]?.spec.steps ?? '?'}`,
              }}
            />
          ) : null}
        </tbody>
      </table>
    </div>
  );
}
