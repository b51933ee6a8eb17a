import { LANES } from '@transport-lab/shared';
import { useEffect, useId, useMemo, useSyncExternalStore } from 'react';
import { appStore } from '../../store/index.ts';
import { formatSeconds } from '../race/format.ts';
import type { PreparedRecording } from './moment.ts';
import { createPlayer, REPLAY_SPEEDS } from './player.ts';

/** "5 Dec 2026, 18:40:12 UTC": when the recording was made, with its time zone said. */
function madeWhen(epochMs: number): string {
  return new Date(epochMs).toLocaleString('en-GB', {
    dateStyle: 'medium',
    timeStyle: 'long',
    timeZone: 'UTC',
  });
}

function speedLabel(speed: number): string {
  return `${speed}×`;
}

interface Props {
  rec: PreparedRecording;
  onLeave(): void;
}

/**
 * The banner of a replay: that this is a recording, when and where it was made, and its playback
 * (play, pause, speed, a scrubber); "Back to live" leaves it. The cards, timeline and tables below
 * are the race page's own, fed by the player.
 */
export function ReplayView({ rec, onLeave }: Props) {
  const player = useMemo(() => createPlayer(rec, appStore), [rec]);
  useEffect(() => {
    player.start();
    return () => player.dispose();
  }, [player]);
  const state = useSyncExternalStore(player.subscribe, player.getState);
  const speedId = useId();
  const { data } = rec;
  // Intl's formatting is slow enough to matter in a banner rendered ten times a second.
  const made = useMemo(() => madeWhen(data.exportedAt), [data.exportedAt]);
  const lanes = data.settings.lanes.map((id) => LANES[id].name).join(', ');
  const at = formatSeconds(state.positionMs);
  const of = formatSeconds(rec.durationMs);

  return (
    <section
      className="replay-banner"
      aria-label="Recording"
      data-testid="replay-banner"
      data-playing={state.playing || undefined}
      data-speed={state.speed}
      data-from-ms={state.fromMs}
      data-started-at={state.startedAt}
      data-position-ms={state.positionMs.toFixed(1)}
      data-duration-ms={rec.durationMs.toFixed(1)}
    >
      <p className="replay-what">
        <strong>A recording, not live.</strong> This race was run on {made}
        {data.origin ? (
          <>
            {' '}
            at <span data-testid="replay-origin">{data.origin}</span>
          </>
        ) : (
          ' (where: not in this file)'
        )}
        : {data.settings.spec.durationMs} ms in {data.settings.spec.steps} steps over {lanes}. Every figure is
        the one recorded then; nothing here talks to a server.{' '}
        <span className="replay-source">Opened from {rec.info.source}.</span>
      </p>
      <div className="replay-controls">
        <button
          type="button"
          className="button primary"
          onClick={() => (state.playing ? player.pause() : player.play())}
        >
          {state.playing ? 'Pause' : 'Play'}
        </button>
        <label className="field replay-speed" htmlFor={speedId}>
          <span>Speed</span>
          <select
            id={speedId}
            value={state.speed}
            onChange={(e) => player.setSpeed(Number(e.currentTarget.value))}
          >
            {REPLAY_SPEEDS.map((speed) => (
              <option key={speed} value={speed}>
                {speedLabel(speed)}
              </option>
            ))}
          </select>
        </label>
        <input
          className="replay-scrubber"
          type="range"
          min={0}
          max={Math.ceil(rec.durationMs)}
          step={1}
          value={Math.round(state.positionMs)}
          aria-label="Position in the recording"
          aria-valuetext={`${at} of ${of}`}
          onChange={(e) => player.seek(Number(e.currentTarget.value))}
        />
        <span className="replay-position num" aria-hidden="true">
          {at} / {of}
        </span>
        <button type="button" className="button secondary" onClick={onLeave}>
          Back to live
        </button>
      </div>
    </section>
  );
}
