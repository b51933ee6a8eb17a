import { useState } from 'react';
import { useStore } from 'zustand';
import { isRaceRunning } from '../../store/race-slice.ts';
import { useRaceForControls } from '../../store/use-controls-race.ts';
import { useFoldDuringRace } from '../race/use-fold.ts';
import { LearnMore } from './LearnMore.tsx';
import { scenarioRunner } from './scenario-runner.ts';
import { SCENARIOS, type Scenario } from './scenarios.ts';

/** "the race", "4 races", "the race, then an experiment of the page's own requests". */
function whatRuns(steps: Scenario['steps']): string {
  const races = steps.filter((s) => !s.probe).length;
  const said = races === 0 ? '' : races === 1 ? 'the race' : `${races} races`;
  if (!steps.some((s) => s.probe)) return said;
  return `${said ? `${said}, then ` : ''}an experiment of the page's own requests`;
}

/**
 * Guided scenarios: choose one, read what to notice and run it in one click. While it runs the panel
 * folds to its title and its progress line; the verdict is shown above the cards (ScenarioVerdict).
 */
export function ScenarioPanel() {
  const [chosenId, setChosenId] = useState(SCENARIOS[0]?.id ?? '');
  const run = useStore(scenarioRunner.store);
  const racing = isRaceRunning(useRaceForControls().lanes);
  const running = run.status === 'running';
  const fold = useFoldDuringRace(racing || running);
  const chosen = SCENARIOS.find((s) => s.id === chosenId) ?? SCENARIOS[0];
  if (!chosen) return null;
  const shown = run.scenarioId === chosen.id ? run : undefined;
  return (
    <section className="scenarios" aria-labelledby="scenarios-title" data-folded={!fold.open || undefined}>
      <details className="fold" open={fold.open} onToggle={fold.onToggle}>
        <summary>
          <h2 id="scenarios-title" className="section-title fold-title">
            Guided scenarios
          </h2>
          <span className="fold-summary scenario-status" role="status" data-testid="scenario-status">
            {shown ? shown.detail : ''}
          </span>
        </summary>
        <div className="field">
          <label htmlFor="scenario-choice">Scenario</label>
          <select
            id="scenario-choice"
            value={chosen.id}
            disabled={running}
            onChange={(event) => setChosenId(event.currentTarget.value)}
          >
            {SCENARIOS.map((s) => (
              <option key={s.id} value={s.id}>
                {s.title}
              </option>
            ))}
          </select>
        </div>
        <div className="scenario-text" data-testid="scenario-text">
          <p>{chosen.lesson}</p>
          <p>
            <strong>Expected: </strong>
            {chosen.expectation}
          </p>
          <p className="scenario-sources" data-testid="scenario-sources">
            Sources:{' '}
            {chosen.sources.map((source, k) => (
              <span key={source.url}>
                {k > 0 ? '; ' : null}
                <a href={source.url} target="_blank" rel="noreferrer">
                  {source.label}
                </a>
              </span>
            ))}
            .
          </p>
          <LearnMore scenario={chosen} />
          <details className="scenario-hint engineer-note">
            <summary>How the scenario runs</summary>
            <p>
              One click sets the task, the lanes, the network and the faults below it, runs{' '}
              {whatRuns(chosen.steps)}, and checks the outcome against what this page measured.
              {chosen.steps.some((s) => !s.probe)
                ? " On a page that has not raced yet it first runs one race it does not measure: a page's first race is slowed by its own first-time work."
                : null}
            </p>
          </details>
        </div>
        <div className="actions">
          <button
            type="button"
            className="button primary"
            disabled={running || racing}
            onClick={() => void scenarioRunner.run(chosen)}
          >
            Run scenario
          </button>
        </div>
      </details>
    </section>
  );
}
