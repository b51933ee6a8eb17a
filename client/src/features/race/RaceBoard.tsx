import { LANES, type LaneId, pageBusySentence, serverLateSentence } from '@transport-lab/shared';
import { type CSSProperties, memo, useCallback, useMemo } from 'react';
import { useShallow } from 'zustand/shallow';
import { appStore, useAppStore } from '../../store/index.ts';
import { idleLane } from '../../store/lane-reducer.ts';
import {
  bestLanes,
  bestMetricsOf,
  type LaneMeasurement,
  laneMetrics,
  METRIC_KEYS,
  type MetricKey,
} from '../../store/metrics.ts';
import { isRaceRunning } from '../../store/race-slice.ts';
import { parseLaneSettings, parseSpecInput } from '../../store/settings-slice.ts';
import type { AppState } from '../../store/types.ts';
import { useRaceForControls } from '../../store/use-controls-race.ts';
import { summarizeHops } from '../../transports/relay-hops.ts';
import { useLaneFaults } from '../faults/use-lane-faults.ts';
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

/**
 * The best marks of the race, the same object for as long as they are the same marks: every card
 * reads it, and a card re-renders for it only when its marks change. Only lanes that ran the task to
 * its end are compared, so that a race's running lanes cost nothing here.
 */
let lastBest: { key: string; best: Record<MetricKey, ReadonlySet<LaneId>> } | undefined;
let lastBestInputs: { lanes: unknown; actionAt: unknown; estimate: unknown; selected: unknown } | undefined;

function selectBest(s: AppState): Record<MetricKey, ReadonlySet<LaneId>> {
  const inputs = {
    lanes: s.race.lanes,
    actionAt: s.race.actionAt,
    estimate: s.clock.estimate,
    selected: s.selectedLanes,
  };
  if (
    lastBest &&
    lastBestInputs &&
    lastBestInputs.lanes === inputs.lanes &&
    lastBestInputs.actionAt === inputs.actionAt &&
    lastBestInputs.estimate === inputs.estimate &&
    lastBestInputs.selected === inputs.selected
  ) {
    return lastBest.best;
  }
  lastBestInputs = inputs;
  const compared: LaneMeasurement[] = [];
  for (const id of s.selectedLanes) {
    const lane = s.race.lanes[id];
    if (lane?.status !== 'succeeded' && lane?.status !== 'failed') continue;
    compared.push({ id, lane, metrics: laneMetrics(lane, s.race.actionAt, s.clock.estimate) });
  }
  const best = bestLanes(compared, s.clock.estimate?.uncertaintyMs);
  const key = METRIC_KEYS.map((metric) => [...best[metric]].join(',')).join(';');
  if (lastBest?.key !== key) lastBest = { key, best };
  return lastBest.best;
}

interface LaneSlotProps {
  id: LaneId;
  runAloneDisabled: boolean;
  /** Figures a guided scenario's check read on this lane's card. */
  outlined: ReadonlySet<string> | undefined;
}

/**
 * One lane's card, following only that lane: a batch of another lane's events does not render it
 * again (seven cards re-rendered per frame were most of a frame's script on a slowed CPU).
 */
const LaneSlot = memo(function LaneSlot({ id, runAloneDisabled, outlined }: LaneSlotProps) {
  const lane = useAppStore((s) => s.race.lanes[id]) ?? IDLE;
  const actionAt = useAppStore((s) => s.race.actionAt);
  const estimate = useAppStore((s) => s.clock.estimate);
  const best = useAppStore(selectBest);
  const metrics = useMemo(() => laneMetrics(lane, actionAt, estimate), [lane, actionAt, estimate]);
  const marks = useMemo(() => bestMetricsOf(best, id), [best, id]);
  const hops = useMemo(() => summarizeHops(lane.hops, estimate?.offsetMs), [lane.hops, estimate]);
  const onRecover = useCallback(() => appStore.getState().recoverLane(id), [id]);
  const onRunAlone = useCallback(() => appStore.getState().requestStart({ only: id }), [id]);
  const faults = useLaneFaults(id);
  return (
    <LaneCard
      faults={faults}
      lane={LANES[id]}
      run={lane}
      metrics={metrics}
      best={marks}
      outlined={outlined}
      actionAt={actionAt}
      onRecover={onRecover}
      hops={hops}
      onRunAlone={onRunAlone}
      runAloneDisabled={runAloneDisabled}
    />
  );
});

/** One card per selected lane, side by side or stacked as the layout says. */
export function RaceBoard() {
  const selected = useAppStore(useShallow((s) => s.selectedLanes));
  const alone = useAppStore((s) => s.race.alone);
  // The cards' Run alone buttons follow a race's start a little later, like the form.
  const controlsRunning = isRaceRunning(useRaceForControls().lanes);
  const formOk = useAppStore(
    (s) => parseSpecInput(s.specInput).ok && parseLaneSettings(s.laneSettingsInput, s.server.settings).ok,
  );
  const canStart = !controlsRunning && formOk;
  const outlined = useScenarioOutline();

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
        data-racing={controlsRunning || undefined}
        style={
          {
            '--lane-columns': laneColumns(selected.length),
            '--lane-count': selected.length,
          } as CSSProperties
        }
      >
        {selected.map((id) => (
          <LaneSlot key={id} id={id} runAloneDisabled={!canStart} outlined={outlined.get(id)} />
        ))}
      </section>
    </>
  );
}
