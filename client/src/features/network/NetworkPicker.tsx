import { NETWORK_PRESET_IDS, NETWORK_PRESETS } from '@transport-lab/shared';
import { useEffect } from 'react';
import { useStore } from 'zustand';
import {
  type Choice,
  type CustomField,
  describeLink,
  networkStore,
  parseCustom,
} from '../../store/network-store.ts';
import { TextField } from '../race/TextField.tsx';

const CUSTOM_FIELDS: Array<{ field: CustomField; label: string; hint?: string }> = [
  { field: 'latencyMs', label: 'Latency each way (ms)', hint: 'A round trip grows by twice this.' },
  { field: 'jitterMs', label: 'Jitter (± ms)' },
  { field: 'downKbps', label: 'Down (kbps)', hint: 'Empty: unlimited.' },
  { field: 'upKbps', label: 'Up (kbps)', hint: 'Empty: unlimited.' },
  { field: 'dropoutChancePercent', label: 'Drop-out chance (% a second)', hint: 'Empty: none.' },
  { field: 'stallMs', label: 'Drop-out length (ms)' },
];

/** This browser's network conditions, applied by the server to every lane alike. */
export function NetworkPicker({ disabled }: { disabled: boolean }) {
  const state = useStore(networkStore);
  useEffect(() => {
    void networkStore.getState().load();
  }, []);
  const parsed = parseCustom(state.custom);
  const errors = parsed.ok ? {} : parsed.errors;
  const busy = state.status === 'saving' || state.status === 'loading';
  const off = disabled || state.status === 'unsupported';
  const chosenPreset = state.choice === 'custom' ? undefined : NETWORK_PRESETS[state.choice];
  return (
    <fieldset className="network-picker" disabled={off} aria-describedby="network-where">
      <legend>Network</legend>
      <div className="field">
        <label htmlFor="network-choice">Conditions</label>
        <select
          id="network-choice"
          value={state.choice}
          onChange={(event) => void networkStore.getState().choose(event.currentTarget.value as Choice)}
        >
          {NETWORK_PRESET_IDS.map((id) => (
            <option key={id} value={id}>
              {NETWORK_PRESETS[id].label}
            </option>
          ))}
          <option value="custom">Custom…</option>
        </select>
      </div>
      {state.choice === 'custom' ? (
        <div className="fields">
          {CUSTOM_FIELDS.map(({ field, label, hint }) => (
            <TextField
              key={field}
              id={`network-${field}`}
              label={label}
              hint={hint}
              value={state.custom[field]}
              error={errors[field]}
              disabled={off}
              onChange={(value) => networkStore.getState().setCustomField(field, value)}
            />
          ))}
          <div className="actions">
            <button
              type="button"
              className="button"
              disabled={off || busy || !parsed.ok}
              onClick={() => void networkStore.getState().applyCustom()}
            >
              Apply network
            </button>
          </div>
        </div>
      ) : null}
      <p className="network-status" role="status" data-testid="network-status">
        {state.status === 'saving'
          ? 'Applying…'
          : state.error
            ? state.error
            : `Now: ${describeLink(state.current)}`}
      </p>
      {chosenPreset?.source ? (
        <p className="field-hint network-source" data-testid="network-source">
          Source:{' '}
          <a href={chosenPreset.source.url} target="_blank" rel="noreferrer">
            {chosenPreset.source.name}
          </a>
          . {chosenPreset.source.basis}
        </p>
      ) : null}
      <p id="network-where" className="field-hint">
        Where it acts: on the server's own sockets, for every connection from this browser — every lane's
        requests and answers, stream chunks, websocket frames, each new connection's handshake, and both
        webhook hops. The lab's own clock pings and counts go unshaped. Per packet, as a real link: a round
        trip here is a packet's. These are not DevTools' presets of the same names, which add one delay to
        each request instead (DevTools' "3G" adds 2 000 ms a request for a 400 ms packet round trip).
      </p>
    </fieldset>
  );
}
