import { LANE_IDS, LaneId, PushLaneId, TASK_LIMITS, ViewMode } from '@transport-lab/shared';
import { z } from 'zod';
import { DEFAULT_LANE_SETTINGS_INPUT, DEFAULT_SPEC_INPUT, LANE_SETTING_LIMITS } from './settings-slice.ts';
import type { LaneSettingsInput, SpecInput } from './types.ts';

/**
 * A race's settings in the page's address, so that a link reproduces them: the task, the lanes, the
 * lane settings and the view. Each parameter is parsed on its own, so that one bad value falls back to
 * its default (with a note on the page) and the others still apply; nothing in a link can throw.
 */
export const LINK_PARAMS = {
  durationMs: 'durationMs',
  steps: 'steps',
  failAtStep: 'failAtStep',
  lanes: 'lanes',
  pollIntervalMs: 'pollIntervalMs',
  longPollWaitMs: 'longPollWaitMs',
  hybridWaitS: 'hybridWaitS',
  hybridPushLane: 'hybridPushLane',
  view: 'view',
} as const;

/** A whole number from text: digits only, so that "1e3", "0x10" or " 5" are not numbers here. */
const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'not a whole number')
    .transform(Number)
    .pipe(z.int().min(min).max(max));

/** What each parameter may be. */
const LINK_SCHEMA = {
  durationMs: wholeNumber(0, TASK_LIMITS.maxDurationMs),
  steps: wholeNumber(1, TASK_LIMITS.maxSteps),
  failAtStep: z.union([z.literal(''), wholeNumber(1, TASK_LIMITS.maxSteps)]),
  pollIntervalMs: z.union([
    z.literal(''),
    wholeNumber(LANE_SETTING_LIMITS.pollIntervalMs.min, LANE_SETTING_LIMITS.pollIntervalMs.max),
  ]),
  longPollWaitMs: wholeNumber(LANE_SETTING_LIMITS.longPollWaitMs.min, LANE_SETTING_LIMITS.longPollWaitMs.max),
  hybridWaitS: wholeNumber(LANE_SETTING_LIMITS.hybridWaitS.min, LANE_SETTING_LIMITS.hybridWaitS.max),
  hybridPushLane: PushLaneId,
  view: ViewMode,
  /** Comma-separated lane ids, at least one. */
  lanes: z
    .string()
    .transform((text) => text.split(',').map((part) => part.trim()))
    .pipe(z.array(LaneId).min(1)),
};

export interface LinkSettings {
  specInput: SpecInput;
  selectedLanes: LaneId[];
  laneSettingsInput: LaneSettingsInput;
  viewMode: ViewMode;
}

export interface ParsedLink {
  /** Only what the link named (and parsed); the rest stays as the page has it. */
  settings: Partial<LinkSettings>;
  /** One line per value the link named that could not be used, and what was used instead. */
  notes: string[];
}

function shown(value: string): string {
  const short = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return JSON.stringify(short);
}

/** Reads a race's settings from a query string (`location.search`). */
export function parseRaceLink(search: string, available: readonly LaneId[] = LANE_IDS): ParsedLink {
  const query = new URLSearchParams(search);
  const notes: string[] = [];
  const read = <K extends keyof typeof LINK_SCHEMA>(
    key: K,
    fallback: string,
  ): z.infer<(typeof LINK_SCHEMA)[K]> | undefined => {
    const raw = query.get(LINK_PARAMS[key]);
    if (raw === null) return undefined;
    const parsed = LINK_SCHEMA[key].safeParse(raw);
    if (parsed.success) return parsed.data as z.infer<(typeof LINK_SCHEMA)[K]>;
    notes.push(`The link's ${key}=${shown(raw)} is not valid here; using ${fallback}.`);
    return undefined;
  };
  const settings: Partial<LinkSettings> = {};

  const durationMs = read('durationMs', `${DEFAULT_SPEC_INPUT.durationMs} ms`);
  const steps = read('steps', DEFAULT_SPEC_INPUT.steps);
  let failAtStep = read('failAtStep', 'no failure');
  const stepsUsed = steps ?? Number(DEFAULT_SPEC_INPUT.steps);
  if (typeof failAtStep === 'number' && failAtStep > stepsUsed) {
    notes.push(`The link's failAtStep=${failAtStep} is past its ${stepsUsed} steps; using no failure.`);
    failAtStep = '';
  }
  if (durationMs !== undefined || steps !== undefined || failAtStep !== undefined) {
    settings.specInput = {
      durationMs: durationMs !== undefined ? String(durationMs) : DEFAULT_SPEC_INPUT.durationMs,
      steps: steps !== undefined ? String(steps) : DEFAULT_SPEC_INPUT.steps,
      failAtStep: failAtStep !== undefined ? String(failAtStep) : DEFAULT_SPEC_INPUT.failAtStep,
    };
  }

  const lanes = read('lanes', 'every lane');
  if (lanes !== undefined) {
    const offered = available.filter((id) => lanes.includes(id));
    if (offered.length > 0) settings.selectedLanes = offered;
    else notes.push('None of the link’s lanes runs on this page; using every lane.');
  }

  const pollIntervalMs = read('pollIntervalMs', 'the server’s Retry-After');
  const longPollWaitMs = read('longPollWaitMs', `${DEFAULT_LANE_SETTINGS_INPUT.longPollWaitMs} ms`);
  const hybridWaitS = read('hybridWaitS', `${DEFAULT_LANE_SETTINGS_INPUT.hybridWaitS} s`);
  const hybridPushLane = read('hybridPushLane', DEFAULT_LANE_SETTINGS_INPUT.hybridPushLane);
  if (
    pollIntervalMs !== undefined ||
    longPollWaitMs !== undefined ||
    hybridWaitS !== undefined ||
    hybridPushLane !== undefined
  ) {
    settings.laneSettingsInput = {
      pollIntervalMs:
        pollIntervalMs !== undefined ? String(pollIntervalMs) : DEFAULT_LANE_SETTINGS_INPUT.pollIntervalMs,
      longPollWaitMs:
        longPollWaitMs !== undefined ? String(longPollWaitMs) : DEFAULT_LANE_SETTINGS_INPUT.longPollWaitMs,
      hybridWaitS: hybridWaitS !== undefined ? String(hybridWaitS) : DEFAULT_LANE_SETTINGS_INPUT.hybridWaitS,
      hybridPushLane: hybridPushLane ?? DEFAULT_LANE_SETTINGS_INPUT.hybridPushLane,
    };
  }

  const view = read('view', 'the screen’s layout');
  if (view !== undefined) settings.viewMode = view;
  return { settings, notes };
}

/**
 * The query string that reproduces these settings. Every setting is written, not only those that
 * differ from today's defaults, so that a link keeps its meaning if a default changes; `view=auto` is
 * left out, so that a link opens in the layout that fits the screen it is opened on.
 */
export function raceLinkQuery(settings: LinkSettings): string {
  const query = new URLSearchParams();
  query.set(LINK_PARAMS.durationMs, settings.specInput.durationMs.trim());
  query.set(LINK_PARAMS.steps, settings.specInput.steps.trim());
  if (settings.specInput.failAtStep.trim() !== '') {
    query.set(LINK_PARAMS.failAtStep, settings.specInput.failAtStep.trim());
  }
  query.set(LINK_PARAMS.lanes, settings.selectedLanes.join(','));
  if (settings.laneSettingsInput.pollIntervalMs.trim() !== '') {
    query.set(LINK_PARAMS.pollIntervalMs, settings.laneSettingsInput.pollIntervalMs.trim());
  }
  query.set(LINK_PARAMS.longPollWaitMs, settings.laneSettingsInput.longPollWaitMs.trim());
  query.set(LINK_PARAMS.hybridWaitS, settings.laneSettingsInput.hybridWaitS.trim());
  query.set(LINK_PARAMS.hybridPushLane, settings.laneSettingsInput.hybridPushLane);
  if (settings.viewMode !== 'auto') query.set(LINK_PARAMS.view, settings.viewMode);
  return `?${query.toString().replaceAll('%2C', ',')}`;
}

/** An absolute link to this page with these settings. */
export function raceLink(href: string, settings: LinkSettings): string {
  const url = new URL(href);
  url.search = raceLinkQuery(settings);
  url.hash = '';
  return url.href;
}
