import {
  compareWithMeasurement,
  decisionRecordMarkdown,
  type Finding,
  type GuideResult,
  type ProofRace,
  rankLanes,
} from '@transport-lab/shared/guide';
import { useEffect, useState } from 'react';
import { useStore } from 'zustand';
import { download } from '../../lib/download.ts';
import { appStore, useAppStore } from '../../store/index.ts';
import { isRaceRunning } from '../../store/race-slice.ts';
import { parseSpecInput } from '../../store/settings-slice.ts';
import { useRaceForControls } from '../../store/use-controls-race.ts';
import { scenarioRunner } from '../scenarios/scenario-runner.ts';
import { type AnswersField, answersOf, DEFAULT_ANSWERS_FORM } from './answers-form.ts';
import { GuideProof, type ProofInput } from './GuideProof.tsx';
import { GuideQuestions } from './GuideQuestions.tsx';
import { GuideRanking } from './GuideRanking.tsx';
import {
  defaultProofSettings,
  hybridWaitSFor,
  measuredOf,
  PROOF_SCENARIO_ID,
  type ProofSettings,
  proofScenario,
} from './proof.ts';
import './guide.css';

/** The proof's task as the race form holds one: text fields, parsed with the shared schema. */
function inputOf(settings: ProofSettings): ProofInput {
  return {
    spec: {
      durationMs: String(settings.spec.durationMs),
      steps: String(settings.spec.steps),
      failAtStep: '',
    },
    network: settings.network,
    lanes: settings.lanes,
  };
}

interface Proof {
  race: ProofRace;
  findings: Finding[];
  runId: string | undefined;
}

/**
 * The decision guide (issue 15, item 4): the questionnaire, the lanes ranked for its answers, "Prove
 * it" on the page's own race machinery, and the decision record as a Markdown download. Loaded on first
 * need from the race page (GuideEntry), so that it adds nothing to a phone's first load.
 */
export function GuidePanel() {
  const [form, setForm] = useState(DEFAULT_ANSWERS_FORM);
  const [errors, setErrors] = useState<Partial<Record<AnswersField, string>>>({});
  const [result, setResult] = useState<GuideResult | undefined>();
  const [proofInput, setProofInput] = useState<ProofInput | undefined>();
  /** The result and settings a running "Prove it" was started with: its figures are read against them. */
  const [pending, setPending] = useState<{ result: GuideResult; settings: ProofSettings } | undefined>();
  const [proof, setProof] = useState<Proof | undefined>();
  const [message, setMessage] = useState('');
  const available = useAppStore((s) => s.availableLanes);
  const racing = isRaceRunning(useRaceForControls().lanes);
  const run = useStore(scenarioRunner.store);
  const proving = run.status === 'running';

  // The runner finished the race this panel started: read its figures once, against its settings.
  useEffect(() => {
    if (!pending || run.scenarioId !== PROOF_SCENARIO_ID || run.status === 'running') return;
    const race = run.status === 'done' ? measuredOf(pending.settings, run.outcomes[0]) : undefined;
    setPending(undefined);
    if (race) {
      setProof({
        race,
        findings: compareWithMeasurement(pending.result, race),
        runId: appStore.getState().race.runTag,
      });
    }
  }, [pending, run]);

  const rank = () => {
    const parsed = answersOf(form);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      setMessage('');
      return;
    }
    setErrors({});
    const ranked = rankLanes(parsed.answers);
    setResult(ranked);
    setProof(undefined);
    setProofInput(inputOf(defaultProofSettings(ranked, available)));
    setMessage('');
  };

  // The task is parsed as the race form's is (the shared TaskSpec, the same messages).
  const parsedSpec = proofInput ? parseSpecInput(proofInput.spec) : undefined;
  const settings =
    result && proofInput && parsedSpec?.ok
      ? {
          spec: parsedSpec.spec,
          network: proofInput.network,
          lanes: proofInput.lanes,
          hybridWaitS: hybridWaitSFor(result),
        }
      : undefined;
  const problem = !parsedSpec?.ok
    ? 'Correct the task above to race it.'
    : proofInput?.lanes.length === 0
      ? 'Choose at least one lane to race.'
      : undefined;

  const prove = () => {
    if (!result || !settings || problem || racing || proving) return;
    const lanes = settings.lanes.filter((id) => available.includes(id));
    const chosen = { ...settings, lanes };
    setProof(undefined);
    setPending({ result, settings: chosen });
    void scenarioRunner.run(proofScenario(result, chosen));
  };

  const exportRecord = () => {
    if (!result) return;
    const markdown = decisionRecordMarkdown({
      result,
      madeAt: new Date().toISOString(),
      ...(proof ? { proof } : {}),
    });
    download(`decision-record-${new Date().toISOString().slice(0, 10)}.md`, 'text/markdown', markdown);
    setMessage(
      proof
        ? 'Decision record exported as Markdown, with the measured figures.'
        : 'Decision record exported as Markdown, without measurements: run “Prove it” to attach them.',
    );
  };

  const status = run.scenarioId === PROOF_SCENARIO_ID ? run.detail : '';
  return (
    <div className="guide" data-testid="guide">
      <GuideQuestions form={form} errors={errors} disabled={proving} onChange={setForm} onSubmit={rank} />
      {result && proofInput ? (
        <>
          <GuideRanking result={result} />
          <GuideProof
            input={proofInput}
            available={available}
            problem={problem}
            specErrors={parsedSpec?.ok === false ? parsedSpec.errors : {}}
            busy={racing || proving}
            status={status}
            proof={proof}
            onChange={setProofInput}
            onRun={prove}
          />
          <div className="actions guide-export">
            <button type="button" className="button" disabled={proving} onClick={exportRecord}>
              Export decision record (Markdown)
            </button>
            <span role="status" data-testid="guide-export-status">
              {message}
            </span>
          </div>
        </>
      ) : null}
    </div>
  );
}
