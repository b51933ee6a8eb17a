import { type LaneInfo, nielsenBand, type PerceivedMetrics, serverLateSentence } from '@transport-lab/shared';
import { type CSSProperties, memo, type ReactNode, useSyncExternalStore } from 'react';
import { subscribeTicks, tickTime } from '../../lib/ticker.ts';
import { laneQueueMs } from '../../store/lane-reducer.ts';
import type { MetricKey } from '../../store/metrics.ts';
import type { LaneRunState } from '../../store/types.ts';
import type { HopSummary } from '../../transports/relay-hops.ts';
import type { LaneFaultMark } from '../faults/use-lane-faults.ts';
import { FigureLabel } from './FigureLabel.tsx';
import { bandLabel, formatBytes, formatMs, formatRequests, formatSeconds, UNMEASURED } from './format.ts';
import type { GlossaryKey } from './glossary.ts';
import { LaneDetails } from './LaneDetails.tsx';

export interface LaneCardProps {
  lane: LaneInfo;
  run: LaneRunState;
  metrics: PerceivedMetrics;
  /** Metrics on which this lane did best among the lanes compared. */
  best: ReadonlySet<MetricKey>;
  actionAt?: number;
  onRecover?: () => void;
  /** The webhook lane's hop times over the run, clocks corrected where they need it. */
  hops?: HopSummary | undefined;
  /** Runs this lane by itself with the current task; the button is shown when this is given. */
  onRunAlone?: (() => void) | undefined;
  /** While a race runs, or the task is not valid. */
  runAloneDisabled?: boolean;
  /** Figures a guided scenario's check read (`MetricKey`s, `wastedPolls`, `progress`): outlined. */
  outlined?: ReadonlySet<string> | undefined;
  /** The race's faults that reached this lane, marked under its progress. */
  faults?: readonly LaneFaultMark[] | undefined;
}

/** Shown beside a byte total that some exchange of the lane could not be measured for. */
const LOWER_BOUND = 'at least';

/** One lane's card: the same component for every lane, so that lanes differ only in what they measured. */
export function LaneCard({
  lane,
  run,
  metrics,
  best,
  actionAt,
  onRecover,
  hops,
  onRunAlone,
  runAloneDisabled,
  outlined,
  faults,
}: LaneCardProps) {
  const out = (figure: string) => outlined?.has(figure) ?? false;
  const titleId = `lane-title-${lane.id}`;
  const idle = run.status === 'idle';
  const percent = Math.round(run.percent);
  const queueMs = run.recordedQueueMs ?? laneQueueMs(run);
  return (
    <article
      className="lane-card"
      data-testid={`lane-card-${lane.id}`}
      data-status={run.status}
      aria-labelledby={titleId}
      style={{ '--lane-color': lane.color } as CSSProperties}
    >
      <header className="lane-head">
        <span className="lane-swatch" aria-hidden="true" />
        <span className="lane-mark" aria-hidden="true">
          {lane.mark}
        </span>
        <h2 id={titleId} className="lane-name">
          {/* "Request/response" may break after its slash, not in the middle of a word. */}
          {lane.name.split('/').flatMap((part, i) => (i === 0 ? [part] : [<wbr key={part} />, `/${part}`]))}
        </h2>
        <Elapsed run={run} actionAt={actionAt} />
      </header>
      <p className="lane-summary">{lane.summary}</p>

      <div className="progress-row" data-outlined={out('progress') || undefined}>
        <div
          className="progress"
          role="progressbar"
          aria-label={`${lane.name} progress`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
        >
          {/* Width follows the last event received: no transition, so a stalled lane looks stalled. */}
          <div className="progress-fill" style={{ width: `${run.percent}%` }} />
        </div>
        <span className="progress-value num">{percent}%</span>
      </div>
      <p className="lane-status" data-testid="lane-status">
        <span className="status-dot" aria-hidden="true" />
        {run.detail}
      </p>
      {run.status === 'running' && run.queuePosition !== undefined ? (
        <p className="lane-queue" data-testid="lane-queue" data-position={run.queuePosition}>
          Queued on the server, position {run.queuePosition}: waiting for a worker
        </p>
      ) : null}
      {faults && faults.length > 0 ? (
        <ul className="lane-faults" aria-label={`Faults that reached ${lane.name}`} data-testid="lane-faults">
          {faults.map((fault) => (
            <li key={fault.id}>
              <span aria-hidden="true">⚡ </span>
              <span className="num">{formatSeconds(fault.atMs)}</span> {fault.summary}
            </li>
          ))}
        </ul>
      ) : null}

      <dl className="metrics">
        <Metric
          term="firstFeedback"
          testId="metric-first-feedback"
          value={formatMs(metrics.firstFeedbackMs)}
          ms={metrics.firstFeedbackMs}
          best={best.has('firstFeedback')}
          outlined={out('firstFeedback')}
        />
        <Metric
          term="totalPerceived"
          testId="metric-total-perceived"
          value={formatMs(metrics.totalPerceivedMs)}
          ms={nothingBefore(metrics) ? metrics.totalPerceivedMs : undefined}
          best={best.has('totalPerceived')}
          outlined={out('totalPerceived')}
        />
        <Metric
          term="completionLag"
          testId="metric-completion-lag"
          value={formatMs(metrics.completionLagMs)}
          best={best.has('completionLag')}
          outlined={out('completionLag')}
        />
        <Metric
          term="staleness"
          label="Delay per update, mean"
          testId="metric-staleness"
          value={formatMs(metrics.staleness?.meanMs)}
          extra={metrics.staleness ? `max ${formatMs(metrics.staleness.maxMs)}` : undefined}
          tag={
            [
              metrics.staleness && run.progressAgeBound ? 'upper bounds' : undefined,
              run.steps && run.status !== 'idle' ? updatesShown(run) : undefined,
            ]
              .filter(Boolean)
              .join(' · ') || undefined
          }
          best={best.has('staleness')}
          outlined={out('staleness')}
        />
        <Metric
          term="queueTime"
          testId="metric-queue-time"
          value={formatMs(queueMs)}
          extra={queueMs === undefined && run.firstQueuePosition !== undefined ? 'queued' : undefined}
          best={false}
          outlined={out('queueTime')}
        />
        <Metric
          term="requests"
          testId="metric-requests"
          value={idle ? UNMEASURED : formatRequests(run.wire.requests)}
          best={best.has('requests')}
          outlined={out('requests')}
        />
        <Metric
          term="wastedPolls"
          testId="metric-wasted-polls"
          value={run.wastedPolls === undefined ? UNMEASURED : String(run.wastedPolls)}
          extra={
            run.polls ? `of ${run.polls.length} ${run.polls.length === 1 ? 'poll' : 'polls'}` : undefined
          }
          best={false}
          outlined={out('wastedPolls')}
        />
        <Metric
          term="bytesDown"
          label={BYTES_DOWN}
          testId="metric-bytes-down"
          value={formatBytes(run.wire.bytesDown)}
          extra={run.wire.unmeasuredDown && run.wire.bytesDown !== undefined ? LOWER_BOUND : undefined}
          best={best.has('bytesDown')}
          outlined={out('bytesDown')}
        />
        <Metric
          term="bytesUp"
          label={BYTES_UP}
          testId="metric-bytes-up"
          value={formatBytes(run.wire.bytesUp)}
          extra={run.wire.unmeasuredUp && run.wire.bytesUp !== undefined ? LOWER_BOUND : undefined}
          best={best.has('bytesUp')}
          outlined={out('bytesUp')}
        />
      </dl>

      <LaneDetails lane={lane} run={run} hops={hops} />

      {run.status === 'error' && run.error ? <LaneErrorBox run={run} onRecover={onRecover} /> : null}
      <LaneNotes lane={lane} run={run} />
      {onRunAlone ? (
        <div className="lane-actions">
          <button
            type="button"
            className="button secondary"
            disabled={runAloneDisabled}
            aria-describedby={titleId}
            onClick={onRunAlone}
          >
            Run alone
          </button>
        </div>
      ) : null}
    </article>
  );
}

/**
 * "1 of 20 updates shown": a lane that skips values (a slow poll, a buffered stream) shows a small delay
 * per update for the few it showed; the count says how many it showed at all.
 */
export function updatesShown(run: Pick<LaneRunState, 'progressShown' | 'steps'>): string {
  return `${run.progressShown.length} of ${run.steps ?? '?'} updates shown`;
}

/**
 * The card's measurement notes and the server's lateness, folded under one line (issue 12, items 5 and
 * 6): they are for the engineer checking a figure, and open they made the first row of cards so tall
 * that the second row's progress left the screen. The summary says that there are notes, and warns when
 * the server ran late, so that no figure is read without knowing it.
 */
function LaneNotes({ lane, run }: { lane: LaneInfo; run: LaneRunState }) {
  const late = run.serverLatenessMs === undefined ? undefined : serverLateSentence(run.serverLatenessMs);
  const count = run.notes.length + (late ? 1 : 0);
  if (count === 0) return null;
  return (
    <details className="lane-notes-fold" data-testid="lane-notes-fold">
      <summary>
        {late ? <span aria-hidden="true">⚠ </span> : null}
        {late ? `Server ${Math.round(run.serverLatenessMs ?? 0)} ms late · ` : ''}
        {count === 1 ? '1 note' : `${count} notes`}
      </summary>
      <ServerLateNote latenessMs={run.serverLatenessMs} />
      {run.notes.length > 0 ? (
        <ul className="lane-notes" aria-label={`${lane.name} measurement notes`}>
          {run.notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      ) : null}
    </details>
  );
}

/**
 * The result was the lane's first reply (a blocking call): the whole wait had no feedback, so Nielsen's
 * bands apply to it; a lane that showed progress meanwhile is not judged by them.
 */
function nothingBefore(metrics: PerceivedMetrics): boolean {
  const { firstFeedbackMs: first, totalPerceivedMs: result } = metrics;
  return first !== undefined && result !== undefined && first >= result - 1;
}

/** Said on the card itself, so that no figure of it is read without knowing the server queued. */
function ServerLateNote({ latenessMs }: { latenessMs: number | undefined }) {
  const sentence = latenessMs === undefined ? undefined : serverLateSentence(latenessMs);
  if (!sentence) return null;
  return (
    <p
      className="lane-late-note"
      data-testid="server-late-note"
      data-lateness-ms={Math.round(latenessMs ?? 0)}
    >
      <span aria-hidden="true">⚠ </span>
      {sentence}
    </p>
  );
}

interface MetricProps {
  /** Its glossary entry: the label's name, unless `label` says it otherwise, and its definition. */
  term: GlossaryKey;
  label?: ReactNode;
  testId: string;
  value: string;
  /** A wait without feedback: its Nielsen band is shown beside it (issue 12: only there). */
  ms?: number | undefined;
  extra?: string | undefined;
  /** A qualifier on its own line under the figure ("upper bounds"). */
  tag?: string | undefined;
  best: boolean;
  /** A guided scenario's check read this figure. */
  outlined?: boolean;
}

/** The byte metrics' labels, made once: a metric whose figures did not change is not drawn again. */
const BYTES_DOWN = (
  <>
    Bytes <span aria-hidden="true">↓</span>
    <span className="visually-hidden">down</span>
  </>
);
const BYTES_UP = (
  <>
    Bytes <span aria-hidden="true">↑</span>
    <span className="visually-hidden">up</span>
  </>
);

/** One figure of the card: drawn again only when its own props change (a batch changes a few). */
const Metric = memo(function Metric({
  term,
  label,
  testId,
  value,
  ms,
  extra,
  tag,
  best,
  outlined,
}: MetricProps) {
  const band = ms === undefined ? undefined : nielsenBand(ms);
  return (
    <div className="metric" data-best={best || undefined} data-outlined={outlined || undefined}>
      <dt>
        <FigureLabel term={term}>{label}</FigureLabel>
      </dt>
      <dd className="metric-main">
        <span className="num metric-value" data-testid={testId}>
          {value}
        </span>
        {extra ? <span className="metric-extra num">{extra}</span> : null}
      </dd>
      {band !== undefined || best || tag ? (
        <dd className="metric-tags">
          {ms !== undefined ? (
            <span className="band" data-band={band}>
              {bandLabel(ms)}
            </span>
          ) : null}
          {tag ? <span className="band">{tag}</span> : null}
          {best ? <span className="best-mark">★ best</span> : null}
        </dd>
      ) : null}
    </div>
  );
});

function LaneErrorBox({ run, onRecover }: { run: LaneRunState; onRecover?: (() => void) | undefined }) {
  const error = run.error;
  if (!error) return null;
  return (
    <div className="lane-error" data-testid="lane-error">
      <p>
        <strong>
          {error.code}
          {error.status ? ` (HTTP ${error.status})` : ''}
        </strong>
        : {error.message}
      </p>
      {error.taskId ? (
        <p>
          Task <code data-testid="lane-error-task-id">{error.taskId}</code> goes on at the server
          {error.location ? (
            <>
              {' '}
              and can be fetched at <code>{error.location}</code>
            </>
          ) : null}
          .
        </p>
      ) : null}
      {error.location && onRecover ? (
        <button type="button" className="button secondary" onClick={onRecover}>
          Follow the task to its end
        </button>
      ) : null}
      {run.recovered ? (
        <p data-testid="lane-recovered">
          Fetched: {run.recovered.status}, step {run.recovered.step} of {run.recovered.steps} (
          {Math.round(run.recovered.percent)}%).
        </p>
      ) : null}
    </div>
  );
}

/** Time since Start, ticking while the lane runs; fixed at the moment the lane stopped. */
function Elapsed({ run, actionAt }: { run: LaneRunState; actionAt: number | undefined }) {
  const running = run.status === 'running';
  const now = useTicker(running);
  if (actionAt === undefined || run.status === 'idle')
    return <span className="lane-elapsed num">{UNMEASURED}</span>;
  const end = run.endedAt ?? now;
  return (
    <span className="lane-elapsed num" data-testid="lane-elapsed" title="Elapsed since Start">
      {/* The ticks' clock may still be the last race's for the render that starts this one. */}
      {formatSeconds(Math.max(0, end - actionAt))}
    </span>
  );
}

const notTicking = () => () => {};

/** The elapsed readouts' shared clock (lib/ticker.ts), followed while this lane runs. */
function useTicker(active: boolean): number {
  return useSyncExternalStore(active ? subscribeTicks : notTicking, tickTime);
}
