import {
  GUIDE_CONSUMER_LABELS,
  GUIDE_CONSUMERS,
  GUIDE_MIDDLEBOX_LABELS,
  GUIDE_MIDDLEBOXES,
} from '@transport-lab/shared/guide';
import type { FormEvent } from 'react';
import { TextField } from '../race/TextField.tsx';
import type { AnswersField, AnswersForm } from './answers-form.ts';

interface Props {
  form: AnswersForm;
  errors: Partial<Record<AnswersField, string>>;
  disabled: boolean;
  onChange(next: AnswersForm): void;
  onSubmit(): void;
}

/** Toggles `item` in a list of choices, keeping the list's order of definition. */
function toggled<T extends string>(all: readonly T[], list: readonly T[], item: T, on: boolean): T[] {
  return all.filter((x) => (x === item ? on : list.includes(x)));
}

/**
 * The questionnaire: native inputs, each with its label, fieldsets with legends for the groups, errors
 * tied to their fields and announced; Enter in a field ranks, as a form does.
 */
export function GuideQuestions({ form, errors, disabled, onChange, onSubmit }: Props) {
  const set = <K extends AnswersField>(field: K, value: AnswersForm[K]) =>
    onChange({ ...form, [field]: value });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onSubmit();
  };
  return (
    <form className="guide-questions" onSubmit={submit} noValidate aria-labelledby="guide-questions-title">
      <h3 id="guide-questions-title" className="guide-subtitle">
        Your operation
      </h3>
      <div className="fields">
        <TextField
          id="guide-typical"
          label="Typical duration (s)"
          value={form.typicalS}
          error={errors.typicalS}
          disabled={disabled}
          onChange={(v) => set('typicalS', v)}
        />
        <TextField
          id="guide-worst"
          label="Worst duration (s)"
          hint="A slow day: a p99, a cold cache, a big input."
          value={form.worstS}
          error={errors.worstS}
          disabled={disabled}
          onChange={(v) => set('worstS', v)}
        />
        <TextField
          id="guide-feedback"
          label="A person must see something within (s)"
          value={form.nobodyWaits ? '' : form.feedbackWithinS}
          error={form.nobodyWaits ? undefined : errors.feedbackWithinS}
          disabled={disabled || form.nobodyWaits}
          onChange={(v) => set('feedbackWithinS', v)}
        />
        <TextField
          id="guide-runs"
          label="Runs per hour, per client"
          value={form.runsPerHour}
          error={errors.runsPerHour}
          disabled={disabled}
          onChange={(v) => set('runsPerHour', v)}
        />
        <TextField
          id="guide-clients"
          label="Clients at once"
          value={form.concurrentClients}
          error={errors.concurrentClients}
          disabled={disabled}
          onChange={(v) => set('concurrentClients', v)}
        />
      </div>
      <div className="guide-checks">
        <label className="guide-check">
          <input
            type="checkbox"
            checked={form.nobodyWaits}
            disabled={disabled}
            onChange={(e) => set('nobodyWaits', e.currentTarget.checked)}
          />
          No person waits on it
        </label>
        <label className="guide-check">
          <input
            type="checkbox"
            checked={form.progressMatters}
            disabled={disabled}
            onChange={(e) => set('progressMatters', e.currentTarget.checked)}
          />
          Progress matters, not only the end
        </label>
        <label className="guide-check">
          <input
            type="checkbox"
            checked={form.offlineForHours}
            disabled={disabled}
            onChange={(e) => set('offlineForHours', e.currentTarget.checked)}
          />
          A client may be offline for hours
        </label>
      </div>
      <fieldset
        className="guide-group"
        disabled={disabled}
        aria-describedby={errors.consumers ? 'guide-consumers-error' : undefined}
      >
        <legend>Who consumes it</legend>
        {GUIDE_CONSUMERS.map((c) => (
          <label key={c} className="guide-check">
            <input
              type="checkbox"
              checked={form.consumers.includes(c)}
              onChange={(e) =>
                set('consumers', toggled(GUIDE_CONSUMERS, form.consumers, c, e.currentTarget.checked))
              }
            />
            {GUIDE_CONSUMER_LABELS[c]}
          </label>
        ))}
        {errors.consumers ? (
          <p id="guide-consumers-error" className="field-error" role="alert">
            {errors.consumers}
          </p>
        ) : null}
      </fieldset>
      <fieldset className="guide-group" disabled={disabled}>
        <legend>What sits between</legend>
        {GUIDE_MIDDLEBOXES.map((m) => (
          <label key={m} className="guide-check">
            <input
              type="checkbox"
              checked={form.between.includes(m)}
              onChange={(e) =>
                set('between', toggled(GUIDE_MIDDLEBOXES, form.between, m, e.currentTarget.checked))
              }
            />
            {GUIDE_MIDDLEBOX_LABELS[m]}
          </label>
        ))}
      </fieldset>
      <div className="actions">
        <button type="submit" className="button primary" disabled={disabled}>
          Rank the lanes
        </button>
      </div>
    </form>
  );
}
