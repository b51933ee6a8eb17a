import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { FigureRef } from './checks.ts';
import { followRunner, type VerdictOutline } from './outline.ts';
import type { ScenarioRunState } from './scenario-runner.ts';

const FIGURES: FigureRef[] = [{ lane: 'sse', figure: 'completionLag' }];

const idle: ScenarioRunState = {
  scenarioId: undefined,
  status: 'idle',
  detail: '',
  outcomes: [],
  verdict: undefined,
};

describe('followRunner', () => {
  it("copies a finished scenario's figures and race for the cards, and clears them when the next one runs", () => {
    const runner = createStore<ScenarioRunState>()(() => idle);
    const outline = createStore<VerdictOutline>()(() => ({ raceRunId: undefined, figures: [] }));
    const stop = followRunner(runner, outline);
    expect(outline.getState().figures).toEqual([]);

    runner.setState({
      scenarioId: 'x',
      status: 'done',
      verdict: { ok: true, because: '', why: '', figures: FIGURES },
      raceRunId: 7,
    });
    expect(outline.getState()).toEqual({ raceRunId: 7, figures: FIGURES });

    runner.setState({ status: 'running', verdict: undefined });
    expect(outline.getState()).toEqual({ raceRunId: undefined, figures: [] });

    // Once stopped, the outline no longer follows.
    stop();
    runner.setState({ status: 'done', verdict: { ok: false, because: '', why: '', figures: FIGURES } });
    expect(outline.getState().figures).toEqual([]);
  });
});
