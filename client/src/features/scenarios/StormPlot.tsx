import type { StormResponse } from '@transport-lab/shared';
import { peakOf } from './checks-production.ts';
import { PlotAxes } from './PlotAxes.tsx';

const WIDTH = 360;
const HEIGHT = 170;
const PAD = { left: 40, right: 22, top: 12, bottom: 36 };

/** A storm's buckets as a step line: each bucket's count held across its width. */
function stepPoints(storm: StormResponse, x: (ms: number) => number, y: (n: number) => number): string {
  return storm.buckets
    .flatMap((n, k) => [
      `${x(k * storm.bucketMs).toFixed(1)},${y(n).toFixed(1)}`,
      `${x((k + 1) * storm.bucketMs).toFixed(1)},${y(n).toFixed(1)}`,
    ])
    .join(' ');
}

/**
 * The reconnect storm, plotted (issue 15, item 5): connections the storm's server accepted per bucket
 * against the time since its restart, without jitter (solid) and with it (dashed), on one axis so that
 * the spike and the spread are compared at a glance. The figures are in the title and caption too.
 */
export function StormPlot({ storms }: { storms: StormResponse[] }) {
  const fixed = storms.find((s) => s.randomizationFactor === 0);
  const jittered = storms.find((s) => s.randomizationFactor > 0);
  if (!fixed || !jittered) return null;
  const windowMs = fixed.buckets.length * fixed.bucketMs;
  const max = Math.max(1, peakOf(fixed), peakOf(jittered));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (ms: number) => PAD.left + (ms / windowMs) * plotW;
  const y = (n: number) => PAD.top + plotH - (n / max) * plotH;
  const ticks = Array.from({ length: Math.floor(windowMs / 500) + 1 }, (_, k) => k * 500);
  const said = `Connections accepted per ${fixed.bucketMs} ms after the restart: without jitter a peak of ${peakOf(fixed)}, with randomizationFactor ${jittered.randomizationFactor} a peak of ${peakOf(jittered)}`;
  return (
    <figure className="sweep-plot storm-plot" data-testid="storm-plot">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={said}>
        <title>{said}</title>
        <PlotAxes width={WIDTH} height={HEIGHT} pad={PAD} max={max} />
        {ticks.map((ms) => (
          <text key={ms} x={x(ms)} y={HEIGHT - 20} textAnchor="middle" className="tick">
            {ms}
          </text>
        ))}
        <text x={PAD.left + plotW / 2} y={HEIGHT - 4} textAnchor="middle" className="tick">
          ms since the restart
        </text>
        <polyline points={stepPoints(jittered, x, y)} className="line storm-jittered" />
        <polyline points={stepPoints(fixed, x, y)} className="line storm-fixed" />
      </svg>
      <figcaption>
        <span className="storm-legend">
          <span className="storm-key" aria-hidden="true" /> without jitter: peak {peakOf(fixed)} per{' '}
          {fixed.bucketMs} ms
        </span>
        <span className="storm-legend">
          <span className="storm-key storm-key-jittered" aria-hidden="true" /> randomizationFactor{' '}
          {jittered.randomizationFactor}: peak {peakOf(jittered)} per {jittered.bucketMs} ms
        </span>
        <span className="storm-legend">{fixed.clients} socket.io clients each time.</span>
      </figcaption>
    </figure>
  );
}
