import type { StepOutcome } from './scenarios.ts';

interface Series {
  label: string;
  unit: string;
  values: Array<number | undefined>;
}

const WIDTH = 320;
const HEIGHT = 160;
const PAD = { left: 48, right: 12, top: 12, bottom: 36 };

/** One line of the sweep against the steps' x, on its own axis from 0. */
function LinePlot({ xs, xLabel, series }: { xs: number[]; xLabel: string; series: Series }) {
  const max = Math.max(1, ...series.values.map((v) => v ?? 0));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (k: number) => PAD.left + (xs.length <= 1 ? plotW / 2 : (k / (xs.length - 1)) * plotW);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const points = series.values
    .map((v, k) => (v === undefined ? undefined : `${x(k).toFixed(1)},${y(v).toFixed(1)}`))
    .filter(Boolean)
    .join(' ');
  const title = `${series.label} by ${xLabel}`;
  return (
    <figure className="sweep-plot">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={title}>
        <title>{title}</title>
        <line
          x1={PAD.left}
          y1={PAD.top + plotH}
          x2={WIDTH - PAD.right}
          y2={PAD.top + plotH}
          className="axis"
        />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={PAD.top + plotH} className="axis" />
        <text x={PAD.left - 6} y={PAD.top + 4} textAnchor="end" className="tick">
          {Math.round(max)}
        </text>
        <text x={PAD.left - 6} y={PAD.top + plotH} textAnchor="end" className="tick">
          0
        </text>
        {xs.map((value, k) => (
          <text key={value} x={x(k)} y={HEIGHT - 18} textAnchor="middle" className="tick">
            {value}
          </text>
        ))}
        <text x={PAD.left + plotW / 2} y={HEIGHT - 3} textAnchor="middle" className="tick">
          {xLabel}
        </text>
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

/** The interval sweep, plotted: requests and the screen's mean age against the interval, with a table of the same figures. */
export function SweepPlot({ outcomes, xLabel }: { outcomes: StepOutcome[]; xLabel: string }) {
  const xs = outcomes.map((o) => o.x ?? 0);
  const lane = (o: StepOutcome) => o.lanes['short-polling'];
  const requests: Series = {
    label: 'Requests',
    unit: 'count',
    values: outcomes.map((o) => lane(o)?.requests),
  };
  const ages: Series = {
    label: "Screen's mean age",
    unit: 'ms',
    values: outcomes.map((o) => lane(o)?.informationAgeMs),
  };
  return (
    <div className="sweep" data-testid="sweep-plot">
      <LinePlot xs={xs} xLabel={xLabel} series={requests} />
      <LinePlot xs={xs} xLabel={xLabel} series={ages} />
      <table className="sweep-table">
        <caption className="visually-hidden">The sweep's figures</caption>
        <thead>
          <tr>
            <th scope="col">{xLabel}</th>
            <th scope="col">requests</th>
            <th scope="col">screen's mean age</th>
            <th scope="col">wasted polls</th>
          </tr>
        </thead>
        <tbody>
          {outcomes.map((o) => (
            <tr key={o.label}>
              <th scope="row" className="num">
                {o.x}
              </th>
              <td className="num">{lane(o)?.requests ?? '—'}</td>
              <td className="num">
                {lane(o)?.informationAgeMs === undefined
                  ? '—'
                  : `${Math.round(lane(o)?.informationAgeMs ?? 0)} ms`}
              </td>
              <td className="num">{lane(o)?.wastedPolls ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
