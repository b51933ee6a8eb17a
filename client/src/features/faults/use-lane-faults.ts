import { type LaneId, toClientTime } from '@transport-lab/shared';
import { useEffect, useMemo, useState } from 'react';
import { appStore, useAppStore } from '../../store/index.ts';
import { faultHitsLane } from './lane-faults.ts';

export interface LaneFaultMark {
  id: string;
  /** When it happened, ms after the race's Start. */
  atMs: number;
  summary: string;
}

const NONE: readonly LaneFaultMark[] = [];

/**
 * The faults of the race on the cards that hold it that reached this lane, in time order. They live in
 * the race log, outside React state: this follows the log's fault count, not every batch of events.
 */
export function useLaneFaults(lane: LaneId): readonly LaneFaultMark[] {
  const [seen, setSeen] = useState(() => faultsKey());
  useEffect(
    () =>
      appStore.getState().subscribeRaceLog(() => {
        const now = faultsKey();
        setSeen((was) => (was === now ? was : now));
      }),
    [],
  );
  const offsetMs = useAppStore((s) => s.clock.estimate?.offsetMs);
  const runId = useAppStore((s) => s.race.runId);
  const hybridPushLane = useAppStore((s) => s.race.settings?.laneSettings.hybridPushLane);
  return useMemo(() => {
    void seen; // recomputed when the log's faults change
    const log = appStore.getState().raceLog();
    if (log.runId !== runId || log.faults.length === 0) return NONE;
    const actionAt = log.actionAt ?? 0;
    return log.faults
      .filter(({ record }) => faultHitsLane(record.fault, lane, hybridPushLane))
      .map(({ record, receivedAt }) => ({
        id: record.id,
        atMs: (offsetMs === undefined ? receivedAt : toClientTime(record.at, offsetMs)) - actionAt,
        summary: record.summary,
      }))
      .sort((a, b) => a.atMs - b.atMs);
  }, [seen, lane, offsetMs, runId, hybridPushLane]);
}

function faultsKey(): string {
  const log = appStore.getState().raceLog();
  return `${log.runId}:${log.faults.length}`;
}
