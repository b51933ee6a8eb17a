import { useState } from 'react';
import { useStore } from 'zustand';
import { isRaceRunning } from '../../store/race-slice.ts';
import { useRaceForControls } from '../../store/use-controls-race.ts';
import { RetryTrials } from './RetryTrials.tsx';
import { SweepPlot } from './SweepPlot.tsx';
import { scenarioRunner } from './scenario-runner.ts';
import { SCENARIOS, type Scenario } from './scenarios.ts';
import { WebhookAttacks } from './WebhookAttacks.tsx';

/** "the race", "4 races", "the race, then an experiment of the page's own requests". */
function whatRuns(steps: Scenario['steps']): string {
  const races = steps.filter((s) => !s.probe).length;
  const said = races === 0 ? '' : races === 1 ? 'the race' : `${races} races`;
  if (!steps.some((s) => s.probe)) return said;
  return `${said ? `${said}, then ` : ''}an experiment of the page's own requests`;
}

/** Guided scenarios: choose one, read what to notice, run it in one click, and see whether it went as stated. */
export function ScenarioPanel() {
  const [chosenId, setChosenId] = useState(SCENARIOS[0]?.id ?? '');
  const run = useStore(scenarioRunner.store);
  const racing = isRaceRunning(useRaceForControls().lanes);
  const chosen = SCENARIOS.find((s) => s.id === chosenId) ?? SCENARIOS[0];
  if (!chosen) return null;
  const running = run.status === 'running';
  const shown = run.scenarioId === chosen.id ? run : undefined;
  return (
    <section className="scenarios" aria-labelledby="scenarios-title">
      <h2 id="scenarios-title" className="section-title">
        Guided scenarios
      </h2>
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
        <p className="scenario-hint">
          One click sets the task, the lanes, the network and the faults below it, runs{' '}
          {whatRuns(chosen.steps)}, and checks the outcome against what this page measured.
          {chosen.steps.some((s) => !s.probe)
            ? " On a page that has not raced yet it first runs one race it does not measure: a page's first race is slowed by its own first-time work."
            : null}
        </p>
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
      <p className="scenario-status" role="status" data-testid="scenario-status">
        {shown ? shown.detail : ''}
      </p>
      {shown?.verdict ? (
        <p
          className={`scenario-verdict ${shown.verdict.ok ? 'ok' : 'not-ok'}`}
          data-testid="scenario-verdict"
          data-ok={shown.verdict.ok}
        >
          <span aria-hidden="true">{shown.verdict.ok ? '✓ ' : '✗ '}</span>
          {shown.verdict.because}
        </p>
      ) : null}
      {shown?.verdict ? (
        <p className="scenario-why" data-testid="scenario-why">
          {shown.verdict.why}
          {shown.verdict.figures.length > 0 ? (
            <span className="scenario-why-note"> The figures it read are outlined on the cards.</span>
          ) : null}
        </p>
      ) : null}
      {shown?.outcomes.some((o) => o.faults.length > 0) ? (
        <ul className="scenario-faults" aria-label="Faults the scenario injected">
          {shown.outcomes.flatMap((o) =>
            o.faults.map((f) => (
              <li key={`${o.label}-${f.kind}-${f.summary}`}>
                <span aria-hidden="true">⚡ </span>
                {f.summary}
              </li>
            )),
          )}
        </ul>
      ) : null}
      {shown?.outcomes.flatMap((o) => o.probe?.retries ?? []).length ? (
        <RetryTrials trials={shown.outcomes.flatMap((o) => o.probe?.retries ?? [])} />
      ) : null}
      {shown?.outcomes.flatMap((o) => o.probe?.attacks ?? []).length ? (
        <WebhookAttacks attacks={shown.outcomes.flatMap((o) => o.probe?.attacks ?? [])} />
      ) : null}
      {shown && chosen.plot && shown.outcomes.length > 0 ? (
        <SweepPlot outcomes={shown.outcomes} xLabel={chosen.plot.xLabel} />
      ) : null}
    </section>
  );
}
