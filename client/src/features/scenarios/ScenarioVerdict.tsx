import { LANES, type LaneId } from '@transport-lab/shared';
import type { CSSProperties } from 'react';
import { useStore } from 'zustand';
import { useAppStore } from '../../store/index.ts';
import { RetryTrials } from './RetryTrials.tsx';
import { StormPlot } from './StormPlot.tsx';
import { StreamsTable } from './StreamsTable.tsx';
import { SweepPlot } from './SweepPlot.tsx';
import { scenarioRunner } from './scenario-runner.ts';
import { SCENARIOS } from './scenarios.ts';
import { WebhookAttacks } from './WebhookAttacks.tsx';

/**
 * A guided scenario's verdict, right above the cards it speaks of (issue 12, item 6): the learner reads
 * "As expected" and its why line beside the lanes whose figures it read (outlined on those cards), not in
 * a panel a screen away. Shown while the cards are that scenario's last race.
 */
export function ScenarioVerdict() {
  const run = useStore(scenarioRunner.store);
  const runId = useAppStore((s) => s.race.runId);
  const scenario = SCENARIOS.find((s) => s.id === run.scenarioId);
  const verdict = run.verdict;
  if (!scenario || !verdict || run.raceRunId !== runId) return null;
  const lanes = [...new Set(verdict.figures.map((f) => f.lane))] as LaneId[];
  const faults = run.outcomes.flatMap((o) => o.faults.map((f) => ({ ...f, step: o.label })));
  return (
    <section
      className={`scenario-result ${verdict.ok ? 'ok' : 'not-ok'}`}
      aria-labelledby="scenario-result-title"
      data-testid="scenario-result"
    >
      <h2 id="scenario-result-title" className="scenario-result-title">
        {scenario.title}
      </h2>
      <p className="scenario-verdict" data-testid="scenario-verdict" data-ok={verdict.ok}>
        <span aria-hidden="true">{verdict.ok ? '✓ ' : '✗ '}</span>
        {verdict.because}
      </p>
      <p className="scenario-why" data-testid="scenario-why">
        {verdict.why}
        {verdict.figures.length > 0 ? (
          <span className="scenario-why-note"> The figures it read are outlined on the cards.</span>
        ) : null}
      </p>
      {lanes.length > 0 ? (
        <ul className="scenario-lanes" aria-label="Lanes the verdict speaks of">
          {lanes.map((id) => (
            <li key={id} className="lane-chip" style={{ '--lane-color': LANES[id].color } as CSSProperties}>
              <span className="lane-mark" aria-hidden="true">
                {LANES[id].mark}
              </span>{' '}
              {LANES[id].name}
            </li>
          ))}
        </ul>
      ) : null}
      {faults.length > 0 ? (
        <ul className="scenario-faults" aria-label="Faults the scenario injected">
          {faults.map((f) => (
            <li key={`${f.step}-${f.kind}-${f.summary}`}>
              <span aria-hidden="true">⚡ </span>
              {f.summary}
            </li>
          ))}
        </ul>
      ) : null}
      {run.outcomes.flatMap((o) => o.probe?.retries ?? []).length ? (
        <RetryTrials trials={run.outcomes.flatMap((o) => o.probe?.retries ?? [])} />
      ) : null}
      {run.outcomes.flatMap((o) => o.probe?.attacks ?? []).length ? (
        <WebhookAttacks attacks={run.outcomes.flatMap((o) => o.probe?.attacks ?? [])} />
      ) : null}
      {run.outcomes.flatMap((o) => o.probe?.storms ?? []).length ? (
        <StormPlot storms={run.outcomes.flatMap((o) => o.probe?.storms ?? [])} />
      ) : null}
      {run.outcomes.flatMap((o) => o.probe?.streams ?? []).length ? (
        <StreamsTable trials={run.outcomes.flatMap((o) => o.probe?.streams ?? [])} />
      ) : null}
      {scenario.plot && run.outcomes.length > 0 ? (
        <SweepPlot outcomes={run.outcomes} xLabel={scenario.plot.xLabel} />
      ) : null}
    </section>
  );
}
