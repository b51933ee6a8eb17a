import { NETWORK_PRESETS } from '@transport-lab/shared';
import type { FormEvent } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/shallow';
import { clientTimeOfEvent } from '../../lib/time.ts';
import { appStore, useAppStore } from '../../store/index.ts';
import { networkStore } from '../../store/network-store.ts';
import { isRaceRunning } from '../../store/race-slice.ts';
import { parseLaneSettings, parseSpecInput } from '../../store/settings-slice.ts';
import type { SpecField } from '../../store/types.ts';
import { useRaceForControls } from '../../store/use-controls-race.ts';
import { NetworkPicker } from '../network/NetworkPicker.tsx';
import { LaneChoices } from './LaneChoices.tsx';
import { LaneSettingsFields } from './LaneSettingsFields.tsx';
import { TextField } from './TextField.tsx';
import { useFoldDuringRace } from './use-fold.ts';

/**
 * Start and Cancel, first, so that they are on the first screen whatever the settings' height; then
 * the task's shape and the lanes to race. While a race runs the settings fold into one line beside Start
 * and Cancel (they are disabled then anyway), so that the cards are on the first screen too.
 */
export function RaceControls() {
  const specInput = useAppStore((s) => s.specInput);
  const available = useAppStore((s) => s.availableLanes);
  const selected = useAppStore(useShallow((s) => s.selectedLanes));
  // The form follows a race's start a little later than the cards (use-controls-race.ts).
  const running = isRaceRunning(useRaceForControls().lanes);
  const laneSettingsInput = useAppStore((s) => s.laneSettingsInput);
  // A replay shows a recorded race: "Back to live" first, then Start.
  const replaying = useAppStore((s) => s.race.recording !== undefined);
  const server = useAppStore((s) => s.server.settings);
  const parsed = parseSpecInput(specInput);
  const errors = parsed.ok ? {} : parsed.errors;
  const laneSettings = parseLaneSettings(laneSettingsInput, server);
  const { setSpecField, setLaneSelected, requestStart, cancelRace } = appStore.getState();
  const fold = useFoldDuringRace(running);
  const network = useStore(networkStore, (s) => s.choice);
  const networkName = network === 'custom' ? 'custom' : NETWORK_PRESETS[network].label;

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    // Every lane leaves in the next animation frame, whose time is everyone's action time; the press
    // itself is kept for the record.
    requestStart({ pressedAt: clientTimeOfEvent(event.timeStamp) });
  };

  return (
    <form
      className="controls"
      data-folded={!fold.open || undefined}
      onSubmit={onSubmit}
      noValidate
      aria-label="Race settings"
    >
      <div className="actions">
        <button
          type="submit"
          className="button primary"
          disabled={running || replaying || !parsed.ok || !laneSettings.ok || selected.length === 0}
        >
          Start
        </button>
        <button type="button" className="button" disabled={!running || replaying} onClick={cancelRace}>
          Cancel
        </button>
        {selected.length === 0 ? <p className="hint">Choose at least one lane.</p> : null}
      </div>
      <details className="fold controls-fold" open={fold.open} onToggle={fold.onToggle}>
        <summary>
          <span className="fold-title">Settings</span>
          <span className="fold-summary" data-testid="settings-summary">
            {specInput.durationMs} ms, {specInput.steps} steps · {selected.length}{' '}
            {selected.length === 1 ? 'lane' : 'lanes'} · network: {networkName}
          </span>
        </summary>
        <div className="fields">
          <SpecInputField
            field="durationMs"
            label="Duration (ms)"
            value={specInput.durationMs}
            error={errors.durationMs}
            disabled={running}
            onChange={setSpecField}
          />
          <SpecInputField
            field="steps"
            label="Steps"
            value={specInput.steps}
            error={errors.steps}
            disabled={running}
            onChange={setSpecField}
          />
          <SpecInputField
            field="failAtStep"
            label="Fail at step (optional)"
            value={specInput.failAtStep}
            error={errors.failAtStep}
            disabled={running}
            onChange={setSpecField}
          />
        </div>

        <LaneSettingsFields
          input={laneSettingsInput}
          errors={laneSettings.ok ? {} : laneSettings.errors}
          server={server}
          disabled={running}
        />

        <NetworkPicker disabled={running} />

        <LaneChoices
          legend="Lanes"
          lanes={available}
          selected={selected}
          disabled={running}
          onToggle={setLaneSelected}
        />
      </details>
    </form>
  );
}

interface SpecInputFieldProps {
  field: SpecField;
  label: string;
  value: string;
  error: string | undefined;
  disabled: boolean;
  onChange(field: SpecField, value: string): void;
}

function SpecInputField({ field, label, value, error, disabled, onChange }: SpecInputFieldProps) {
  return (
    <TextField
      id={`spec-${field}`}
      label={label}
      value={value}
      error={error}
      disabled={disabled}
      onChange={(next) => onChange(field, next)}
    />
  );
}
