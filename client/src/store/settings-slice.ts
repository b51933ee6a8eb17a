import { TASK_LIMITS, TaskSpec } from '@transport-lab/shared';
import type { SettingsSlice, SliceCreator, SpecField, SpecInput, StoreDeps } from './types.ts';

export const DEFAULT_SPEC_INPUT: SpecInput = { durationMs: '3000', steps: '20', failAtStep: '' };

export type SpecErrors = Partial<Record<SpecField, string>>;
export type ParsedSpec = { ok: true; spec: TaskSpec } | { ok: false; errors: SpecErrors };

/** What each field must be; the bounds come from the shared schema's limits. */
const FIELD_HINTS: Record<SpecField, string> = {
  durationMs: `Duration must be a whole number of milliseconds from 0 to ${TASK_LIMITS.maxDurationMs}.`,
  steps: `Steps must be a whole number from 1 to ${TASK_LIMITS.maxSteps}.`,
  failAtStep: 'Fail at step must be empty, or a whole number from 1 to the number of steps.',
};

/** Text as typed → a number for the schema to judge; text that is not a number stays text and fails. */
function numeric(text: string): number | string {
  const trimmed = text.trim();
  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

/** Validates the form with the shared `TaskSpec` schema, one plain message per wrong field. */
export function parseSpecInput(input: SpecInput): ParsedSpec {
  const candidate: Record<string, unknown> = {
    durationMs: numeric(input.durationMs),
    steps: numeric(input.steps),
  };
  if (input.failAtStep.trim() !== '') candidate.failAtStep = numeric(input.failAtStep);
  const parsed = TaskSpec.safeParse(candidate);
  if (parsed.success) return { ok: true, spec: parsed.data };
  const errors: SpecErrors = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path[0];
    if (field === 'durationMs' || field === 'steps' || field === 'failAtStep')
      errors[field] = FIELD_HINTS[field];
  }
  return { ok: false, errors };
}

export const createSettingsSlice =
  (deps: StoreDeps): SliceCreator<SettingsSlice> =>
  (set) => ({
    availableLanes: deps.registry.lanes,
    specInput: DEFAULT_SPEC_INPUT,
    selectedLanes: [...deps.registry.lanes],
    viewMode: deps.initialViewMode ?? 'auto',
    setSpecField: (field, value) => set((state) => ({ specInput: { ...state.specInput, [field]: value } })),
    setLaneSelected: (id, selected) =>
      set((state) => {
        if (!deps.registry.get(id)) return {};
        const others = state.selectedLanes.filter((lane) => lane !== id);
        // Keep the registry's order whatever the order of clicks.
        const next = selected
          ? deps.registry.lanes.filter((lane) => lane === id || others.includes(lane))
          : others;
        return { selectedLanes: next };
      }),
    setViewMode: (mode) => set({ viewMode: mode }),
  });
