import { LANES } from '@transport-lab/shared';
import { type ReactNode, useEffect, useId, useMemo, useSyncExternalStore } from 'react';
import { appStore } from '../../store/index.ts';
import { formatSeconds } from '../race/format.ts';
import type { PreparedRecording } from './moment.ts';
import { createPlayer, type PlaybackSource, type Player, REPLAY_SPEEDS, raceSource } from './player.ts';

/** "5 Dec 2026, 18:40:12 UTC": when the recording was made, with its time zone said. */
export function madeWhen(epochMs: number): string {
  return new Date(epochMs).toLocaleString('en-GB', {
    dateStyle: 'medium',
    timeStyle: 'long',
    timeZone: 'UTC',
  });
}

function speedLabel(speed: number): string {
  return `${speed}×`;
}

/** A player for `source`, made once per source, that has the page while mounted. */
export function usePlayer(makeSource: () => PlaybackSource, key: unknown): Player {
  // biome-ignore lint/correctness/useExhaustiveDependencies: one player per recording (`key`)
  const player = useMemo(() => createPlayer(makeSource()), [key]);
  useEffect(() => {
    player.start();
    return () => player.dispose();
  }, [player]);
  return player;
}

interface BannerProps {
  player: Player;
  durationMs: number;
  /** What the recording is: when, where, what ran. */
  children: ReactNode;
  source: string;
  onLeave(): void;
}

/**
 * The banner of a replay: that this is a recording, when and where it was made, and its playback
 * (play, pause, speed, a scrubber); "Back to live" leaves it.
 */
export function ReplayBanner({ player, durationMs, children, source, onLeave }: BannerProps) {
  const state = useSyncExternalStore(player.subscribe, player.getState);
  const speedId = useId();
  const at = formatSeconds(state.positionMs);
  const of = formatSeconds(durationMs);
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
      data-duration-ms={durationMs.toFixed(1)}
    >
      <p className="replay-what">
        <strong>A recording, not live.</strong> {children} Every figure is the one recorded then; nothing here
        talks to a server. <span className="replay-source">Opened from {source}.</span>
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
          max={Math.ceil(durationMs)}
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

/** Where a recording was made, when its file says. */
export function MadeWhere({ origin }: { origin: string | undefined }) {
  return origin ? (
    <>
      {' '}
      at <span data-testid="replay-origin">{origin}</span>
    </>
  ) : (
    ' (where: not in this file)'
  );
}

interface Props {
  rec: PreparedRecording;
  onLeave(): void;
}

/** A race's replay: the banner; the cards, timeline and tables below are the race page's own. */
export function ReplayView({ rec, onLeave }: Props) {
  const player = usePlayer(() => raceSource(rec, appStore), rec);
  const { data } = rec;
  // Intl's formatting is slow enough to matter in a banner rendered ten times a second.
  const made = useMemo(() => madeWhen(data.exportedAt), [data.exportedAt]);
  const lanes = data.settings.lanes.map((id) => LANES[id].name).join(', ');
  return (
    <ReplayBanner player={player} durationMs={rec.durationMs} source={rec.info.source} onLeave={onLeave}>
      This race was run on {made}
      <MadeWhere origin={data.origin} />: {data.settings.spec.durationMs} ms in {data.settings.spec.steps}{' '}
      steps over {lanes}.
    </ReplayBanner>
  );
}
