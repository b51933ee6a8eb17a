import { LANES } from '@transport-lab/shared';
import type {
  DurationPercentiles,
  ServerView,
  ServerViewLane,
  ServerViewLaneKey,
} from '@transport-lab/shared/server-view';
import { type CSSProperties, useId } from 'react';
import { useAppStore } from '../../store/index.ts';
import { isRaceRunning } from '../../store/race-slice.ts';
import type { AppState } from '../../store/types.ts';
import { UNMEASURED } from '../race/format.ts';
import { loadServerView } from './load.ts';
import { useServerView } from './use-server-view.ts';

/** Which race makes the view live: the page's own, or the room's (the presenter's screen). */
export type LiveRace = 'page' | 'room';

/**
 * Whether that race runs now, from the store, the one place both are known. Read here rather than
 * handed in as a prop for a second reason: a lazy chunk that imports react and the schemas but not the
 * store made the bundler split the first load's common chunk in two (1.1 kB gzipped more for every
 * phone, docs/architecture.md "What a phone loads first").
 */
export const RACE_RUNS: Record<LiveRace, (state: AppState) => boolean> = {
  // A replay is no live race.
  page: (s) => s.race.recording === undefined && isRaceRunning(s.race.lanes),
  // The room's race runs until everyone expected has reported.
  room: (s) =>
    s.room.race !== undefined && (s.room.progress?.reported ?? 0) < (s.room.progress?.expected ?? 1),
};

export interface ServerViewPanelProps {
  /** While this race runs the view is asked for every second (else once, and once after it ends). */
  of: LiveRace;
  /** Where the view comes from (tests hand in their own). */
  load?: () => Promise<ServerView>;
}

const ms = (value: number | null) => (value === null ? UNMEASURED : `${Math.round(value)} ms`);
const percent = (rate: number | null) => (rate === null ? UNMEASURED : `${Math.round(rate * 1000) / 10} %`);
const clockTime = (epochMs: number) => new Date(epochMs).toLocaleTimeString([], { hour12: false });

function LaneName({ lane }: { lane: ServerViewLaneKey }) {
  if (lane === 'other') return <span className="lane-label">Other (untagged or resumed)</span>;
  const info = LANES[lane];
  return (
    <span className="lane-label" style={{ '--lane-color': info.color } as CSSProperties}>
      <span className="lane-swatch" aria-hidden="true" />
      <span className="lane-mark" aria-hidden="true">
        {info.mark}
      </span>
      {info.name}
    </span>
  );
}

/** "12 ms · 30 ms · 41 ms": p50 · p95 · max, the order the column heading says. */
function Spread({ figures, label }: { figures: DurationPercentiles; label: string }) {
  if (figures.count === 0) return <>{UNMEASURED}</>;
  return (
    <>
      <span aria-hidden="true">
        {ms(figures.p50Ms)} · {ms(figures.p95Ms)} · {ms(figures.maxMs)}
      </span>
      <span className="visually-hidden">
        {`${label}: median ${ms(figures.p50Ms)}, 95th percentile ${ms(figures.p95Ms)}, 99th ${ms(figures.p99Ms)}, largest ${ms(figures.maxMs)}, over ${figures.count} tasks`}
      </span>
    </>
  );
}

function LaneRow({ lane }: { lane: ServerViewLane }) {
  return (
    <tr data-testid={`server-view-lane-${lane.lane}`}>
      <th scope="row">
        <LaneName lane={lane.lane} />
      </th>
      <td data-testid="succeeded">{lane.succeeded}</td>
      <td>{lane.failed}</td>
      <td>{lane.cancelled}</td>
      <td>{percent(lane.successRate)}</td>
      <td>
        <Spread figures={lane.queue} label="Queue time" />
      </td>
      <td>
        <Spread figures={lane.latency} label="End to end" />
      </td>
    </tr>
  );
}

/**
 * The server's own view (issue 15, item 3): what the server itself counted, read from the figures its
 * `/metrics` exports, beside the page's own measurements. Loaded on first need (React.lazy) by the
 * race page and the presenter's screen.
 */
export function ServerViewPanel({ of, load = () => loadServerView() }: ServerViewPanelProps) {
  const titleId = useId();
  const live = useAppStore(RACE_RUNS[of]);
  const { view, error, refresh } = useServerView(live, load);
  const tasks = view?.tasks;
  const totals: Array<[string, string, string]> = tasks
    ? [
        ['Queued', String(tasks.queued), 'queued'],
        ['Running', String(tasks.running), 'running'],
        ['Succeeded', String(tasks.succeeded), 'succeeded'],
        ['Failed', String(tasks.failed), 'failed'],
        ['Cancelled', String(tasks.cancelled), 'cancelled'],
        ['Success rate', percent(tasks.successRate), 'success-rate'],
      ]
    : [];
  const connections = view?.connections;
  const openByLane = (connections?.byLane ?? []).filter((c) => c.open > 0);
  return (
    <section className="server-view" aria-labelledby={titleId} data-testid="server-view">
      <div className="server-view-head">
        <h2 id={titleId} className="section-title">
          The server’s own view
        </h2>
        <button type="button" className="link-button" onClick={refresh}>
          Refresh
        </button>
      </div>
      <p className="hint">
        What the server counted itself, from the figures its <code>/metrics</code> exports: counts since it
        started
        {view ? ` (${clockTime(view.startedAt)})` : ''}, queue time and end to end on its own clock over each
        lane’s latest {view?.window ?? '…'} tasks.{' '}
        {live ? 'Live: refreshed every second while the race runs.' : ''}
      </p>
      {error ? (
        <p className="room-problem" role="alert">
          Could not read the server’s view: {error}
        </p>
      ) : null}
      {view === undefined ? (
        error ? null : (
          <p className="hint" role="status">
            Reading the server’s view…
          </p>
        )
      ) : (
        <>
          <p className="hint num" data-testid="server-view-at">
            As of {clockTime(view.at)} (server clock).
          </p>
          <dl className="server-view-totals">
            {totals.map(([label, value, id]) => (
              <div key={id}>
                <dt>{label}</dt>
                <dd className="num" data-testid={`server-view-${id}`}>
                  {value}
                </dd>
              </div>
            ))}
          </dl>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a table wider than the screen scrolls, and a keyboard must reach it */}
          <section className="table-scroll" tabIndex={0} aria-label="The server’s tasks by lane">
            <table className="metrics-table server-view-table">
              <caption className="visually-hidden">
                Tasks by the lane that created them; times in ms, as median · 95th percentile · largest
              </caption>
              <thead>
                <tr>
                  <th scope="col">Lane</th>
                  <th scope="col">Succeeded</th>
                  <th scope="col">Failed</th>
                  <th scope="col">Cancelled</th>
                  <th scope="col">Success rate</th>
                  <th scope="col">
                    Queue time <span className="unit">p50 · p95 · max</span>
                  </th>
                  <th scope="col">
                    End to end <span className="unit">p50 · p95 · max</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {view.lanes.length === 0 ? (
                  <tr>
                    <td colSpan={7}>No task has ended on this server yet.</td>
                  </tr>
                ) : (
                  view.lanes.map((lane) => <LaneRow key={lane.lane} lane={lane} />)
                )}
              </tbody>
            </table>
          </section>
          <div className="server-view-columns">
            <section aria-labelledby={`${titleId}-connections`}>
              <h3 id={`${titleId}-connections`}>Open connections</h3>
              <ul className="server-view-list" data-testid="server-view-connections">
                {connections?.byLane === null ? (
                  <li className="server-view-item">By lane: not counted (WIRE_ACCOUNTING=off).</li>
                ) : openByLane.length === 0 ? (
                  <li className="server-view-item">By lane: none open.</li>
                ) : (
                  openByLane.map((c) => (
                    <li key={`${c.lane}-${c.channel}`} className="server-view-item">
                      <span>
                        <LaneName lane={c.lane} />
                        {c.channel === 'receiverToPage' ? ' (receiver’s relay)' : ''}
                      </span>
                      <span className="num">{c.open}</span>
                    </li>
                  ))
                )}
                {(connections?.sockets ?? []).map((s) => (
                  <li key={s.namespace} className="server-view-item">
                    <span>
                      socket.io <code>{s.namespace}</code>
                      {s.namespace === '/' ? ' (websocket lane)' : ''}
                    </span>
                    <span className="num">{s.open}</span>
                  </li>
                ))}
              </ul>
            </section>
            <section aria-labelledby={`${titleId}-webhooks`}>
              <h3 id={`${titleId}-webhooks`}>Webhook attempts</h3>
              <dl className="server-view-list" data-testid="server-view-webhooks">
                {(
                  [
                    ['Delivered', view.webhooks.attempts.delivered],
                    ['To retry', view.webhooks.attempts.retry],
                    ['Gave up', view.webhooks.attempts['gave-up']],
                    ['Disabled', view.webhooks.attempts.disabled],
                    ['Waiting in the queue', view.webhooks.pending],
                    ['In flight', view.webhooks.inFlight],
                  ] as const
                ).map(([label, value]) => (
                  <div key={label} className="server-view-item">
                    <dt>{label}</dt>
                    <dd className="num">{value}</dd>
                  </div>
                ))}
              </dl>
            </section>
          </div>
        </>
      )}
    </section>
  );
}

export default ServerViewPanel;
