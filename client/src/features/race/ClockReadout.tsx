import { appStore, useAppStore } from '../../store/index.ts';
import { formatClock } from './format.ts';

/** The server-minus-client clock offset the metrics are corrected with, and how sure it is. */
export function ClockReadout() {
  const clock = useAppStore((s) => s.clock);
  // A replay shows the recording's own estimate: it cannot be measured again, and says so.
  const recorded = useAppStore((s) => s.race.recording !== undefined);
  const text =
    clock.estimate !== undefined
      ? formatClock(clock.estimate)
      : clock.status === 'error'
        ? `not measured (${clock.error ?? 'error'})`
        : 'measuring…';
  return (
    <div className="clock">
      <span className="clock-label">{recorded ? 'Recorded clock offset' : 'Server clock offset'}</span>{' '}
      <span
        className="num clock-value"
        data-testid="clock-offset"
        title={
          clock.estimate
            ? `Best of ${clock.estimate.samples} pings; round trip ${clock.estimate.rttMs.toFixed(1)} ms`
            : undefined
        }
      >
        {text}
      </span>{' '}
      <button
        type="button"
        className="button small"
        disabled={clock.status === 'measuring' || recorded}
        onClick={() => void appStore.getState().measureClock()}
      >
        Measure again
      </button>
    </div>
  );
}
