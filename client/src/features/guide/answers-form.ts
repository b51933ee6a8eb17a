import {
  type GuideAnswers,
  GuideAnswersError,
  type GuideConsumer,
  type GuideMiddlebox,
  parseGuideAnswers,
} from '@transport-lab/shared/guide';

/**
 * The questionnaire as a person fills it in: text fields in seconds (people think of an operation's
 * length in seconds), checkboxes for the rest. `answersOf` turns it into the shared `GuideAnswers` (ms),
 * and every error, the form's own and the schema's, is said beside its field.
 */
export interface AnswersForm {
  typicalS: string;
  worstS: string;
  /** Empty, or ignored with `nobodyWaits`: no person waits on it. */
  feedbackWithinS: string;
  nobodyWaits: boolean;
  runsPerHour: string;
  consumers: GuideConsumer[];
  progressMatters: boolean;
  between: GuideMiddlebox[];
  concurrentClients: string;
  offlineForHours: boolean;
}

export type AnswersField = keyof AnswersForm;

/** A report: 20 s typically, 45 s at worst, a person waits, progress matters, in a browser. */
export const DEFAULT_ANSWERS_FORM: AnswersForm = {
  typicalS: '20',
  worstS: '45',
  feedbackWithinS: '1',
  nobodyWaits: false,
  runsPerHour: '4',
  consumers: ['browser'],
  progressMatters: true,
  between: [],
  concurrentClients: '200',
  offlineForHours: false,
};

/** Which form field a schema path speaks of. */
const FIELD_OF: Record<string, AnswersField> = {
  typicalMs: 'typicalS',
  worstMs: 'worstS',
  feedbackWithinMs: 'feedbackWithinS',
  runsPerHour: 'runsPerHour',
  consumers: 'consumers',
  progressMatters: 'progressMatters',
  between: 'between',
  concurrentClients: 'concurrentClients',
  offlineForHours: 'offlineForHours',
};

/** What a field's figure is, said in its error. */
const SAID: Partial<Record<AnswersField, string>> = {
  typicalS: 'The typical duration',
  worstS: 'The worst duration',
  feedbackWithinS: 'How soon a person must see something',
  runsPerHour: 'Runs per hour',
  concurrentClients: 'Clients at once',
};

export type AnswersResult =
  | { ok: true; answers: GuideAnswers }
  | { ok: false; errors: Partial<Record<AnswersField, string>> };

/** Seconds as typed ("1.5", "1,5", " 20 ") to ms; undefined when it is not a number. */
function msOf(text: string): number | undefined {
  const trimmed = text.trim().replace(',', '.');
  if (trimmed === '' || !/^\d*\.?\d+$/.test(trimmed)) return undefined;
  return Math.round(Number(trimmed) * 1_000);
}

function numberOf(text: string): number | undefined {
  const trimmed = text.trim().replace(',', '.');
  if (trimmed === '' || !/^\d*\.?\d+$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

export function answersOf(form: AnswersForm): AnswersResult {
  const errors: Partial<Record<AnswersField, string>> = {};
  const seconds = (field: 'typicalS' | 'worstS' | 'feedbackWithinS') => {
    const value = msOf(form[field]);
    if (value === undefined) errors[field] = `${SAID[field]} must be a number of seconds, such as 2 or 0.5.`;
    return value;
  };
  const typicalMs = seconds('typicalS');
  const worstMs = seconds('worstS');
  const feedbackWithinMs = form.nobodyWaits ? undefined : seconds('feedbackWithinS');
  const runsPerHour = numberOf(form.runsPerHour);
  if (runsPerHour === undefined) errors.runsPerHour = 'Runs per hour must be a number, such as 4 or 0.5.';
  const concurrentClients = numberOf(form.concurrentClients);
  if (concurrentClients === undefined || !Number.isInteger(concurrentClients))
    errors.concurrentClients = 'Clients at once must be a whole number, such as 200.';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  try {
    const answers = parseGuideAnswers({
      typicalMs,
      worstMs,
      ...(feedbackWithinMs !== undefined ? { feedbackWithinMs } : {}),
      runsPerHour,
      consumers: form.consumers,
      progressMatters: form.progressMatters,
      between: form.between,
      concurrentClients,
      offlineForHours: form.offlineForHours,
    });
    return { ok: true, answers };
  } catch (error) {
    if (!(error instanceof GuideAnswersError)) throw error;
    for (const issue of error.issues) {
      const field = FIELD_OF[issue.path.split('.')[0] ?? ''] ?? 'typicalS';
      const said = SAID[field];
      errors[field] ??= said ? `${said}: ${issue.message}.` : `${capital(issue.message)}.`;
    }
    return { ok: false, errors };
  }
}

const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
