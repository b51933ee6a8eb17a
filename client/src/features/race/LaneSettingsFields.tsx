import { LANES, type PublicSettings } from '@transport-lab/shared';
import { appStore } from '../../store/index.ts';
import type { LaneSettingErrors } from '../../store/settings-slice.ts';
import type { LaneSettingsInput } from '../../store/types.ts';
import { PUSH_LANES } from '../../transports/types.ts';
import { TextField } from './TextField.tsx';

/** The settings some lanes take: the short-polling interval, the long-poll hold, the hybrid's wait and push lane. */
export function LaneSettingsFields({
  input,
  errors,
  server,
  disabled,
}: {
  input: LaneSettingsInput;
  errors: LaneSettingErrors;
  server: PublicSettings | undefined;
  disabled: boolean;
}) {
  const { setLaneSetting, setHybridPushLane } = appStore.getState();
  return (
    <fieldset className="lane-settings" disabled={disabled}>
      <legend>Lane settings</legend>
      <div className="fields">
        <TextField
          id="lane-poll-interval"
          label="Poll interval (ms)"
          value={input.pollIntervalMs}
          placeholder="Retry-After"
          hint={
            server
              ? `Empty: the server's Retry-After (${Math.max(1, Math.ceil(server.pollIntervalMs / 1000))} s)`
              : "Empty: the server's Retry-After"
          }
          error={errors.pollIntervalMs}
          disabled={disabled}
          onChange={(value) => setLaneSetting('pollIntervalMs', value)}
        />
        <TextField
          id="lane-long-poll-wait"
          label="Long-poll wait (ms)"
          value={input.longPollWaitMs}
          error={errors.longPollWaitMs}
          disabled={disabled}
          onChange={(value) => setLaneSetting('longPollWaitMs', value)}
        />
        <TextField
          id="lane-hybrid-wait"
          label="Hybrid wait (s)"
          value={input.hybridWaitS}
          error={errors.hybridWaitS}
          disabled={disabled}
          onChange={(value) => setLaneSetting('hybridWaitS', value)}
        />
        <div className="field">
          <label htmlFor="lane-hybrid-push">Hybrid push lane</label>
          <select
            id="lane-hybrid-push"
            value={input.hybridPushLane}
            disabled={disabled}
            onChange={(event) => {
              const chosen = PUSH_LANES.find((lane) => lane === event.currentTarget.value);
              if (chosen) setHybridPushLane(chosen);
            }}
          >
            {PUSH_LANES.map((lane) => (
              <option key={lane} value={lane}>
                {LANES[lane].name}
              </option>
            ))}
          </select>
        </div>
      </div>
    </fieldset>
  );
}
