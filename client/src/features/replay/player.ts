import { setRaceClock } from '../../lib/race-clock.ts';
import { tickWithFrame } from '../../lib/ticker.ts';
import type { AppStore } from '../../store/index.ts';
import { type MomentCache, momentAt, type PreparedRecording } from './moment.ts';

/** How often a playing position is told to the banner, ms. */
const POSITION_TELL_MS = 100;

/** The speeds offered, × real time. */
export const REPLAY_SPEEDS = [0.25, 0.5, 1, 2, 4] as const;

export interface PlayerState {
  /** Ms since the race's start (recording page clock). */
  positionMs: number;
  playing: boolean;
  speed: number;
  /**
   * The frame time (`performance.now()` ms, an animation frame's timestamp) at which the playback
   * last started from `fromMs`: a moment recorded at position p is due on this page at
   * `startedAt + (p - fromMs) / speed`, and is shown in the first frame at or after that.
   */
  startedAt?: number;
  fromMs: number;
}

export interface Player {
  getState(): PlayerState;
  subscribe(listener: () => void): () => void;
  play(): void;
  pause(): void;
  seek(positionMs: number): void;
  setSpeed(speed: number): void;
  /** Takes the race clock and shows the recording's start. */
  start(): void;
  /** Stops the loop and hands the race clock back to the page. */
  dispose(): void;
}

/** What a playback plays: a race on the page's store, or a room's aggregate. */
export interface PlaybackSource {
  durationMs: number;
  /** Puts the recording at `positionMs` on the page (called in the frame that shows it). */
  show(positionMs: number): void;
  /** The playback takes the page (`start`) and hands it back (`stop`). */
  start?(positionOf: () => number): void;
  stop?(): void;
}

/** A race recording on the page's store (`showRecording`), with the race clock at its position. */
export function raceSource(rec: PreparedRecording, store: AppStore): PlaybackSource {
  const cache: MomentCache = new Map();
  let shown: ReturnType<typeof momentAt> | undefined;
  return {
    durationMs: rec.durationMs,
    show(positionMs) {
      // Unless nothing of the race changed since the last moment shown.
      const moment = momentAt(rec, positionMs, cache);
      const same =
        shown !== undefined &&
        shown.race.settled === moment.race.settled &&
        shown.log.faults.length === moment.log.faults.length &&
        rec.lanes.every((l) => shown?.race.lanes[l.id] === moment.race.lanes[l.id]);
      if (same) return;
      shown = moment;
      store.getState().showRecording(rec.info, moment);
    },
    start(positionOf) {
      shown = undefined;
      setRaceClock(() => rec.data.actionAt + positionOf());
    },
    stop() {
      setRaceClock(undefined);
    },
  };
}

/**
 * Plays a recording: in every animation frame while playing, the position is the frame's time since
 * the playback started × speed, and the recording as it was at that position is shown. A moment is
 * thus shown in the first frame whose position has reached it: at most one frame after its recorded
 * time ÷ speed.
 */
export function createPlayer(source: PlaybackSource): Player {
  let state: PlayerState = { positionMs: 0, playing: false, speed: 1, fromMs: 0 };
  const listeners = new Set<() => void>();
  let frame: number | undefined;

  /** When the banner last heard of the position (page clock, ms). */
  let toldAt = Number.NEGATIVE_INFINITY;
  /** The state as the banner last heard of it: what `getState` returns, changed only with a notice. */
  let told = state;
  const update = (next: Partial<PlayerState>) => {
    state = { ...state, ...next };
    told = state;
    toldAt = performance.now();
    for (const listener of listeners) listener();
  };

  const show = (positionMs: number) => source.show(positionMs);

  const loop = (frameAt: number) => {
    frame = undefined;
    if (!state.playing) return;
    const startedAt = state.startedAt ?? frameAt;
    const positionMs = Math.min(source.durationMs, state.fromMs + (frameAt - startedAt) * state.speed);
    const ended = positionMs >= source.durationMs;
    // The banner's readout and scrubber follow the position ten times a second, not in every frame:
    // re-laid out in every frame, they cost the frames that show the race.
    if (ended || state.startedAt === undefined || frameAt - toldAt >= POSITION_TELL_MS) {
      update({ positionMs, startedAt, playing: !ended });
    } else state = { ...state, positionMs, startedAt };
    show(positionMs);
    tickWithFrame();
    if (!ended) frame = requestAnimationFrame(loop);
  };

  const restart = () => {
    // The next frame is the new start: the position runs from here at the current speed.
    const { startedAt: _dropped, ...rest } = state;
    state = { ...rest, fromMs: state.positionMs };
    if (state.playing) frame ??= requestAnimationFrame(loop);
  };

  return {
    getState: () => told,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    play() {
      if (state.playing) return;
      const from = state.positionMs >= source.durationMs ? 0 : state.positionMs;
      state = { ...state, positionMs: from };
      update({ playing: true });
      restart();
    },
    pause() {
      if (!state.playing) return;
      if (frame !== undefined) cancelAnimationFrame(frame);
      frame = undefined;
      update({ playing: false });
    },
    seek(positionMs) {
      const clamped = Math.max(0, Math.min(source.durationMs, positionMs));
      update({ positionMs: clamped });
      restart();
      show(clamped);
    },
    setSpeed(speed) {
      update({ speed });
      restart();
    },
    start() {
      source.start?.(() => state.positionMs);
      show(state.positionMs);
      if (state.playing) restart();
    },
    dispose() {
      if (frame !== undefined) cancelAnimationFrame(frame);
      frame = undefined;
      source.stop?.();
    },
  };
}
