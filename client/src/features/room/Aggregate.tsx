import {
  type AggregateMetric,
  type Distribution,
  LANES,
  type LaneAggregate,
  type LaneId,
  PAGE_BUSY_NOTE_MS,
  type Participant,
  type RaceAggregate,
  type RaceProgress,
  type RoomRace,
  serverLateSentence,
} from '@transport-lab/shared';
import { type CSSProperties, useMemo, useState } from 'react';
import { useAppStore } from '../../store/index.ts';
import { participantLabel } from '../../store/room-slice.ts';
import { type Axis, boxStats, figuresByLane, reporters, sharedAxis } from './aggregate-view.ts';
import { bytes, count, exactMs, roundMs } from './format.ts';

/** The figures under each lane's plot: the distribution's median and p95 over everyone who reported. */
const TABLE_ROWS: ReadonlyArray<{ metric: AggregateMetric; label: string; format(value: number): string }> = [
  { metric: 'completionLagMs', label: 'Completion lag', format: roundMs },
  { metric: 'firstFeedbackMs', label: 'First reply shown', format: roundMs },
  { metric: 'requests', label: 'Requests', format: count },
  { metric: 'bytesUp', label: 'Bytes up', format: bytes },
  { metric: 'bytesDown', label: 'Bytes down', format: bytes },
  { metric: 'serverLatenessMs', label: 'Server behind schedule', format: roundMs },
  { metric: 'pageBusyMs', label: 'Phone busy (longest frame)', format: roundMs },
  { metric: 'queueMs', label: 'Queue time (server)', format: roundMs },
];

/**
 * Above the plots: when the lab itself, not the transport, delayed what the room's phones showed —
 * the server's queueing (the most any phone's task ran behind), or phones busy with their own work.
 */
function LabLatenessNotes({ aggregate }: { aggregate: RaceAggregate }) {
  const worst = (metric: AggregateMetric) =>
    Math.max(0, ...aggregate.lanes.map((lane) => lane.metrics[metric]?.max ?? 0));
  const server = serverLateSentence(worst('serverLatenessMs'));
  const busyPhones = new Set(
    aggregate.lanes.flatMap(
      (lane) =>
        lane.metrics.pageBusyMs?.values
          .filter((v) => v.value >= PAGE_BUSY_NOTE_MS)
          .map((v) => v.participantId) ?? [],
    ),
  );
  if (!server && busyPhones.size === 0) return null;
  return (
    <div className="race-note race-late-notes" role="note">
      {server ? (
        <p data-testid="room-server-late">
          <span aria-hidden="true">⚠ </span>
          {server}
        </p>
      ) : null}
      {busyPhones.size > 0 ? (
        <p data-testid="room-phones-busy">
          <span aria-hidden="true">⚠ </span>
          {busyPhones.size} of {aggregate.reported} {aggregate.reported === 1 ? 'phone was' : 'phones were'}{' '}
          busy with their own work for {PAGE_BUSY_NOTE_MS} ms or more at a time (longest{' '}
          {Math.round(worst('pageBusyMs'))} ms): what they showed waited for it, whatever the transport did.
        </p>
      ) : null}
    </div>
  );
}

/** Outliers are named for these metrics: what a person feels, and how late the page heard of the end. */
const OUTLIER_METRICS: ReadonlyArray<{ metric: AggregateMetric; label: string }> = [
  { metric: 'totalPerceivedMs', label: 'result shown' },
  { metric: 'completionLagMs', label: 'completion lag' },
];

/**
 * The presenter's live view of everyone's race: how many have reported of how many expected, and per
 * lane the spread of total perceived latency (box plot on one axis for all lanes), with count, median
 * and p95, the other figures' medians and p95s, and the outliers by name.
 */
export function Aggregate() {
  const race = useAppStore((s) => s.room.race);
  const aggregate = useAppStore((s) => s.room.aggregate);
  const progress = useAppStore((s) => s.room.progress);
  const participants = useAppStore((s) => s.room.participants);
  return <AggregateView race={race} aggregate={aggregate} progress={progress} participants={participants} />;
}

interface AggregateViewProps {
  race: RoomRace | undefined;
  aggregate: RaceAggregate | undefined;
  progress: RaceProgress | undefined;
  participants: readonly Participant[];
}

/** The aggregate from what it is handed: the room's live state, or a recording's moment (features/replay). */
export function AggregateView({ race, aggregate, progress, participants }: AggregateViewProps) {
  const axis = useMemo(
    () => (aggregate ? sharedAxis(aggregate, 'totalPerceivedMs') : undefined),
    [aggregate],
  );
  if (!race) {
    return (
      <section className="room-aggregate" aria-labelledby="room-aggregate-title">
        <h2 id="room-aggregate-title" className="section-title">
          Everyone’s race
        </h2>
        <p className="hint">Nobody has raced yet: press “Start for everyone”.</p>
      </section>
    );
  }
  const nameOf = (id: string) =>
    participantLabel(
      participants.find((p) => p.id === id),
      id,
    );
  const expected = aggregate?.expected ?? progress?.expected ?? race.expected;
  const reported = aggregate?.reported ?? progress?.reported ?? 0;
  return (
    <section className="room-aggregate" aria-labelledby="room-aggregate-title" data-testid="room-aggregate">
      <div className="room-aggregate-head">
        <h2 id="room-aggregate-title" className="section-title">
          Everyone’s race
        </h2>
        <p className="room-progress" data-testid="room-progress">
          <span className="num room-progress-figure" data-testid="room-reported">
            {reported}
          </span>{' '}
          of{' '}
          <span className="num room-progress-figure" data-testid="room-expected">
            {expected}
          </span>{' '}
          reported
        </p>
      </div>
      {aggregate ? <LabLatenessNotes aggregate={aggregate} /> : null}
      <div className="room-aggregate-lanes">
        {race.scenario.lanes.map((id) => (
          <LaneAggregateCard
            key={id}
            id={id}
            lane={aggregate?.lanes.find((l) => l.lane === id)}
            axis={axis}
            nameOf={nameOf}
          />
        ))}
      </div>
      {aggregate ? <EveryoneTable aggregate={aggregate} lanes={race.scenario.lanes} nameOf={nameOf} /> : null}
    </section>
  );
}

function LaneAggregateCard({
  id,
  lane,
  axis,
  nameOf,
}: {
  id: LaneId;
  lane: LaneAggregate | undefined;
  axis: Axis | undefined;
  nameOf(id: string): string;
}) {
  const info = LANES[id];
  const total = lane?.metrics.totalPerceivedMs;
  const reportedHere = lane ? lane.succeeded + lane.failed : 0;
  const outliers = OUTLIER_METRICS.flatMap(({ metric, label }) => {
    const dist = lane?.metrics[metric];
    if (!dist) return [];
    return dist.outliers.map((pid) => ({
      key: `${metric}-${pid}`,
      text: `${nameOf(pid)}: ${label} ${roundMs(dist.values.find((v) => v.participantId === pid)?.value)}`,
    }));
  });
  return (
    <article
      className="room-lane"
      data-testid={`aggregate-lane-${id}`}
      style={{ '--lane-color': info.color } as CSSProperties}
      aria-labelledby={`aggregate-lane-${id}-name`}
    >
      <header className="lane-head">
        <span className="lane-swatch" />
        <span className="lane-mark" aria-hidden="true">
          {info.mark}
        </span>
        <h3 id={`aggregate-lane-${id}-name`} className="lane-name">
          {info.name}
        </h3>
      </header>
      <p className="room-lane-counts">
        <span className="num" data-testid="aggregate-count">
          {reportedHere}
        </span>{' '}
        reported · <span className="num">{lane?.succeeded ?? 0}</span> succeeded ·{' '}
        <span className="num">{lane?.failed ?? 0}</span> did not
      </p>
      <div className="room-lane-headline">
        <p className="room-figure-label room-headline-caption">Result shown</p>
        <p>
          <span className="room-figure-label">median</span>
          <span
            className="num room-figure"
            data-testid="aggregate-median"
            data-value={total?.median.toFixed(1)}
          >
            {roundMs(total?.median)}
          </span>
        </p>
        <p>
          <span className="room-figure-label">p95</span>
          <span className="num room-figure" data-testid="aggregate-p95" data-value={total?.p95.toFixed(1)}>
            {roundMs(total?.p95)}
          </span>
        </p>
      </div>
      {total && total.count > 0 && axis ? <BoxPlot dist={total} axis={axis} laneName={info.name} /> : null}
      <table className="room-table room-lane-table">
        <caption className="visually-hidden">
          {info.name}: median and p95 of each figure over everyone
        </caption>
        <thead>
          <tr>
            <th scope="col">Figure</th>
            <th scope="col">n</th>
            <th scope="col">Median</th>
            <th scope="col">p95</th>
          </tr>
        </thead>
        <tbody>
          {TABLE_ROWS.map(({ metric, label, format }) => {
            const dist = lane?.metrics[metric];
            return (
              <tr key={metric} data-metric={metric}>
                <th scope="row">{label}</th>
                <td className="num">{dist?.count ?? 0}</td>
                <td className="num">{dist ? format(dist.median) : '—'}</td>
                <td className="num">{dist ? format(dist.p95) : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="room-outliers" data-testid="aggregate-outliers">
        <span className="room-figure-label">Outliers: </span>
        {outliers.length === 0 ? 'none' : outliers.map((o) => o.text).join('; ')}
      </p>
    </article>
  );
}

/** viewBox units: the plot scales with its card, and its strokes and labels with it. */
const PLOT_W = 400;
const PLOT_H = 84;
const PAD = 14;
const MID = 24;
const HALF = 11;
const RUG_TOP = 44;
const AXIS_Y = 56;

/**
 * A box plot of one lane's total perceived latency on the axis all lanes share: the box from the first
 * to the third quartile, the median as a thick bar, whiskers to the farthest value inside Tukey's
 * fences, p95 as a triangle, every participant as a faint tick underneath (density shows as darkness),
 * outliers as rings; an outlier past the axis sits at its edge as a ring with an arrow.
 */
function BoxPlot({ dist, axis, laneName }: { dist: Distribution; axis: Axis; laneName: string }) {
  const stats = boxStats(dist);
  if (!stats) return null;
  const span = axis.max - axis.min;
  const x = (value: number) =>
    PAD + ((Math.min(Math.max(value, axis.min), axis.max) - axis.min) / span) * (PLOT_W - 2 * PAD);
  const beyond = (value: number) => value > axis.max || value < axis.min;
  return (
    <figure className="room-plot">
      <svg
        viewBox={`0 0 ${PLOT_W} ${PLOT_H}`}
        role="img"
        aria-label={`${laneName}, result shown, over ${dist.count} ${dist.count === 1 ? 'person' : 'people'}: from ${roundMs(dist.min)} to ${roundMs(dist.max)}, median ${roundMs(dist.median)}, p95 ${roundMs(dist.p95)}, ${dist.outliers.length} ${dist.outliers.length === 1 ? 'outlier' : 'outliers'}`}
        data-testid="aggregate-plot"
      >
        <line className="plot-axis" x1={PAD} x2={PLOT_W - PAD} y1={AXIS_Y} y2={AXIS_Y} />
        {axis.ticks.map((t) => (
          <g key={t}>
            <line className="plot-axis" x1={x(t)} x2={x(t)} y1={AXIS_Y} y2={AXIS_Y + 4} />
            <text className="plot-label" x={x(t)} y={AXIS_Y + 16} textAnchor="middle">
              {t}
            </text>
          </g>
        ))}
        <line className="plot-whisker" x1={x(stats.low)} x2={x(stats.q1)} y1={MID} y2={MID} />
        <line className="plot-whisker" x1={x(stats.q3)} x2={x(stats.high)} y1={MID} y2={MID} />
        <line className="plot-whisker" x1={x(stats.low)} x2={x(stats.low)} y1={MID - 6} y2={MID + 6} />
        <line className="plot-whisker" x1={x(stats.high)} x2={x(stats.high)} y1={MID - 6} y2={MID + 6} />
        <rect
          className="plot-box"
          x={x(stats.q1)}
          y={MID - HALF}
          width={Math.max(2, x(stats.q3) - x(stats.q1))}
          height={2 * HALF}
        />
        <line
          className="plot-median"
          x1={x(stats.median)}
          x2={x(stats.median)}
          y1={MID - HALF}
          y2={MID + HALF}
        />
        <path className="plot-p95" d={`M${x(stats.p95) - 5} ${MID - HALF - 9}h10l-5 7z`} />
        {stats.values.map((v) =>
          v.outlier ? (
            <g key={v.participantId}>
              <circle className="plot-outlier" cx={x(v.value)} cy={MID} r={5} />
              {beyond(v.value) ? (
                <path
                  className="plot-p95"
                  d={
                    v.value > axis.max
                      ? `M${x(v.value) + 7} ${MID - 5}l6 5l-6 5z`
                      : `M${x(v.value) - 7} ${MID - 5}l-6 5l6 5z`
                  }
                />
              ) : null}
            </g>
          ) : (
            <line
              key={v.participantId}
              className="plot-tick"
              x1={x(v.value)}
              x2={x(v.value)}
              y1={RUG_TOP}
              y2={RUG_TOP + 8}
            />
          ),
        )}
      </svg>
      <figcaption className="room-plot-scale" aria-hidden="true">
        ms · ▼ p95 · ▮ median · ○ outlier (▸ past the axis) · ticks: each person
      </figcaption>
    </figure>
  );
}

/**
 * Every participant's own figure, as their page computed and sent it: the check that the room's
 * numbers are the participants' numbers. Closed by default, and its rows are only built while it is
 * open: 500 rows re-rendered with every aggregate are for reading, not for a hall.
 */
function EveryoneTable({
  aggregate,
  lanes,
  nameOf,
}: {
  aggregate: RaceAggregate;
  lanes: readonly LaneId[];
  nameOf(id: string): string;
}) {
  const [open, setOpen] = useState(false);
  const ids = useMemo(() => reporters(aggregate), [aggregate]);
  const figures = useMemo(
    () => (open ? figuresByLane(aggregate, 'totalPerceivedMs') : undefined),
    [aggregate, open],
  );
  if (ids.length === 0) return null;
  return (
    <details className="room-everyone" open={open} onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>Every participant’s time to the result shown ({ids.length})</summary>
      {figures ? (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a wide table scrolls, and a keyboard must reach it
        <section className="table-scroll" tabIndex={0} aria-label="Every participant’s figures">
          <table className="room-table" data-testid="aggregate-everyone">
            <caption className="visually-hidden">
              Result shown: the time each participant's page measured from Start to the result on screen, per
              lane, in milliseconds
            </caption>
            <thead>
              <tr>
                <th scope="col">Participant</th>
                {lanes.map((id) => (
                  <th
                    key={id}
                    scope="col"
                    className="num"
                    style={{ '--lane-color': LANES[id].color } as CSSProperties}
                  >
                    <span className="lane-label">
                      <span className="lane-swatch" aria-hidden="true" />
                      <span className="lane-mark" aria-hidden="true">
                        {LANES[id].mark}
                      </span>
                      <span>{LANES[id].name}</span>
                    </span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {ids.map((pid) => (
                <tr key={pid} data-testid="aggregate-participant" data-participant={pid}>
                  <th scope="row">{nameOf(pid)}</th>
                  {lanes.map((id) => {
                    const value = figures.get(id)?.get(pid);
                    return (
                      <td
                        key={id}
                        className="num"
                        data-lane={id}
                        data-value={value === undefined ? undefined : value.toFixed(1)}
                      >
                        {exactMs(value)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
    </details>
  );
}
