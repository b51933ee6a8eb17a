import {
  API_PATHS,
  DeliveriesResponse,
  type Fault,
  faultForRun,
  type LaneId,
  meanInformationAgeMs,
  RunTasksResponse,
  type SetLinkRequest,
} from '@transport-lab/shared';
import { createStore } from 'zustand/vanilla';
import { OBSERVATION } from '../../lib/observation.ts';
import { clientNow } from '../../lib/time.ts';
import { fetchWireReport } from '../../lib/wire-report.ts';
import { injectFault } from '../../services/faults-api.ts';
import { type AppStore, appStore } from '../../store/index.ts';
import { laneQueueMs } from '../../store/lane-reducer.ts';
import { laneMetrics } from '../../store/metrics.ts';
import { networkStore } from '../../store/network-store.ts';
import { isRaceRunning, randomRunId } from '../../store/race-slice.ts';
import { laneSettingsInputOf, specInputOf } from '../../store/room-slice.ts';
import type { AppState, StartOptions } from '../../store/types.ts';
import { serverPageCounts } from '../../store/wire-compare.ts';
import type { ProbeOutcome } from './checks-lessons.ts';
import { settledDeliveries } from './delivery-log.ts';
import { followRunner } from './outline.ts';
import { EXPIRING_TOKEN_TTL_MS, runExpiringToken, runRetriedPost } from './probes.ts';
import { isProductionProbe } from './production.ts';
import { runProductionProbe } from './production-runner.ts';
import {
  type LaneOutcome,
  laneSettingsOf,
  retakeNote,
  type Scenario,
  type ScenarioStep,
  type StepOutcome,
  shouldRetake,
  type Verdict,
} from './scenarios.ts';
import { deadSocketFigures, hiddenFigures, type SceneFigures } from './scene-figures.ts';
import { type VisibilityChange, visibilityChanges } from './visibility.ts';

/** A race that has not started this long after Start was asked for has failed to start, ms. */
const START_GUARD_MS = 5_000;
/** After every lane has ended, how long the byte counts may take to settle before they are read, ms. */
const SETTLE_WAIT_MS = 5_000;
/** The race a page runs, unmeasured, before its first scenario: every lane, 50 ms, one step. */
const WARM_UP_TASK = { durationMs: 50, steps: 1 } as const;
/** Once settled, how long the server's own count (`GET /api/wire/{runId}`) may take to come, ms. */
const WIRE_WAIT_MS = 5_000;

/** What one lane measured, read from the same figures the metrics table shows, and the server's count. */
export function laneOutcomeOf(state: Pick<AppState, 'race' | 'clock'>, id: LaneId): LaneOutcome | undefined {
  const lane = state.race.lanes[id];
  if (!lane) return undefined;
  const metrics = laneMetrics(lane, state.race.actionAt, state.clock.estimate);
  const estimate = state.clock.estimate;
  const informationAgeMs =
    estimate && lane.finishedShownAt !== undefined
      ? meanInformationAgeMs(lane.progressShown, lane.finishedShownAt, estimate.offsetMs)
      : undefined;
  const failedDeliveries = lane.deliveries?.deliveries.reduce(
    (sum, d) => sum + d.attempts.filter((a) => a.outcome !== 'delivered').length,
    0,
  );
  const wire = state.race.wire;
  const server = wire.status === 'ready' ? serverPageCounts(wire.report?.lanes[id]) : undefined;
  const pollErrors = lane.polls?.filter((p) => p.outcome === 'error').length;
  const queueMs = laneQueueMs(lane);
  return {
    status: lane.status,
    ...(lane.error ? { error: `${lane.error.code}: ${lane.error.message}` } : {}),
    ...(metrics.firstFeedbackMs !== undefined ? { firstFeedbackMs: metrics.firstFeedbackMs } : {}),
    ...(metrics.totalPerceivedMs !== undefined ? { totalPerceivedMs: metrics.totalPerceivedMs } : {}),
    ...(metrics.completionLagMs !== undefined ? { completionLagMs: metrics.completionLagMs } : {}),
    ...(metrics.staleness
      ? {
          stalenessMeanMs: metrics.staleness.meanMs,
          stalenessMedianMs: metrics.staleness.medianMs,
          stalenessMaxMs: metrics.staleness.maxMs,
        }
      : {}),
    ...(informationAgeMs !== undefined ? { informationAgeMs } : {}),
    requests: lane.wire.requests,
    ...(server ? { serverRequests: server.requests } : {}),
    ...(pollErrors !== undefined ? { pollErrors } : {}),
    ...(lane.wastedPolls !== undefined ? { wastedPolls: lane.wastedPolls } : {}),
    ...(lane.reconnects !== undefined ? { reconnects: lane.reconnects } : {}),
    ...(lane.wire.unmeasuredDown ? {} : { bytesDown: lane.wire.bytesDown }),
    ...(lane.wire.unmeasuredUp ? {} : { bytesUp: lane.wire.bytesUp }),
    eventsApplied: lane.eventsApplied,
    lastSeq: lane.lastSeq,
    progressUpdates: lane.progressShown.length,
    ...(lane.progressShown[0] && state.race.actionAt !== undefined
      ? { firstProgressMs: lane.progressShown[0].shownAt - state.race.actionAt }
      : {}),
    ...(failedDeliveries !== undefined ? { failedDeliveries } : {}),
    ...(lane.deliveries ? { deliveries: lane.deliveries.deliveries } : {}),
    notes: [...lane.notes],
    ...(lane.path ? { path: lane.path.kind } : {}),
    ...(lane.error ? { errorCode: lane.error.code } : {}),
    ...(queueMs !== undefined ? { queueMs } : {}),
    ...(lane.firstQueuePosition !== undefined ? { queuePosition: lane.firstQueuePosition } : {}),
  };
}

export interface ScenarioRunState {
  scenarioId: string | undefined;
  status: 'idle' | 'running' | 'done' | 'error';
  /** "Step 2 of 4: Interval 500 ms", or what went wrong. */
  detail: string;
  outcomes: StepOutcome[];
  verdict: Verdict | undefined;
  /** The race (`race.runId`) the last step ran: the cards outline the verdict's figures while it is shown. */
  raceRunId?: number;
}

export interface ScenarioDeps {
  app: AppStore;
  /** Applies the scenario's network (PUT /api/network/link); resolves to an error message or undefined. */
  setNetwork(request: SetLinkRequest): Promise<string | undefined>;
  injectFault(fault: Fault): Promise<{ kind: Fault['kind']; summary: string }>;
  setTimer(callback: () => void, ms: number): () => void;
  /** `GET /api/tasks/{id}/deliveries`, the lab's own observation; undefined when it could not be read. */
  fetchDeliveries(taskId: string): Promise<DeliveriesResponse | undefined>;
  /** Page time, ms: the clock `race.actionAt` is read on (`clientNow`). */
  now(): number;
  /** `GET /api/runs/{runId}/tasks`: each of the run's tasks with its lane, as the server holds it. */
  fetchRunTasks(runId: string): Promise<RunTasksResponse['tasks'] | undefined>;
  /** When the page was hidden (`visibility.ts`): the background-tab scene reads its race's share. */
  visibility(): readonly VisibilityChange[];
  /** Runs a step that is an experiment of the page's own requests (`probes.ts`), not a race. */
  runProbe(
    step: ScenarioStep & { probe: NonNullable<ScenarioStep['probe']> },
  ): Promise<{ probe: ProbeOutcome; faults: StepOutcome['faults'] }>;
}

/** Waits for the race Start asked for to begin, then for it to end and its counts to settle. */
function runRace(
  deps: ScenarioDeps,
  onStarted: (runTag: string) => void,
  options: StartOptions = {},
  { waitForWire = true }: { waitForWire?: boolean } = {},
): Promise<void> {
  const { app } = deps;
  const before = app.getState().race.runId;
  return new Promise((resolve, reject) => {
    let started = false;
    let settle: (() => void) | undefined;
    const done = (error?: Error) => {
      unsubscribe();
      guard();
      settle?.();
      if (error) reject(error);
      else resolve();
    };
    const check = (s: AppState) => {
      if (!started) {
        if (s.race.runId <= before || s.race.runTag === undefined) return;
        started = true;
        onStarted(s.race.runTag);
      }
      if (isRaceRunning(s.race.lanes)) return;
      // Settled, and the server's own count in (or given up on): a check may set the two side by side.
      const wired = !waitForWire || s.race.wire.status === 'ready' || s.race.wire.status === 'error';
      if (s.race.settled && wired) return done();
      settle ??= deps.setTimer(() => done(), s.race.settled ? WIRE_WAIT_MS : SETTLE_WAIT_MS + WIRE_WAIT_MS);
    };
    const unsubscribe = app.subscribe(check);
    const guard = deps.setTimer(() => {
      if (!started) done(new Error('the race did not start'));
    }, START_GUARD_MS);
    app.getState().requestStart(options);
  });
}

export function createScenarioRunner(deps: ScenarioDeps) {
  const store = createStore<ScenarioRunState>()(() => ({
    scenarioId: undefined,
    status: 'idle',
    detail: '',
    outcomes: [],
    verdict: undefined,
  }));

  async function run(scenario: Scenario): Promise<void> {
    if (store.getState().status === 'running' || isRaceRunning(deps.app.getState().race.lanes)) return;
    store.setState({
      scenarioId: scenario.id,
      status: 'running',
      detail: 'Setting up the network…',
      outcomes: [],
      verdict: undefined,
    });
    const failed = (detail: string) => store.setState({ status: 'error', detail });
    // A page's first race runs about twice as slow as later ones (its cards' first render, code run for
    // the first time): the page's own work, not the network's. A page that has not raced yet runs one
    // race it does not measure, on loopback, before the scenario sets its network (which closes every
    // connection, so the measured races still start cold).
    const first = scenario.steps.find((step) => !step.probe);
    if (deps.app.getState().race.runId === 0 && first) {
      store.setState({ detail: 'Warming the page up: one race it does not measure…' });
      const loopbackError = await deps.setNetwork({ preset: 'none' });
      if (loopbackError) return failed(`Could not set the network: ${loopbackError}`);
      deps.app.setState({
        specInput: specInputOf(WARM_UP_TASK),
        laneSettingsInput: laneSettingsInputOf(laneSettingsOf(first)),
        selectedLanes: first.lanes.filter((id) => deps.app.getState().availableLanes.includes(id)),
      });
      try {
        await runRace(deps, () => {}, {}, { waitForWire: false });
      } catch (error) {
        return failed(error instanceof Error ? error.message : String(error));
      }
      store.setState({ detail: 'Setting up the network…' });
    }
    const networkError = await deps.setNetwork(scenario.network);
    if (networkError) return failed(`Could not set the network: ${networkError}`);
    const outcomes: StepOutcome[] = [];
    /** What the verdict's why-line adds of the runner's own doing (a step raced again). */
    const notes: string[] = [];
    for (const [index, step] of scenario.steps.entries()) {
      store.setState({ detail: `Step ${index + 1} of ${scenario.steps.length}: ${step.label}` });
      if (step.probe) {
        let ran: Awaited<ReturnType<ScenarioDeps['runProbe']>>;
        try {
          ran = await deps.runProbe({ ...step, probe: step.probe });
        } catch (error) {
          return failed(error instanceof Error ? error.message : String(error));
        }
        outcomes.push({
          label: step.label,
          spec: step.spec,
          lanes: {},
          faults: ran.faults,
          probe: ran.probe,
        });
        store.setState({ outcomes: [...outcomes] });
        continue;
      }
      deps.app.setState({
        specInput: specInputOf(step.spec),
        laneSettingsInput: laneSettingsInputOf(laneSettingsOf(step)),
        selectedLanes: step.lanes.filter((id) => deps.app.getState().availableLanes.includes(id)),
      });
      /** One race of the step, its faults injected and its Cancel pressed as the step says. */
      const raceOnce = async () => {
        const faults: StepOutcome['faults'] = [];
        let stepRunTag: string | undefined;
        let cancelledAtMs: number | undefined;
        const timers: Array<() => void> = [];
        const injections: Array<Promise<void>> = [];
        // A fault the race's tasks must meet from their creation: applied, under the tag the race will
        // carry, before it starts.
        const namedRun = step.before?.length ? randomRunId() : undefined;
        for (const fault of namedRun ? (step.before ?? []) : []) {
          faults.push(await deps.injectFault(faultForRun(fault, namedRun as string)));
        }
        try {
          await runRace(
            deps,
            (runTag) => {
              stepRunTag = runTag;
              /** Runs `action` `afterMs` after Start and, with `whenReady`, once those lanes have had their first feedback and the margin more. */
              const schedule = (
                afterMs: number,
                whenReady: { lanes: LaneId[]; marginMs: number } | undefined,
                action: () => void,
              ) => {
                if (!whenReady) {
                  timers.push(deps.setTimer(action, afterMs));
                  return;
                }
                // Both: `afterMs` since Start, and the lanes' first feedback plus the margin.
                let waiting = 2;
                const one = () => {
                  waiting -= 1;
                  if (waiting === 0) action();
                };
                timers.push(deps.setTimer(one, afterMs));
                const ready = (s: AppState) =>
                  whenReady.lanes.every((id) => s.race.lanes[id]?.firstFeedbackAt !== undefined);
                const onReady = () => timers.push(deps.setTimer(one, whenReady.marginMs));
                if (ready(deps.app.getState())) onReady();
                else {
                  const unsubscribe = deps.app.subscribe((s) => {
                    if (!ready(s)) return;
                    unsubscribe();
                    onReady();
                  });
                  timers.push(unsubscribe);
                }
              };
              if (step.cancel) {
                schedule(step.cancel.afterMs, step.cancel.whenReady, () => {
                  const { actionAt } = deps.app.getState().race;
                  if (actionAt !== undefined) cancelledAtMs = deps.now() - actionAt;
                  deps.app.getState().cancelRace();
                });
              }
              for (const { afterMs, fault, whenReady } of step.faults ?? []) {
                const inject = () =>
                  injections.push(
                    deps.injectFault(faultForRun(fault, runTag)).then(
                      (record) => void faults.push(record),
                      (error: unknown) => {
                        faults.push({
                          kind: fault.kind,
                          summary: `not injected: ${error instanceof Error ? error.message : String(error)}`,
                        });
                      },
                    ),
                  );
                schedule(afterMs, whenReady, inject);
              }
            },
            { ...(scenario.coldStart ? { cold: true } : {}), ...(namedRun ? { runTag: namedRun } : {}) },
          );
        } finally {
          for (const cancel of timers) cancel();
        }
        await Promise.all(injections);
        return { faults, stepRunTag, cancelledAtMs };
      };
      let ran: Awaited<ReturnType<typeof raceOnce>>;
      const spoiled: number[] = [];
      try {
        ran = await raceOnce();
        for (;;) {
          const busy = deps.app.getState().race.pageBusy?.longestFrameMs;
          if (!shouldRetake(step, busy, spoiled.length)) break;
          spoiled.push(busy ?? 0);
          store.setState({
            detail: `Step ${index + 1} of ${scenario.steps.length} again: the page itself was busy (a frame of ${Math.round(busy ?? 0)} ms)`,
          });
          ran = await raceOnce();
        }
      } catch (error) {
        return failed(error instanceof Error ? error.message : String(error));
      }
      const { faults, stepRunTag, cancelledAtMs } = ran;
      notes.push(retakeNote(step.label, spoiled));
      const state = deps.app.getState();
      const lanes: StepOutcome['lanes'] = {};
      for (const id of step.lanes) {
        const outcome = laneOutcomeOf(state, id);
        if (outcome) lanes[id] = outcome;
      }
      const webhook = state.race.lanes.webhook;
      if (lanes.webhook && webhook?.taskId) {
        const log = await settledDeliveries(
          () => deps.fetchDeliveries(webhook.taskId as string),
          (ms) => new Promise<void>((resolve) => deps.setTimer(resolve, ms)),
          webhook.deliveries,
        );
        if (log) lanes.webhook = { ...lanes.webhook, deliveries: log.deliveries };
      }
      // A cancelled race: what became of each task on the server, the blocking call's included.
      const serverTasks =
        step.cancel && stepRunTag !== undefined ? await deps.fetchRunTasks(stepRunTag) : undefined;
      // A production scene's figures, from the race's timeline log (and the page's visibility record).
      let scene: SceneFigures | undefined;
      if (step.observe === 'dead-socket')
        scene = {
          deadSocket: deadSocketFigures(state.raceLog(), 'websocket', state.clock.estimate?.offsetMs),
        };
      if (step.observe === 'background-tab')
        scene = { hidden: hiddenFigures(state.raceLog(), step.lanes, deps.visibility(), deps.now()) };
      outcomes.push({
        label: step.label,
        ...(step.x !== undefined ? { x: step.x } : {}),
        spec: step.spec,
        lanes,
        faults,
        ...(cancelledAtMs !== undefined ? { cancelledAtMs } : {}),
        ...(serverTasks ? { serverTasks } : {}),
        ...(scene ? { scene } : {}),
      });
      store.setState({ outcomes: [...outcomes] });
    }
    const settings = deps.app.getState().server.settings;
    const checked = scenario.check(
      outcomes,
      settings
        ? {
            webhookScheduleScale: settings.webhookScheduleScale,
            syncTimeoutMs: settings.syncTimeoutMs,
            ...(settings.socketHeartbeat ? { socketHeartbeat: settings.socketHeartbeat } : {}),
          }
        : {},
    );
    const verdict = { ...checked, why: `${checked.why}${notes.join('')}` };
    store.setState({
      status: 'done',
      detail: verdict.ok ? 'As expected.' : 'Not as expected.',
      verdict,
      raceRunId: deps.app.getState().race.runId,
    });
  }

  return { store, run };
}

export const scenarioRunner = createScenarioRunner({
  app: appStore,
  async setNetwork(request) {
    const network = networkStore.getState();
    if ('preset' in request) await network.choose(request.preset);
    else await network.applyProfile(request.custom);
    const after = networkStore.getState();
    if (after.status === 'unsupported')
      return 'preset' in request && request.preset === 'none' ? undefined : after.error;
    return after.status === 'error' ? after.error : undefined;
  },
  async injectFault(fault) {
    const record = await injectFault(fault);
    return { kind: record.fault.kind, summary: record.summary };
  },
  setTimer(callback, ms) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
  async fetchDeliveries(taskId) {
    try {
      const response = await fetch(API_PATHS.deliveries(taskId), OBSERVATION);
      const parsed = DeliveriesResponse.safeParse(await response.json());
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  },
  now: clientNow,
  visibility: visibilityChanges,
  async fetchRunTasks(runId) {
    try {
      const response = await fetch(API_PATHS.runTasks(runId), OBSERVATION);
      const parsed = RunTasksResponse.safeParse(await response.json());
      return parsed.success ? parsed.data.tasks : undefined;
    } catch {
      return undefined;
    }
  },
  async runProbe(step) {
    if (isProductionProbe(step.probe)) return runProductionProbe(step.probe);
    if (step.probe === 'attack-webhooks') {
      // The race before this step made the webhook task: its run and task are the page's to attack.
      const { race } = appStore.getState();
      const taskId = race.lanes.webhook?.taskId;
      if (race.runTag === undefined || taskId === undefined)
        throw new Error('the race before the attack made no webhook task');
      const record = await injectFault({ kind: 'attack-webhooks', runId: race.runTag, taskId });
      return {
        probe: { attacks: record.webhookAttacks ?? [] },
        faults: [{ kind: record.fault.kind, summary: record.summary }],
      };
    }
    if (step.probe === 'expiring-token') {
      const token = await runExpiringToken(
        {
          fetch: (input, init) => fetch(input, init),
          wireReport: (runId) => fetchWireReport(runId),
          newRunId: randomRunId,
          openEventSource: (url) => new EventSource(url),
          now: () => performance.now(),
          setTimer(callback, ms) {
            const timer = setTimeout(callback, ms);
            return () => clearTimeout(timer);
          },
        },
        step.spec,
        EXPIRING_TOKEN_TTL_MS,
      );
      return { probe: { token }, faults: [] };
    }
    const { trials, faults } = await runRetriedPost(
      {
        fetch: (input, init) => fetch(input, init),
        injectFault,
        wireReport: (runId) => fetchWireReport(runId),
        newRunId: randomRunId,
        newKey: () => crypto.randomUUID(),
      },
      step.spec,
    );
    return { probe: { retries: trials }, faults };
  },
});

// The cards outline what the verdict read (outline.ts); they load before the scenarios do.
followRunner(scenarioRunner.store);
