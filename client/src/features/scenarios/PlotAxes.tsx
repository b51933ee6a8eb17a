/** A plot's padding inside its SVG box, in viewBox units. */
export interface PlotPad {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/**
 * The two axes of a small SVG plot from 0 and the y axis' two labels, its largest value and 0: shared
 * by the interval sweep's plots (SweepPlot.tsx) and the reconnect storm's (StormPlot.tsx).
 */
export function PlotAxes({
  width,
  height,
  pad,
  max,
}: {
  width: number;
  height: number;
  pad: PlotPad;
  max: number;
}) {
  const bottom = height - pad.bottom;
  return (
    <>
      <line x1={pad.left} y1={bottom} x2={width - pad.right} y2={bottom} className="axis" />
      <line x1={pad.left} y1={pad.top} x2={pad.left} y2={bottom} className="axis" />
      <text x={pad.left - 6} y={pad.top + 4} textAnchor="end" className="tick">
        {Math.round(max)}
      </text>
      <text x={pad.left - 6} y={bottom} textAnchor="end" className="tick">
        0
      </text>
    </>
  );
}
