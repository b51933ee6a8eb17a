import { LANE_IDS, LANES, type LaneId } from '@transport-lab/shared';
import {
  type CSSProperties,
  type KeyboardEvent,
  type MouseEvent,
  memo,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react';
import { useShallow } from 'zustand/shallow';
import { raceNow } from '../../lib/race-clock.ts';
import { appStore, useAppStore } from '../../store/index.ts';
import { laneQueueMs } from '../../store/lane-reducer.ts';
import { isRaceRunning } from '../../store/race-slice.ts';
import { useThrottledRace } from '../../store/use-throttled-race.ts';
import { formatMs, UNMEASURED } from './format.ts';
import {
  MAX_TRACKS,
  markTimes,
  type TimelineGeometry,
  type TimelineMark,
  tickStep,
  timelineGeometry,
} from './timeline-geometry.ts';

/*
 * Why a hand-written canvas and not uPlot: uPlot draws series of y-values over one shared x array (lines,
 * bars, bands). A waterfall is a set of intervals and points per row, of several kinds (requests that
 * overlap and stack, frames, events as emitted and as shown, reconnects, the end); in uPlot all of it
 * would be drawn by our own code in its draw hooks (as its "timeline" demo does), leaving it only the
 * axis, while keyboard access to single marks is not something it offers. A canvas redrawn at most once
 * per animation frame from plain arrays is cheap (seven lanes at 20 events per second is a few thousand
 * shapes), and the marks are reachable by keyboard through the chart's own arrow-key navigation.
 */

/** Row height in rem: three stacked exchange tracks and the band of events under them. */
const ROW_REM = 3.4;
/** Height of the time axis under the rows, in rem. */
const AXIS_REM = 1.8;
/** While a lane runs, the chart is redrawn at least this often so that open exchanges grow, ms. */
const RUNNING_REDRAW_MS = 100;
/** A pointer within this many CSS pixels of a mark points at it. */
const HIT_PX = 8;

interface Focus {
  row: number;
  index: number;
}

interface Layout {
  width: number;
  rowHeight: number;
  axisHeight: number;
  rem: number;
  /** ms → x in CSS pixels. */
  x(ms: number): number;
  geometry: TimelineGeometry;
}

function currentGeometry(lanes: readonly LaneId[]): TimelineGeometry | undefined {
  const state = appStore.getState();
  const log = state.raceLog();
  const actionAt = log.actionAt;
  if (actionAt === undefined) return undefined;
  const running = isRaceRunning(state.race.lanes);
  const inputs = lanes.flatMap((lane) => {
    const laneLog = log.lanes[lane];
    if (!laneLog) return [];
    const run = state.race.lanes[lane];
    return [{ lane, log: laneLog, ...(run ? { run } : {}) }];
  });
  return timelineGeometry(
    actionAt,
    inputs,
    state.clock.estimate?.offsetMs,
    running ? raceNow() - actionAt : 0,
    log.faults,
  );
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

function markCentre(mark: TimelineMark, layout: Layout): number {
  return layout.x(mark.at);
}

/** Colours and the rem, read from the stylesheet once per layout (view), never while drawing. */
interface Theme {
  rem: number;
  fg: string;
  muted: string;
  border: string;
  card: string;
  errorFg: string;
  focusColor: string;
}

function readTheme(styleSource: Element): Theme {
  const style = getComputedStyle(styleSource);
  return {
    rem: Number.parseFloat(getComputedStyle(document.documentElement).fontSize) || 16,
    fg: cssVar(style, '--fg', '#161616'),
    muted: cssVar(style, '--muted', '#555'),
    border: cssVar(style, '--border', '#c9c9c4'),
    card: cssVar(style, '--card', '#fff'),
    errorFg: cssVar(style, '--error-fg', '#8a1010'),
    focusColor: cssVar(style, '--focus', '#0b57d0'),
  };
}

/**
 * Draws every row; returns the layout used, for hit testing. Reads nothing of the page's layout or
 * style (the width comes from a ResizeObserver, the colours from `readTheme`): a read here, after
 * React changed the cards in the same frame, would force the browser to lay the page out at once.
 */
function draw(
  canvas: HTMLCanvasElement,
  geometry: TimelineGeometry,
  focus: Focus | undefined,
  theme: Theme,
  width: number,
): Layout | undefined {
  const { rem, fg, muted, border, card, errorFg, focusColor } = theme;
  const rowHeight = ROW_REM * rem;
  const axisHeight = AXIS_REM * rem;
  const height = geometry.rows.length * rowHeight + axisHeight;
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.height = `${height}px`;
  }
  const span = Math.max(geometry.endMs, 100) * 1.04;
  const pad = 0.5 * rem;
  const x = (ms: number) => pad + (Math.max(0, ms) / span) * (width - 2 * pad);
  const layout: Layout = { width, rowHeight, axisHeight, rem, x, geometry };
  const ctx = canvas.getContext('2d');
  if (!ctx) return layout;

  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);

  // Axis: ticks and their grid lines.
  const step = tickStep(span, Math.max(2, Math.floor(width / (5 * rem))));
  const rowsBottom = geometry.rows.length * rowHeight;
  ctx.font = `${0.75 * rem}px system-ui, sans-serif`;
  ctx.fillStyle = muted;
  ctx.textBaseline = 'top';
  ctx.textAlign = 'center';
  for (let t = 0; t <= span; t += step) {
    const tx = Math.round(x(t)) + 0.5;
    ctx.strokeStyle = border;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(tx, 0);
    ctx.lineTo(tx, rowsBottom + 4);
    ctx.stroke();
    const label = step >= 1_000 ? `${t / 1_000} s` : `${t} ms`;
    ctx.fillText(label, Math.min(Math.max(tx, 1.2 * rem), width - 1.2 * rem), rowsBottom + 0.4 * rem);
  }

  const trackHeight = 0.42 * rem;
  const trackGap = 0.12 * rem;
  const radius = Math.max(2.5, 0.2 * rem);
  geometry.rows.forEach((row, r) => {
    const top = r * rowHeight;
    const color = LANES[row.lane].color;
    // Row separator.
    ctx.strokeStyle = border;
    ctx.beginPath();
    ctx.moveTo(0, top + rowHeight - 0.5);
    ctx.lineTo(width, top + rowHeight - 0.5);
    ctx.stroke();
    const trackY = (track: number) =>
      top + 0.3 * rem + Math.min(track, MAX_TRACKS - 1) * (trackHeight + trackGap);
    const bandY = top + 0.3 * rem + MAX_TRACKS * (trackHeight + trackGap) + 0.45 * rem;

    for (const mark of row.marks) {
      switch (mark.kind) {
        case 'exchange': {
          const y = trackY(mark.track);
          const x0 = x(mark.at);
          const x1 = Math.max(x0 + 2, x(mark.until ?? geometry.endMs));
          ctx.fillStyle = mark.failed ? card : color;
          ctx.fillRect(x0, y, x1 - x0, trackHeight);
          ctx.strokeStyle = mark.failed ? errorFg : fg;
          ctx.lineWidth = 1;
          ctx.setLineDash(mark.until === undefined ? [3, 2] : []);
          ctx.strokeRect(x0 + 0.5, y + 0.5, x1 - x0 - 1, trackHeight - 1);
          ctx.setLineDash([]);
          if (mark.opened !== undefined) {
            ctx.fillStyle = fg;
            ctx.fillRect(x(mark.opened) - 0.5, y - 1, 1.5, trackHeight + 2);
          }
          if (mark.retry) {
            // A retry: a small arrowhead pointing into the bar's start.
            ctx.fillStyle = errorFg;
            ctx.beginPath();
            ctx.moveTo(x0 - 1, y + trackHeight / 2);
            ctx.lineTo(x0 - 1 - trackHeight * 0.7, y);
            ctx.lineTo(x0 - 1 - trackHeight * 0.7, y + trackHeight);
            ctx.fill();
          }
          break;
        }
        case 'frame': {
          // Frames as ticks on the socket's track: up frames rise from its top, down frames hang below it.
          const y = trackY(0);
          const fx = Math.round(x(mark.at)) + 0.5;
          ctx.strokeStyle = fg;
          ctx.lineWidth = 1;
          ctx.beginPath();
          if (mark.direction === 'up') {
            ctx.moveTo(fx, y);
            ctx.lineTo(fx, y - 0.25 * rem);
          } else {
            ctx.moveTo(fx, y + trackHeight);
            ctx.lineTo(fx, y + trackHeight + 0.25 * rem);
          }
          ctx.stroke();
          break;
        }
        case 'update': {
          const shownX = x(mark.at);
          if (mark.emitted !== undefined) {
            const emittedX = x(mark.emitted);
            ctx.strokeStyle = muted;
            ctx.lineWidth = 1;
            ctx.beginPath();
            ctx.moveTo(emittedX, bandY);
            ctx.lineTo(shownX, bandY);
            ctx.stroke();
            // Emitted by the server: hollow.
            ctx.fillStyle = card;
            ctx.strokeStyle = fg;
            ctx.beginPath();
            ctx.arc(emittedX, bandY - 0.35 * rem, radius * 0.8, 0, 2 * Math.PI);
            ctx.fill();
            ctx.stroke();
          }
          // Shown on the page: filled in the lane's colour, ringed.
          ctx.fillStyle = color;
          ctx.strokeStyle = fg;
          ctx.beginPath();
          ctx.arc(shownX, bandY, radius, 0, 2 * Math.PI);
          ctx.fill();
          ctx.stroke();
          break;
        }
        case 'queue': {
          // The wait for a worker: a hatched strip under the band of events, open-ended while it waits.
          const qx0 = x(mark.at);
          const qx1 = Math.max(qx0 + 2, x(mark.until ?? geometry.endMs));
          const qy = bandY + 0.45 * rem;
          const qh = 0.3 * rem;
          ctx.strokeStyle = color;
          ctx.lineWidth = 1;
          ctx.setLineDash(mark.until === undefined ? [3, 2] : []);
          ctx.strokeRect(qx0 + 0.5, qy + 0.5, qx1 - qx0 - 1, qh);
          ctx.setLineDash([]);
          ctx.beginPath();
          for (let hx = qx0 + 3; hx < qx1; hx += 5) {
            ctx.moveTo(hx, qy + qh);
            ctx.lineTo(Math.min(hx + qh, qx1), qy);
          }
          ctx.stroke();
          break;
        }
        case 'reconnect': {
          const rx = x(mark.at);
          const size = 0.3 * rem;
          ctx.fillStyle = card;
          ctx.strokeStyle = errorFg;
          ctx.lineWidth = 2;
          ctx.beginPath();
          ctx.moveTo(rx, bandY - size);
          ctx.lineTo(rx + size, bandY);
          ctx.lineTo(rx, bandY + size);
          ctx.lineTo(rx - size, bandY);
          ctx.closePath();
          ctx.fill();
          ctx.stroke();
          ctx.lineWidth = 1;
          break;
        }
        case 'fault': {
          // A fault: a dashed line through the row in the error colour, a lightning mark on the band.
          const fx = Math.round(x(mark.at)) + 0.5;
          ctx.strokeStyle = errorFg;
          ctx.lineWidth = 2;
          ctx.setLineDash([4, 3]);
          ctx.beginPath();
          ctx.moveTo(fx, top + 2);
          ctx.lineTo(fx, top + rowHeight - 2);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.lineWidth = 1;
          // The glyph under the band of events, on a patch of the card so that no mark hides it.
          const gy = top + rowHeight - 0.5 * rem;
          ctx.fillStyle = card;
          ctx.fillRect(fx - 0.4 * rem, gy - 0.4 * rem, 0.8 * rem, 0.8 * rem);
          ctx.fillStyle = errorFg;
          ctx.textAlign = 'center';
          ctx.textBaseline = 'middle';
          ctx.font = `700 ${0.75 * rem}px system-ui, sans-serif`;
          ctx.fillText('⚡', fx, gy);
          break;
        }
        case 'end': {
          const ex = Math.round(x(mark.at)) + 0.5;
          if (mark.emitted !== undefined) {
            ctx.strokeStyle = muted;
            ctx.setLineDash([2, 2]);
            ctx.beginPath();
            ctx.moveTo(Math.round(x(mark.emitted)) + 0.5, top + 2);
            ctx.lineTo(Math.round(x(mark.emitted)) + 0.5, top + rowHeight - 2);
            ctx.stroke();
            ctx.setLineDash([]);
          }
          ctx.strokeStyle = mark.failed ? errorFg : fg;
          ctx.lineWidth = 2;
          ctx.beginPath();
          ctx.moveTo(ex, top + 2);
          ctx.lineTo(ex, top + rowHeight - 2);
          ctx.stroke();
          ctx.lineWidth = 1;
          ctx.fillStyle = mark.failed ? errorFg : fg;
          ctx.textAlign = 'left';
          ctx.textBaseline = 'middle';
          ctx.font = `700 ${0.85 * rem}px system-ui, sans-serif`;
          ctx.fillText(mark.failed ? '✕' : '✓', Math.min(ex + 3, width - rem), bandY);
          break;
        }
      }
    }
  });

  // The action: 0 on the axis, across every row.
  ctx.strokeStyle = fg;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(x(0), 0);
  ctx.lineTo(x(0), rowsBottom);
  ctx.stroke();
  ctx.lineWidth = 1;

  const focused = focus ? geometry.rows[focus.row]?.marks[focus.index] : undefined;
  if (focus && focused) {
    const cx = markCentre(focused, layout);
    const top = focus.row * rowHeight;
    const right =
      focused.kind === 'exchange' ? Math.max(cx + 4, x(focused.until ?? geometry.endMs)) : cx + 0.5 * rem;
    ctx.strokeStyle = focusColor;
    ctx.lineWidth = 3;
    ctx.strokeRect(cx - 0.5 * rem, top + 2, right - cx + 0.5 * rem, rowHeight - 4);
    ctx.lineWidth = 1;
  }
  return layout;
}

/** The mark a pointer at (px, py) points at, if any. */
function hitTest(layout: Layout, px: number, py: number): Focus | undefined {
  const row = Math.floor(py / layout.rowHeight);
  const marks = layout.geometry.rows[row]?.marks;
  if (!marks) return undefined;
  let best: Focus | undefined;
  let bestDistance = HIT_PX;
  marks.forEach((mark, index) => {
    let distance = Math.abs(layout.x(mark.at) - px);
    if (mark.kind === 'exchange') {
      const x1 = layout.x(mark.until ?? layout.geometry.endMs);
      if (px >= layout.x(mark.at) && px <= x1) distance = Math.min(distance, HIT_PX / 2);
    }
    if (distance < bestDistance || (distance === bestDistance && best === undefined)) {
      bestDistance = distance;
      best = { row, index };
    }
  });
  return best;
}

function describe(geometry: TimelineGeometry | undefined, focus: Focus | undefined): string | undefined {
  if (!geometry || !focus) return undefined;
  const row = geometry.rows[focus.row];
  const mark = row?.marks[focus.index];
  if (!row || !mark) return undefined;
  const lane = LANES[row.lane];
  return `${lane.name} (${lane.mark}), ${focus.index + 1} of ${row.marks.length}: ${mark.label}${
    mark.retry ? ' (a retry)' : ''
  } — ${markTimes(mark)}`;
}

/**
 * The race as a waterfall: one row per lane on one time axis from the user's action. Drawn from the
 * race log (plain arrays) at most once per animation frame; hover or arrow keys show a mark's exact
 * times; a visually hidden table sums each row up for screen readers.
 */
export function Timeline() {
  const lanes = useAppStore(
    useShallow((s) => LANE_IDS.filter((id) => s.race.lanes[id] !== undefined) as LaneId[]),
  );
  const runId = useAppStore((s) => s.race.runId);
  const running = useAppStore((s) => isRaceRunning(s.race.lanes));
  const summaryId = useId();
  const sectionRef = useRef<HTMLElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const rowRefs = useRef(new Map<LaneId, HTMLElement>());
  const layoutRef = useRef<Layout | undefined>(undefined);
  const focusRef = useRef<Focus | undefined>(undefined);
  const [readout, setReadout] = useState<string | undefined>(undefined);
  const [tooltip, setTooltip] = useState<{ text: string; left: number; top: number } | undefined>();
  const requestDrawRef = useRef<() => void>(() => {});
  const redrawIfSeenRef = useRef<() => void>(() => {});

  const lanesRef = useRef(lanes);
  lanesRef.current = lanes;
  /** The chart exists only once a race has lanes: the drawing loop is set up when it appears. */
  const shown = lanes.length > 0;

  // The drawing loop, set up once the chart appears (not at every race). It reads nothing of the page's layout or style while a
  // race starts: the width comes from a ResizeObserver (read in a frame only when none has come yet),
  // the colours once, and again only when the layout changes. A read in a React effect, right after
  // the start's commit, forced the whole page's layout there (≈ 34 ms of a 300 ms start on a 2-core
  // machine). While the chart is off screen, its rows' counts still follow but the canvas is not
  // drawn: it is drawn once it scrolls into view.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the canvas exists only while `shown`; the loop is set up when it appears
  useEffect(() => {
    const canvas = canvasRef.current;
    const section = sectionRef.current;
    if (!canvas || !section) return;
    let frame: number | undefined;
    let draws = 0;
    let maxDrawMs = 0;
    let totalDrawMs = 0;
    let width: number | undefined;
    let theme: Theme | undefined;
    let visible = typeof IntersectionObserver === 'undefined';
    const paint = () => {
      frame = undefined;
      const geometry = currentGeometry(lanesRef.current);
      if (!geometry) return;
      for (const row of geometry.rows) {
        const element = rowRefs.current.get(row.lane);
        if (!element) continue;
        element.dataset.marks = String(row.marks.length);
        element.dataset.faults = String(row.marks.filter((mark) => mark.kind === 'fault').length);
      }
      section.dataset.drawn = visible ? 'current' : 'stale';
      if (!visible) return;
      width ??= canvas.clientWidth;
      theme ??= readTheme(section);
      const started = performance.now();
      layoutRef.current = draw(canvas, geometry, focusRef.current, theme, width);
      const took = performance.now() - started;
      draws += 1;
      maxDrawMs = Math.max(maxDrawMs, took);
      totalDrawMs += took;
      // For the benchmark and the e2e specs: how many draws, the slowest and the mean, and each row's marks.
      section.dataset.draws = String(draws);
      section.dataset.maxDrawMs = maxDrawMs.toFixed(2);
      section.dataset.meanDrawMs = (totalDrawMs / draws).toFixed(2);
    };
    const requestDraw = () => {
      if (frame === undefined) frame = requestAnimationFrame(paint);
    };
    requestDrawRef.current = requestDraw;
    /** While running, the open exchanges grow: redrawn on a timer, but only while the chart is seen. */
    redrawIfSeenRef.current = () => {
      if (visible) requestDraw();
    };
    // A batch of reports is applied in an animation frame: the chart is drawn in that same frame
    // (a microtask, before the frame's layout), not in a frame of its own after it.
    let drawSoon = false;
    const drawWithBatch = () => {
      if (drawSoon) return;
      drawSoon = true;
      queueMicrotask(() => {
        drawSoon = false;
        if (frame !== undefined) cancelAnimationFrame(frame);
        paint();
      });
    };
    const unsubscribe = appStore.getState().subscribeRaceLog(drawWithBatch);
    const resize =
      typeof ResizeObserver === 'undefined'
        ? undefined
        : new ResizeObserver((entries) => {
            width = entries.at(-1)?.contentRect.width ?? width;
            requestDraw();
          });
    const seen =
      typeof IntersectionObserver === 'undefined'
        ? undefined
        : new IntersectionObserver((entries) => {
            visible = entries.at(-1)?.isIntersecting ?? visible;
            if (visible) requestDraw();
          });
    // A new layout (projector: dark, larger type) brings new colours and a new rem.
    const restyle = new MutationObserver(() => {
      theme = undefined;
      requestDraw();
    });
    restyle.observe(document.documentElement, { attributes: true, attributeFilter: ['data-view'] });
    resize?.observe(canvas);
    seen?.observe(canvas);
    requestDraw();
    return () => {
      unsubscribe();
      resize?.disconnect();
      seen?.disconnect();
      restyle.disconnect();
      if (frame !== undefined) cancelAnimationFrame(frame);
    };
  }, [shown]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new race (runId) or lane set starts a fresh drawing
  useEffect(() => {
    focusRef.current = undefined;
    setReadout(undefined);
    requestDrawRef.current();
  }, [lanes, runId]);

  useEffect(() => {
    requestDrawRef.current();
    if (!running) return;
    const timer = setInterval(() => redrawIfSeenRef.current(), RUNNING_REDRAW_MS);
    return () => clearInterval(timer);
  }, [running]);

  if (lanes.length === 0) return null;

  const setFocus = (focus: Focus | undefined) => {
    focusRef.current = focus;
    setReadout(describe(layoutRef.current?.geometry, focus));
    requestDrawRef.current();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const geometry = layoutRef.current?.geometry;
    if (!geometry || geometry.rows.length === 0) return;
    const current = focusRef.current ?? { row: 0, index: -1 };
    const rowMarks = (row: number) => geometry.rows[row]?.marks ?? [];
    const at = rowMarks(current.row)[current.index]?.at ?? 0;
    const nearest = (row: number) => {
      const marks = rowMarks(row);
      let index = 0;
      marks.forEach((mark, i) => {
        if (Math.abs(mark.at - at) < Math.abs((marks[index]?.at ?? 0) - at)) index = i;
      });
      return { row, index: marks.length > 0 ? index : -1 };
    };
    let next: Focus | undefined;
    switch (event.key) {
      case 'ArrowRight':
        next = { row: current.row, index: Math.min(current.index + 1, rowMarks(current.row).length - 1) };
        break;
      case 'ArrowLeft':
        next = { row: current.row, index: Math.max(current.index - 1, 0) };
        break;
      case 'ArrowDown':
        next = nearest(Math.min(current.row + 1, geometry.rows.length - 1));
        break;
      case 'ArrowUp':
        next = nearest(Math.max(current.row - 1, 0));
        break;
      case 'Home':
        next = { row: current.row, index: 0 };
        break;
      case 'End':
        next = { row: current.row, index: rowMarks(current.row).length - 1 };
        break;
      case 'Escape':
        setFocus(undefined);
        return;
      default:
        return;
    }
    event.preventDefault();
    if (next.index >= 0) setFocus(next);
  };

  const onPointer = (event: MouseEvent<HTMLCanvasElement>) => {
    const layout = layoutRef.current;
    if (!layout) return;
    const rect = event.currentTarget.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    const hit = hitTest(layout, px, py);
    const text = describe(layout.geometry, hit);
    if (!hit || !text) {
      setTooltip(undefined);
      return;
    }
    setFocus(hit);
    setTooltip({ text, left: Math.min(px + 12, Math.max(0, rect.width - 280)), top: py + 14 });
  };

  return (
    <section className="timeline" aria-labelledby="timeline-title" data-testid="timeline" ref={sectionRef}>
      <h2 id="timeline-title" className="section-title">
        Timeline
      </h2>
      <ul className="timeline-legend" aria-label="How to read the timeline">
        <li>
          <span className="legend-bar" aria-hidden="true" /> request or stream, sent → ended (dashed: still
          open; notch: connected)
        </li>
        <li>
          <span className="legend-dot hollow" aria-hidden="true" /> event as the server emitted it →{' '}
          <span className="legend-dot" aria-hidden="true" /> as this page showed it
        </li>
        <li>
          <span aria-hidden="true">▸</span> retry · <span aria-hidden="true">◇</span> reconnect ·{' '}
          <span aria-hidden="true">| ✓</span> finished, <span aria-hidden="true">✕</span> failed · ticks:
          WebSocket frames (up sent, down received) · <span aria-hidden="true">⚡</span> fault injected ·{' '}
          <span aria-hidden="true">▨</span> queued on the server, waiting for a worker (its queue time)
        </li>
      </ul>
      <div className="timeline-chart">
        <div className="timeline-labels" aria-hidden="true">
          {lanes.map((id) => (
            <div
              key={id}
              className="timeline-row-label"
              data-testid={`timeline-row-${id}`}
              ref={(element) => {
                if (element) rowRefs.current.set(id, element);
                else rowRefs.current.delete(id);
              }}
              style={{ '--lane-color': LANES[id].color } as CSSProperties}
            >
              <span className="lane-swatch" />
              <span className="lane-mark">{LANES[id].mark}</span>
              <span className="timeline-row-name">
                {/* "Request/response" may break after its slash, not in the middle of a word. */}
                {LANES[id].name
                  .split('/')
                  .flatMap((part, i) => (i === 0 ? [part] : [<wbr key={part} />, `/${part}`]))}
              </span>
            </div>
          ))}
        </div>
        <div className="timeline-plot">
          <div
            className="timeline-focus"
            // biome-ignore lint/a11y/noNoninteractiveTabindex: the chart is navigable with arrow keys
            tabIndex={0}
            role="application"
            aria-roledescription="timeline chart"
            aria-label="Timeline: arrow keys move between marks, up and down between lanes"
            aria-describedby={summaryId}
            onKeyDown={onKeyDown}
          >
            <canvas
              ref={canvasRef}
              className="timeline-canvas"
              onMouseMove={onPointer}
              onMouseLeave={() => setTooltip(undefined)}
            />
          </div>
          {tooltip ? (
            <div
              className="timeline-tooltip num"
              style={{ left: tooltip.left, top: tooltip.top }}
              aria-hidden="true"
            >
              {tooltip.text}
            </div>
          ) : null}
        </div>
      </div>
      <p className="timeline-readout num" aria-live="polite" data-testid="timeline-readout">
        {readout ?? 'Point at a mark, or focus the chart and use the arrow keys, for its exact times.'}
      </p>
      <TraceIds lanes={lanes} />
      <TimelineSummary id={summaryId} lanes={lanes} />
    </section>
  );
}

/**
 * Each lane's task's correlation id (W3C trace-id): the one the server writes in its log lines about
 * the task and sends in each webhook delivery's `traceparent`, so that a person can follow one task
 * from this page to the receiver. Chosen at the start, so it changes once per race at most.
 */
const TraceIds = memo(function TraceIds({ lanes }: { lanes: readonly LaneId[] }) {
  const traces = useAppStore(useShallow((s) => lanes.map((lane) => s.race.lanes[lane]?.traceId)));
  if (!traces.some((trace) => trace !== undefined)) return null;
  return (
    <>
      <p className="hint timeline-traces-title" id="timeline-traces-title">
        Each task’s trace id (W3C <code>traceparent</code>): the id in the server’s log lines about it and in
        each of its webhook deliveries.
      </p>
      <dl className="timeline-traces" aria-labelledby="timeline-traces-title">
        {lanes.map((lane, i) => {
          const trace = traces[i];
          if (trace === undefined) return null;
          return (
            <div key={lane} style={{ '--lane-color': LANES[lane].color } as CSSProperties}>
              <dt>
                <span className="lane-swatch" aria-hidden="true" />
                <span className="lane-mark" aria-hidden="true">
                  {LANES[lane].mark}
                </span>{' '}
                {LANES[lane].name}
              </dt>
              <dd className="trace-id" data-testid={`trace-id-${lane}`}>
                {trace}
              </dd>
            </div>
          );
        })}
      </dl>
    </>
  );
});

/**
 * Each row summed up, for screen readers: the chart's content without the chart. It follows the
 * throttled race, not the chart's own renders (a race's start renders the chart at once).
 */
const TimelineSummary = memo(function TimelineSummary({
  id,
  lanes,
}: {
  id: string;
  lanes: readonly LaneId[];
}) {
  const runs = useThrottledRace(1_000).lanes;
  const log = appStore.getState().raceLog();
  const actionAt = log.actionAt ?? 0;
  return (
    // A table ignores the width that hides it: the hiding is on a wrapper.
    <div className="visually-hidden" id={id}>
      <table>
        <caption>Timeline summary, times in ms after Start</caption>
        <thead>
          <tr>
            <th scope="col">Lane</th>
            <th scope="col">Exchanges (failed)</th>
            <th scope="col">Events shown</th>
            <th scope="col">First shown</th>
            <th scope="col">Queue time</th>
            <th scope="col">Reconnects</th>
            <th scope="col">Finished shown</th>
            <th scope="col">Faults</th>
          </tr>
        </thead>
        <tbody>
          {lanes.map((lane) => {
            const laneLog = log.lanes[lane];
            const run = runs[lane];
            const first = laneLog?.updates[0];
            const failed = laneLog?.exchanges.filter(
              (e) => e.outcome === 'failed' || e.outcome === 'aborted',
            ).length;
            const faults = log.faults.filter(
              ({ record }) => !('lane' in record.fault) || record.fault.lane === lane,
            );
            return (
              <tr key={lane}>
                <th scope="row">{LANES[lane].name}</th>
                <td>
                  {laneLog?.exchanges.length ?? 0} ({failed ?? 0})
                </td>
                <td>{laneLog?.updates.length ?? 0}</td>
                <td>{first ? formatMs(first.shownAt - actionAt) : UNMEASURED}</td>
                <td>{run ? formatMs(run.recordedQueueMs ?? laneQueueMs(run)) : UNMEASURED}</td>
                <td>{laneLog?.reconnects.length ?? 0}</td>
                <td>
                  {run?.finishedShownAt !== undefined
                    ? `${formatMs(run.finishedShownAt - actionAt)}, ${run.status}`
                    : (run?.status ?? UNMEASURED)}
                </td>
                <td>{faults.length > 0 ? faults.map(({ record }) => record.summary).join(' ') : 'none'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
});
