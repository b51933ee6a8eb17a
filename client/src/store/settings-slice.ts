import {
  DEFAULT_TASK_SPEC,
  type LaneId,
  MAX_LONG_POLL_WAIT_MS,
  MAX_PREFER_WAIT_S,
  type PublicSettings,
  TASK_LIMITS,
  TaskSpec,
} from '@transport-lab/shared';
import { DEFAULT_LANE_SETTINGS, type LaneSettings } from '../transports/types.ts';
import type {
  LaneSettingField,
  LaneSettingsInput,
  SettingsSlice,
  SliceCreator,
  SpecField,
  SpecInput,
  StoreDeps,
} from './types.ts';

export const DEFAULT_SPEC_INPUT: SpecInput = {
  durationMs: String(DEFAULT_TASK_SPEC.durationMs),
  steps: String(DEFAULT_TASK_SPEC.steps),
  failAtStep: '',
};

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

/** The last form parsed, and what it gave: the form is asked on every change of the page's state
 *  (whether Start may be pressed), and it changes only when someone types. */
let lastSpec: { input: SpecInput; parsed: ParsedSpec } | undefined;

/** Validates the form with the shared `TaskSpec` schema, one plain message per wrong field. */
export function parseSpecInput(input: SpecInput): ParsedSpec {
  if (lastSpec?.input === input) return lastSpec.parsed;
  const parsed = parseSpecInputNow(input);
  lastSpec = { input, parsed };
  return parsed;
}

function parseSpecInputNow(input: SpecInput): ParsedSpec {
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

export const DEFAULT_LANE_SETTINGS_INPUT: LaneSettingsInput = {
  pollIntervalMs: '',
  longPollWaitMs: String(DEFAULT_LANE_SETTINGS.longPollWaitMs),
  hybridWaitS: String(DEFAULT_LANE_SETTINGS.hybridWaitS),
  hybridPushLane: DEFAULT_LANE_SETTINGS.hybridPushLane,
};

/**
 * Lower bounds that keep a demo from hammering a server other people share: a poll every 100 ms is
 * already ten a second per viewer, and a long poll held under a second is short polling in disguise.
 */
export const LANE_SETTING_LIMITS = {
  pollIntervalMs: { min: 100, max: 60_000 },
  longPollWaitMs: { min: 1_000, max: MAX_LONG_POLL_WAIT_MS },
  hybridWaitS: { min: 0, max: MAX_PREFER_WAIT_S },
} as const;

export type LaneSettingErrors = Partial<Record<LaneSettingField, string>>;
export type ParsedLaneSettings =
  | { ok: true; settings: LaneSettings }
  | { ok: false; errors: LaneSettingErrors };

function wholeNumberIn(text: string, min: number, max: number): number | undefined {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return value >= min && value <= max ? value : undefined;
}

/** Validates the lane settings; the long-poll ceiling is the server's when known (it may be lower). */
export function parseLaneSettings(input: LaneSettingsInput, server?: PublicSettings): ParsedLaneSettings {
  const errors: LaneSettingErrors = {};
  const { pollIntervalMs: poll, longPollWaitMs: hold, hybridWaitS: wait } = LANE_SETTING_LIMITS;
  const holdMax = Math.min(hold.max, server?.maxLongPollWaitMs ?? hold.max);
  let pollIntervalMs: number | undefined;
  if (input.pollIntervalMs.trim() !== '') {
    pollIntervalMs = wholeNumberIn(input.pollIntervalMs, poll.min, poll.max);
    if (pollIntervalMs === undefined) {
      errors.pollIntervalMs = `Poll interval must be empty (the server's Retry-After) or a whole number of milliseconds from ${poll.min} to ${poll.max}.`;
    }
  }
  const longPollWaitMs = wholeNumberIn(input.longPollWaitMs, hold.min, holdMax);
  if (longPollWaitMs === undefined) {
    errors.longPollWaitMs = `Long-poll wait must be a whole number of milliseconds from ${hold.min} to ${holdMax}.`;
  }
  const hybridWaitS = wholeNumberIn(input.hybridWaitS, wait.min, wait.max);
  if (hybridWaitS === undefined) {
    errors.hybridWaitS = `Hybrid wait must be a whole number of seconds from ${wait.min} to ${wait.max}.`;
  }
  if (longPollWaitMs === undefined || hybridWaitS === undefined || Object.keys(errors).length > 0) {
    return { ok: false, errors };
  }
  const settings: LaneSettings = { longPollWaitMs, hybridWaitS, hybridPushLane: input.hybridPushLane };
  if (pollIntervalMs !== undefined) settings.pollIntervalMs = pollIntervalMs;
  return { ok: true, settings };
}

/** The link's lanes that this client implements, in registry order; undefined when it names none of them. */
function linkedLanes(deps: StoreDeps): LaneId[] | undefined {
  const wanted = deps.initialLink?.settings.selectedLanes;
  if (!wanted) return undefined;
  const lanes = deps.registry.lanes.filter((id) => wanted.includes(id));
  return lanes.length > 0 ? lanes : undefined;
}

export const createSettingsSlice =
  (deps: StoreDeps): SliceCreator<SettingsSlice> =>
  (set, get) => ({
    availableLanes: deps.registry.lanes,
    specInput: deps.initialLink?.settings.specInput ?? DEFAULT_SPEC_INPUT,
    selectedLanes: linkedLanes(deps) ?? [...deps.registry.lanes],
    viewMode: deps.initialLink?.settings.viewMode ?? deps.initialViewMode ?? 'auto',
    laneSettingsInput: deps.initialLink?.settings.laneSettingsInput ?? DEFAULT_LANE_SETTINGS_INPUT,
    linkNotes: deps.initialLink?.notes ?? [],
    dismissLinkNotes: () => set({ linkNotes: [] }),
    server: { status: 'idle' },
    setSpecField: (field, value) => set((state) => ({ specInput: { ...state.specInput, [field]: value } })),
    setLaneSetting: (field, value) =>
      set((state) => ({ laneSettingsInput: { ...state.laneSettingsInput, [field]: value } })),
    setHybridPushLane: (lane) =>
      set((state) => ({ laneSettingsInput: { ...state.laneSettingsInput, hybridPushLane: lane } })),
    async loadServerSettings() {
      const status = get().server.status;
      if (!deps.loadSettings || status === 'loading' || status === 'ready') return;
      set({ server: { status: 'loading' } });
      try {
        set({ server: { status: 'ready', settings: await deps.loadSettings() } });
      } catch (error) {
        set({ server: { status: 'error', error: error instanceof Error ? error.message : String(error) } });
      }
    },
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
