import {
  DEFAULT_PROXY_BUFFER_BYTES,
  type Fault,
  LANE_IDS,
  LANES,
  type LaneId,
  toClientTime,
} from '@transport-lab/shared';
import { type CSSProperties, useEffect, useMemo, useState } from 'react';
import { clientNow } from '../../lib/time.ts';
import { fetchFaults, injectFault } from '../../services/faults-api.ts';
import { appStore, useAppStore } from '../../store/index.ts';
import { isRaceRunning } from '../../store/race-slice.ts';
import { useRaceForControls } from '../../store/use-controls-race.ts';
import { formatMs } from '../race/format.ts';
import { useFoldDuringRace } from '../race/use-fold.ts';

/** The longest stall the contract allows, ms. */
const MAX_STALL_MS = 120_000;

/** A fault as a button: what it sends (the run id filled in at the click) and what it says. */
interface FaultButton {
  key: string;
  label: string;
  /** What it will do, for the button's description. */
  detail: string;
  fault(runId: string): Fault;
  /** Only useful when this lane races. */
  needs?: LaneId;
}

function raceFaults(syncTimeoutMs: number | undefined): FaultButton[] {
  // Long enough that a blocking call started with the race passes its sync timeout.
  const stallMs = Math.min(MAX_STALL_MS, syncTimeoutMs ?? 30_000);
  return [
    {
      key: 'restart',
      label: 'Restart server',
      detail: 'Ends the server process mid-task; its supervisor starts it again and the tasks resume.',
      fault: (runId) => ({ kind: 'restart-server', runId }),
    },
    {
      key: 'slow',
      label: `Slow downstream (${stallMs / 1_000} s)`,
      detail: `The tasks make no progress for ${stallMs / 1_000} s: the blocking call reaches its sync timeout.`,
      fault: (runId) => ({ kind: 'slow-downstream', runId, stallMs }),
    },
    {
      key: 'r500',
      label: 'Receiver 500 ×3',
      detail: 'The webhook receiver answers the next 3 deliveries 500.',
      fault: (runId) => ({ kind: 'receiver', runId, mode: 'fail-500', count: 3 }),
      needs: 'webhook',
    },
    {
      key: 'rtimeout',
      label: 'Receiver times out ×1',
      detail: 'The webhook receiver never answers the next delivery: the attempt times out.',
      fault: (runId) => ({ kind: 'receiver', runId, mode: 'timeout', count: 1 }),
      needs: 'webhook',
    },
    {
      key: 'r429',
      label: 'Receiver 429 ×2',
      detail: 'The webhook receiver answers the next 2 deliveries 429 with Retry-After: 2.',
      fault: (runId) => ({ kind: 'receiver', runId, mode: 'throttle-429', retryAfterS: 2, count: 2 }),
      needs: 'webhook',
    },
    {
      key: 'r503',
      label: 'Receiver 503 ×2',
      detail: 'The webhook receiver answers the next 2 deliveries 503 with Retry-After: 2.',
      fault: (runId) => ({ kind: 'receiver', runId, mode: 'unavailable-503', retryAfterS: 2, count: 2 }),
      needs: 'webhook',
    },
  ];
}

/**
 * Re-renders when the race log's faults change (they live there, not in React state): not on every
 * batch of events the log records, which would render the whole panel again in every frame of a race.
 */
function useRaceLogFaults(): void {
  const [, setSeen] = useState<unknown>(undefined);
  useEffect(() => {
    const faultsOf = () => {
      const log = appStore.getState().raceLog();
      return `${log.runId}:${log.faults.length}`;
    };
    let seen = faultsOf();
    return appStore.getState().subscribeRaceLog(() => {
      const now = faultsOf();
      if (now === seen) return;
      seen = now;
      setSeen(now);
    });
  }, []);
}

/**
 * One click per fault during a race (issue 5, item 2): drop one lane's connections, restart the
 * server, make the webhook receiver fail, stall the downstream, buffer the event streams. Each fault
 * the server applied goes into the race log (the timeline marks it where it happened, the export
 * keeps it) and is announced. Disabled when no race runs, or when the server has faults off.
 */
export function FaultPanel() {
  // The panel follows a race's start a little later than the cards (use-controls-race.ts): its
  // buttons are no lane's feedback, and a race's first frames are the lanes'.
  const race = useRaceForControls();
  const { runTag, settled } = race;
  const running = isRaceRunning(race.lanes);
  const lanes = useMemo(() => LANE_IDS.filter((id) => race.lanes[id] !== undefined), [race.lanes]);
  const settings = useAppStore((s) => s.server.settings);
  const offsetMs = useAppStore((s) => s.clock.estimate?.offsetMs);
  const [pending, setPending] = useState<string | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  useRaceLogFaults();
  const fold = useFoldDuringRace(running);
  const log = appStore.getState().raceLog();

  // Once the race has settled, the server's list of the run's faults: those the page did not inject
  // itself (a scenario's, a restart from elsewhere) join the timeline too.
  useEffect(() => {
    if (!settled || runTag === undefined) return;
    let stale = false;
    fetchFaults(runTag).then(
      (records) => {
        if (stale) return;
        for (const record of records) appStore.getState().recordFault(runTag, record, clientNow());
      },
      () => undefined, // the list is extra; the page already has its own faults
    );
    return () => {
      stale = true;
    };
  }, [settled, runTag]);

  // A new race starts with no problem shown.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset per race
  useEffect(() => setProblem(undefined), [runTag]);

  const off = settings?.faults === 'off';
  const disabled = !running || off || runTag === undefined;
  const buffering = (() => {
    const last = log.faults.filter((f) => f.record.fault.kind === 'buffer-streams').at(-1)?.record.fault;
    return last?.kind === 'buffer-streams' && last.on;
  })();

  const send = async (key: string, fault: Fault) => {
    if (runTag === undefined) return;
    setPending(key);
    setProblem(undefined);
    try {
      const record = await injectFault(fault);
      appStore.getState().recordFault(runTag, record, clientNow());
    } catch (error) {
      setProblem(`The fault was not applied: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      setPending(undefined);
    }
  };

  const actionAt = log.actionAt ?? 0;
  const placed = log.faults
    .map(({ record, receivedAt }) => ({
      record,
      atMs: (offsetMs === undefined ? receivedAt : toClientTime(record.at, offsetMs)) - actionAt,
    }))
    .sort((a, b) => a.atMs - b.atMs);

  return (
    <section
      className="faults"
      aria-labelledby="faults-title"
      data-testid="faults"
      data-folded={!fold.open || undefined}
    >
      <details className="fold" open={fold.open} onToggle={fold.onToggle}>
        <summary>
          <h2 id="faults-title" className="section-title fold-title">
            Faults
          </h2>
          <span className="fold-summary">
            {placed.length === 0
              ? running
                ? 'none injected yet'
                : 'during a race'
              : `${placed.length} injected`}
          </span>
        </summary>
        <p className="hint" id="faults-hint">
          {off
            ? 'Fault injection is turned off on this server (FAULTS=off).'
            : running
              ? 'One click each; every fault is marked on the timeline where it happened.'
              : 'Start a race to inject faults into it.'}
        </p>
        <div className="fault-groups">
          <fieldset className="fault-group">
            <legend className="fault-group-title">Drop a lane's connections</legend>
            {lanes.map((lane) => (
              <button
                key={lane}
                type="button"
                className="button small fault-lane"
                style={{ '--lane-color': LANES[lane].color } as CSSProperties}
                disabled={disabled || pending !== undefined}
                aria-describedby="faults-hint"
                title={`Destroys every TCP connection the ${LANES[lane].name} lane of this race uses now.`}
                onClick={() =>
                  runTag && void send(`drop-${lane}`, { kind: 'drop-connections', runId: runTag, lane })
                }
              >
                <span className="lane-mark" aria-hidden="true">
                  {LANES[lane].mark}
                </span>{' '}
                Drop {LANES[lane].name} connections
              </button>
            ))}
          </fieldset>
          <fieldset className="fault-group">
            <legend className="fault-group-title">Server, webhook receiver, proxy</legend>
            {raceFaults(settings?.syncTimeoutMs).map((button) => (
              <button
                key={button.key}
                type="button"
                className="button small"
                disabled={
                  disabled ||
                  pending !== undefined ||
                  (button.needs !== undefined && !lanes.includes(button.needs))
                }
                title={button.detail}
                aria-describedby="faults-hint"
                onClick={() => runTag && void send(button.key, button.fault(runTag))}
              >
                {button.label}
              </button>
            ))}
            <button
              type="button"
              className="button small"
              aria-pressed={buffering}
              disabled={disabled || pending !== undefined}
              title={`A proxy that buffers: the event streams are held until ${DEFAULT_PROXY_BUFFER_BYTES} bytes or their end.`}
              aria-describedby="faults-hint"
              onClick={() =>
                runTag && void send('buffer', { kind: 'buffer-streams', runId: runTag, on: !buffering })
              }
            >
              Buffering proxy
            </button>
          </fieldset>
        </div>
        {problem ? (
          <p className="fault-problem" role="alert">
            {problem}
          </p>
        ) : null}
        {placed.length > 0 ? (
          <ol className="fault-list num" aria-label="Faults injected in this race" data-testid="fault-list">
            {placed.map(({ record, atMs }) => (
              <li key={record.id}>
                <span className="fault-time">{formatMs(atMs)}</span> {record.summary}
              </li>
            ))}
          </ol>
        ) : null}
      </details>
    </section>
  );
}
