import type { LaneId } from '@transport-lab/shared';
import { useMemo } from 'react';
import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useAppStore } from '../../store/index.ts';
import type { CardFigure, FigureRef } from './checks.ts';
import type { ScenarioRunState } from './scenario-runner.ts';

const NONE: readonly FigureRef[] = [];

/** The figures the last scenario's verdict read, and the race (`race.runId`) it read them in. */
export interface VerdictOutline {
  raceRunId: number | undefined;
  figures: readonly FigureRef[];
}

/**
 * What the cards outline, apart from the scenario runner: the cards load with a phone's first script,
 * the scenarios only with the race page (docs/architecture.md, "What a phone loads first"), and the
 * runner writes here once it is loaded (`followRunner`). Only type imports from the scenarios here.
 */
export const verdictOutline = createStore<VerdictOutline>()(() => ({ raceRunId: undefined, figures: NONE }));

/** Keeps `outline` on the runner's last verdict (none while a scenario runs or after it failed). */
export function followRunner(
  runner: StoreApi<ScenarioRunState>,
  outline: StoreApi<VerdictOutline> = verdictOutline,
): () => void {
  const copy = (s: ScenarioRunState) =>
    outline.setState(
      s.status === 'done' && s.verdict
        ? { raceRunId: s.raceRunId, figures: s.verdict.figures }
        : { raceRunId: undefined, figures: NONE },
    );
  copy(runner.getState());
  return runner.subscribe(copy);
}

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
  const figures = useStore(verdictOutline, (s) =>
    s.raceRunId !== undefined && s.raceRunId === runId ? s.figures : NONE,
  );
  return useMemo(() => outlinedByLane(figures), [figures]);
}
