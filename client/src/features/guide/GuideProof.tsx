import {
  LANES,
  type LaneId,
  NETWORK_PRESET_IDS,
  NETWORK_PRESETS,
  type NetworkPresetId,
} from '@transport-lab/shared';
import type { Finding, ProofRace } from '@transport-lab/shared/guide';
import type { FormEvent } from 'react';
import type { SpecInput } from '../../store/types.ts';
import { LaneChoices } from '../race/LaneChoices.tsx';
import { TextField } from '../race/TextField.tsx';

export interface ProofInput {
  /** The task as the race form holds it (ms), parsed with `parseSpecInput`. */
  spec: SpecInput;
  network: NetworkPresetId;
  lanes: LaneId[];
}

interface Props {
  input: ProofInput;
  available: readonly LaneId[];
  /** Why it cannot run as set, said under the button. */
  problem: string | undefined;
  /** The task's fields that are wrong, each with the race form's message. */
  specErrors: Partial<Record<'durationMs' | 'steps', string>>;
  /** A race or a scenario is running: nothing can start. */
  busy: boolean;
  /** The runner's progress line ("Step 1 of 1: Prove it"), or what went wrong. */
  status: string;
  proof: { race: ProofRace; findings: Finding[] } | undefined;
  onChange(next: ProofInput): void;
  onRun(): void;
}

const ms = (n: number | undefined) => (n === undefined ? '—' : `${Math.round(n).toLocaleString('en-US')} ms`);

/** "Prove it": the race's settings (the answers' own numbers), then what it measured and where it disagrees. */
export function GuideProof({
  input,
  available,
  problem,
  specErrors,
  busy,
  status,
  proof,
  onChange,
  onRun,
}: Props) {
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onRun();
  };
  const against = proof?.findings.filter((f) => !f.agrees) ?? [];
  const agreed = proof?.findings.filter((f) => f.agrees) ?? [];
  return (
    <section className="guide-proof" aria-labelledby="guide-proof-title">
      <h3 id="guide-proof-title" className="guide-subtitle">
        Prove it
      </h3>
      <p className="hint">
        Races the lanes with your numbers on this page, as a guided scenario does (it sets the page’s task,
        lanes and network; the cards above show the race live), then says where the measurement disagrees with
        the rule of thumb.
      </p>
      <form onSubmit={submit} noValidate aria-label="Prove it: race settings">
        <div className="fields">
          <TextField
            id="guide-proof-duration"
            label="Task duration (ms)"
            value={input.spec.durationMs}
            error={specErrors.durationMs}
            disabled={busy}
            onChange={(v) => onChange({ ...input, spec: { ...input.spec, durationMs: v } })}
          />
          <TextField
            id="guide-proof-steps"
            label="Steps"
            value={input.spec.steps}
            error={specErrors.steps}
            disabled={busy}
            onChange={(v) => onChange({ ...input, spec: { ...input.spec, steps: v } })}
          />
          <div className="field">
            <label htmlFor="guide-proof-network">Network</label>
            <select
              id="guide-proof-network"
              value={input.network}
              disabled={busy}
              onChange={(e) => onChange({ ...input, network: e.currentTarget.value as NetworkPresetId })}
            >
              {NETWORK_PRESET_IDS.map((id) => (
                <option key={id} value={id}>
                  {NETWORK_PRESETS[id].label}
                </option>
              ))}
            </select>
          </div>
        </div>
        <LaneChoices
          legend="Lanes to race"
          lanes={available}
          selected={input.lanes}
          disabled={busy}
          onToggle={(id, checked) =>
            onChange({
              ...input,
              lanes: available.filter((x) => (x === id ? checked : input.lanes.includes(x))),
            })
          }
        />
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy || problem !== undefined}>
            Prove it
          </button>
          <span className="guide-proof-status" role="status" data-testid="guide-proof-status">
            {problem ?? status}
          </span>
        </div>
      </form>
      {proof ? (
        <div className="guide-proof-result" data-testid="guide-proof-result">
          <div className="table-scroll">
            <table className="guide-measured">
              <caption>
                Measured: a {ms(proof.race.durationMs)} task in {proof.race.steps} steps on{' '}
                {proof.race.network}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Lane</th>
                  <th scope="col">Status</th>
                  <th scope="col">First feedback</th>
                  <th scope="col">Result on screen</th>
                  <th scope="col">Delay per update</th>
                  <th scope="col">Updates shown</th>
                  <th scope="col">Requests</th>
                </tr>
              </thead>
              <tbody>
                {proof.race.lanes.map((l) => (
                  <tr key={l.lane} data-lane={l.lane} data-status={l.status}>
                    <th scope="row">{LANES[l.lane].name}</th>
                    <td>{l.status}</td>
                    <td data-metric="firstFeedbackMs" data-value={l.firstFeedbackMs}>
                      {ms(l.firstFeedbackMs)}
                    </td>
                    <td data-metric="totalPerceivedMs" data-value={l.totalPerceivedMs}>
                      {ms(l.totalPerceivedMs)}
                    </td>
                    <td data-metric="stalenessMeanMs" data-value={l.stalenessMeanMs}>
                      {ms(l.stalenessMeanMs)}
                    </td>
                    <td data-metric="progressUpdates" data-value={l.progressUpdates}>
                      {l.progressUpdates}
                    </td>
                    <td data-metric="requests" data-value={l.requests}>
                      {l.requests}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h4 data-testid="guide-disagreements" data-count={against.length}>
            Where the measurement disagrees with the rule of thumb: {against.length} of{' '}
            {proof.findings.length}
          </h4>
          {against.length === 0 ? (
            <p>Nowhere: every rule of thumb checked held in this race.</p>
          ) : (
            <ul className="guide-findings">
              {against.map((f) => (
                <li key={f.claim} className="guide-finding-against">
                  <strong>Rule of thumb:</strong> {f.claim} <strong>Measured:</strong> {f.measured}
                </li>
              ))}
            </ul>
          )}
          {agreed.length > 0 ? (
            <details>
              <summary>Where it agrees ({agreed.length})</summary>
              <ul className="guide-findings">
                {agreed.map((f) => (
                  <li key={f.claim}>
                    {f.claim} <strong>Measured:</strong> {f.measured}
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
