import type { LaneId } from '@transport-lab/shared';
import { useMemo } from 'react';
import { useStore } from 'zustand';
import { useAppStore } from '../../store/index.ts';
import type { CardFigure, FigureRef } from './checks.ts';
import { scenarioRunner } from './scenario-runner.ts';

const NONE: readonly FigureRef[] = [];

/** Per lane, the figures a scenario's check read: pure, for the cards to outline. */
export function outlinedByLane(figures: readonly FigureRef[]): Map<LaneId, Set<CardFigure>> {
  const byLane = new Map<LaneId, Set<CardFigure>>();
  for (const { lane, figure } of figures) {
    const set = byLane.get(lane) ?? new Set<CardFigure>();
    set.add(figure);
    byLane.set(lane, set);
  }
  return byLane;
}

/**
 * The figures the last scenario's verdict read, per lane, while the race on the cards is that scenario's
 * own last race (a race run by hand afterwards outlines nothing).
 */
export function useScenarioOutline(): Map<LaneId, Set<CardFigure>> {
  const runId = useAppStore((s) => s.race.runId);
  const figures = useStore(scenarioRunner.store, (s) =>
    s.status === 'done' && s.verdict && s.raceRunId === runId ? s.verdict.figures : NONE,
  );
  return useMemo(() => outlinedByLane(figures), [figures]);
}
