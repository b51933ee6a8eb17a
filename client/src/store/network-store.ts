import {
  ErrorEnvelope,
  LinkResponse,
  NETWORK_PATHS,
  NETWORK_PRESETS,
  type NetworkPresetId,
  NetworkProfile,
  type SetLinkRequest,
} from '@transport-lab/shared';
import { createStore } from 'zustand/vanilla';

/** The custom profile as typed: strings, so that a half-typed number is kept and explained. */
export interface CustomInput {
  latencyMs: string;
  jitterMs: string;
  downKbps: string;
  upKbps: string;
  dropoutChancePercent: string;
  stallMs: string;
}
export type CustomField = keyof CustomInput;

export type Choice = NetworkPresetId | 'custom';

export interface NetworkState {
  /** The link the server has for this browser; undefined until first read. */
  current: LinkResponse | undefined;
  choice: Choice;
  custom: CustomInput;
  status: 'idle' | 'loading' | 'saving' | 'unsupported' | 'error';
  error: string | undefined;
  load(): Promise<void>;
  choose(choice: Choice): Promise<void>;
  setCustomField(field: CustomField, value: string): void;
  applyCustom(): Promise<void>;
  /** Chooses a custom profile given whole (a scenario's): the fields show it, and it is applied. */
  applyProfile(profile: NetworkProfile): Promise<void>;
}

export const EMPTY_CUSTOM: CustomInput = {
  latencyMs: '200',
  jitterMs: '0',
  downKbps: '',
  upKbps: '',
  dropoutChancePercent: '',
  stallMs: '',
};

export type CustomErrors = Partial<Record<CustomField, string>>;

const number = (text: string): number | undefined => (text.trim() === '' ? undefined : Number(text.trim()));

/** The typed custom profile, checked with the shared schema; errors by field, in words. */
export function parseCustom(
  input: CustomInput,
): { ok: true; profile: NetworkProfile } | { ok: false; errors: CustomErrors } {
  const errors: CustomErrors = {};
  const read = (field: CustomField, { required }: { required: boolean }) => {
    const value = number(input[field]);
    if (value === undefined) {
      if (required) errors[field] = 'Required.';
      return undefined;
    }
    if (!Number.isFinite(value)) errors[field] = 'Not a number.';
    return value;
  };
  const latencyMs = read('latencyMs', { required: true });
  const jitterMs = read('jitterMs', { required: false }) ?? 0;
  const downKbps = read('downKbps', { required: false });
  const upKbps = read('upKbps', { required: false });
  const chance = read('dropoutChancePercent', { required: false });
  const stallMs = read('stallMs', { required: chance !== undefined && chance > 0 });
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const candidate = {
    latencyMs,
    jitterMs,
    ...(downKbps !== undefined ? { downKbps } : {}),
    ...(upKbps !== undefined ? { upKbps } : {}),
    ...(chance !== undefined && chance > 0 ? { dropout: { chancePerSecond: chance / 100, stallMs } } : {}),
  };
  const parsed = NetworkProfile.safeParse(candidate);
  if (parsed.success) return { ok: true, profile: parsed.data };
  const fieldOf: Record<string, CustomField> = {
    latencyMs: 'latencyMs',
    jitterMs: 'jitterMs',
    downKbps: 'downKbps',
    upKbps: 'upKbps',
    dropout: 'dropoutChancePercent',
  };
  for (const issue of parsed.error.issues) {
    const path = issue.path.map(String);
    const field = path[0] === 'dropout' && path[1] === 'stallMs' ? 'stallMs' : fieldOf[path[0] ?? ''];
    if (field && !errors[field]) errors[field] = issue.message;
  }
  return { ok: false, errors };
}

function customInputOf(profile: NetworkProfile): CustomInput {
  return {
    latencyMs: String(profile.latencyMs),
    jitterMs: String(profile.jitterMs),
    downKbps: profile.downKbps === undefined ? '' : String(profile.downKbps),
    upKbps: profile.upKbps === undefined ? '' : String(profile.upKbps),
    dropoutChancePercent: profile.dropout ? String(profile.dropout.chancePerSecond * 100) : '',
    stallMs: profile.dropout ? String(profile.dropout.stallMs) : '',
  };
}

async function errorMessage(response: Response): Promise<string> {
  const parsed = ErrorEnvelope.safeParse(await response.json().catch(() => undefined));
  return parsed.success ? parsed.data.error.message : `the server answered ${response.status}`;
}

export interface NetworkDeps {
  fetch: typeof fetch;
}

/** This browser's network link: read from the server, changed by choosing a preset or a custom profile. */
export function createNetworkStore(deps: NetworkDeps) {
  return createStore<NetworkState>()((set, get) => {
    const send = async (request: SetLinkRequest | undefined) => {
      set({ status: request ? 'saving' : 'loading', error: undefined });
      try {
        const response = await deps.fetch(NETWORK_PATHS.link, {
          method: request ? 'PUT' : 'GET',
          cache: 'no-store',
          // The cookie that names the link is the point: same-origin credentials.
          credentials: 'same-origin',
          ...(request
            ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) }
            : {}),
        });
        if (response.status === 404) {
          set({ status: 'unsupported', error: 'This server does not shape the network.' });
          return;
        }
        if (!response.ok) {
          set({ status: 'error', error: await errorMessage(response) });
          return;
        }
        const parsed = LinkResponse.safeParse(await response.json());
        if (!parsed.success) {
          set({ status: 'error', error: 'The link the server sent does not match the protocol.' });
          return;
        }
        const current = parsed.data;
        set({
          current,
          status: 'idle',
          choice: current.preset ?? 'custom',
          ...(current.preset === null ? { custom: customInputOf(current.profile) } : {}),
        });
      } catch (error) {
        set({ status: 'error', error: error instanceof Error ? error.message : String(error) });
      }
    };
    return {
      current: undefined,
      choice: 'none',
      custom: EMPTY_CUSTOM,
      status: 'idle',
      error: undefined,
      load: () => send(undefined),
      async choose(choice) {
        set({ choice });
        if (choice !== 'custom') await send({ preset: choice });
      },
      setCustomField(field, value) {
        set({ custom: { ...get().custom, [field]: value } });
      },
      async applyCustom() {
        const parsed = parseCustom(get().custom);
        if (parsed.ok) await send({ custom: parsed.profile });
      },
      async applyProfile(profile) {
        set({ choice: 'custom', custom: customInputOf(profile) });
        await send({ custom: profile });
      },
    };
  });
}

export const networkStore = createNetworkStore({ fetch: (input, init) => fetch(input, init) });

/** "3G: 300 ms packet round trip, …" or the custom profile in words. */
export function describeLink(link: LinkResponse | undefined): string {
  if (!link || link.preset === 'none') return 'No shaping: loopback as it is.';
  if (link.preset) return `${NETWORK_PRESETS[link.preset].label}: ${NETWORK_PRESETS[link.preset].summary}`;
  const p = link.profile;
  const rate = (kbps: number | undefined) => (kbps === undefined ? 'unlimited' : `${kbps} kbps`);
  const dropout = p.dropout
    ? `, stalls ${p.dropout.stallMs} ms with ${Math.round(p.dropout.chancePerSecond * 1000) / 10} % chance a second`
    : '';
  return `Custom: ${p.latencyMs} ms each way (± ${p.jitterMs} ms), ${rate(p.downKbps)} down, ${rate(p.upKbps)} up${dropout}.`;
}
