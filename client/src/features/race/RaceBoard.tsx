import { LANES, pageBusySentence, serverLateSentence } from '@transport-lab/shared';
import { type CSSProperties, useMemo } from 'react';
import { useShallow } from 'zustand/shallow';
import { appStore, useAppStore } from '../../store/index.ts';
import { idleLane } from '../../store/lane-reducer.ts';
import { bestLanes, bestMetricsOf, type LaneMeasurement, laneMetrics } from '../../store/metrics.ts';
import { isRaceRunning } from '../../store/race-slice.ts';
import { parseLaneSettings, parseSpecInput } from '../../store/settings-slice.ts';
import { summarizeHops } from '../../transports/webhook.ts';
import { useScenarioOutline } from '../scenarios/outline.ts';
import { LaneCard } from './LaneCard.tsx';

const IDLE = idleLane();

/**
 * Columns of the side-by-side layouts: all lanes in one row up to four, else two rows. Seven columns on
 * a projector leave each card too narrow for its large type (names and figures ran into each other).
 */
export function laneColumns(count: number): number {
  const lanes = Math.max(1, count);
  return lanes <= 4 ? lanes : Math.ceil(lanes / 2);
}

/**
 * Above the cards: when the lab itself, not the transport, delayed what the race showed. The server's
 * lateness is the most any lane's task ran behind its schedule; the page's busyness is its longest
 * frame during the race (read once the race has settled).
 */
function RaceLatenessNotes() {
  const serverLatenessMs = useAppStore((s) =>
    Math.max(0, ...Object.values(s.race.lanes).map((lane) => lane?.serverLatenessMs ?? 0)),
  );
  const pageBusy = useAppStore((s) => s.race.pageBusy);
  const server = serverLateSentence(serverLatenessMs);
  const page = pageBusySentence(pageBusy);
  if (!server && !page) return null;
  return (
    <div className="race-note race-late-notes" role="note">
      {server ? (
        <p data-testid="race-server-late" data-lateness-ms={Math.round(serverLatenessMs)}>
          <span aria-hidden="true">⚠ </span>
          {server}
        </p>
      ) : null}
      {page ? (
        <p data-testid="race-page-busy" data-longest-frame-ms={Math.round(pageBusy?.longestFrameMs ?? 0)}>
          <span aria-hidden="true">⚠ </span>
          {page}
        </p>
      ) : null}
    </div>
  );
}

/** One card per selected lane, side by side or stacked as the layout says. */
export function RaceBoard() {
  const selected = useAppStore(useShallow((s) => s.selectedLanes));
  const lanes = useAppStore((s) => s.race.lanes);
  const actionAt = useAppStore((s) => s.race.actionAt);
  const estimate = useAppStore((s) => s.clock.estimate);
  const alone = useAppStore((s) => s.race.alone);
  const canStart = useAppStore(
    (s) =>
      !isRaceRunning(s.race.lanes) &&
      parseSpecInput(s.specInput).ok &&
      parseLaneSettings(s.laneSettingsInput, s.server.settings).ok,
  );
  const { recoverLane, requestStart } = appStore.getState();
  const outlined = useScenarioOutline();

  const measurements = useMemo<LaneMeasurement[]>(
    () =>
      selected.map((id) => {
        const lane = lanes[id] ?? IDLE;
        return { id, lane, metrics: laneMetrics(lane, actionAt, estimate) };
      }),
    [selected, lanes, actionAt, estimate],
  );
  const best = useMemo(
    () => bestLanes(measurements, estimate?.uncertaintyMs),
    [measurements, estimate?.uncertaintyMs],
  );

  return (
    <>
      <RaceLatenessNotes />
      {alone ? (
        <p className="race-note" data-testid="ran-alone">
          {LANES[alone].name} ran alone with this task; the other lanes did not run.
        </p>
      ) : null}
      <section
        className="lanes"
        aria-label="Lane results"
        style={
          {
            '--lane-columns': laneColumns(measurements.length),
          } as CSSProperties
        }
      >
        {measurements.map(({ id, lane, metrics }) => (
          <LaneCard
            key={id}
            lane={LANES[id]}
            run={lane}
            metrics={metrics}
            best={bestMetricsOf(best, id)}
            outlined={outlined.get(id)}
            actionAt={actionAt}
            onRecover={() => recoverLane(id)}
            hops={summarizeHops(lane.hops, estimate?.offsetMs)}
            onRunAlone={() => requestStart({ only: id })}
            runAloneDisabled={!canStart}
          />
        ))}
      </section>
    </>
  );
}
