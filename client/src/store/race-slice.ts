import { type LaneId, newTraceId } from '@transport-lab/shared';
import type { LaneRun, TransportClient } from '../transports/types.ts';
import { createFrameBatcher } from './frame-batcher.ts';
import { appendTo, applyReport, completionMessage, draftOf, runningLane } from './lane-reducer.ts';
import { createRaceLog, type RaceLog, recordReport } from './race-log.ts';
import { parseLaneSettings, parseSpecInput } from './settings-slice.ts';
import type {
  LaneReportItem,
  LaneRunState,
  RaceSlice,
  SliceCreator,
  StoreDeps,
  WireReportState,
} from './types.ts';

/** 32 random hex digits: a `RunId` from `getRandomValues`, which exists where `randomUUID` may not (plain http). */
export function randomRunId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(
    '',
  );
}

/** The longest a race's start waits for the first answer before it is rendered without one, ms. */
export const START_RENDER_WAIT_MS = 100;

/** An answer from the server that a card shows as feedback: a task state, an event, its error. */
function isServerFeedback({ report }: LaneReportItem): boolean {
  return (
    report.type === 'task' || report.type === 'event' || (report.type === 'error' && report.error.fromServer)
  );
}

/** The server may still hold some of a run's exchanges open (a socket closing): ask again this often. */
export const WIRE_REPORT_TRIES = 8;
export const WIRE_REPORT_RETRY_MS = 500;

/** What a lane's start threw, as the error on its card. */
function startError(error: unknown) {
  return {
    code: 'CLIENT',
    message: `The lane could not start: ${error instanceof Error ? error.message : String(error)}`,
    fromServer: false,
  };
}

function sameLanes(a: readonly LaneId[], b: readonly LaneId[]): boolean {
  return a.length === b.length && a.every((id, i) => b[i] === id);
}

export function isRaceRunning(lanes: Partial<Record<LaneId, LaneRunState>>): boolean {
  return Object.values(lanes).some((lane) => lane?.status === 'running');
}

export const createRaceSlice =
  (deps: StoreDeps): SliceCreator<RaceSlice> =>
  (set, get) => {
    /** Live runs: handles to cancel or recover them. Not state: nothing on screen depends on them. */
    const runs = new Map<LaneId, LaneRun>();
    let announcementId = 0;
    /** While a start's render is held: until when at most (page clock). */
    let startHeldUntil: number | undefined;
    const batcher = createFrameBatcher<LaneReportItem>(deps.schedule, (items) => {
      if (items.length > 0) get().applyReports(items, deps.now());
      deps.onFrame?.();
      if (startHeldUntil === undefined) return;
      // The start's render comes with the first batch that carries a server's answer to this race,
      // or once the wait is over; meanwhile each frame looks again.
      const { runId } = get().race;
      if (
        items.some((item) => item.runId === runId && isServerFeedback(item)) ||
        deps.now() >= startHeldUntil
      ) {
        startHeldUntil = undefined;
        deps.renderGate?.release();
      } else batcher.wake();
    });

    let log: RaceLog = createRaceLog(0, undefined, []);
    const logListeners = new Set<() => void>();
    const logChanged = () => {
      for (const listener of logListeners) listener();
    };
    /** A start asked for and waiting for its frame: a second press meanwhile is the same start. */
    let startPending = false;
    /**
     * The next race's tag, when a lane opened its connection for it ahead of the race
     * (`preconnect`), with the network conditions it was opened under: a race adopts it only under
     * the same conditions, or it would carry on under the old ones.
     */
    let ahead: { runTag: string; epoch: string } | undefined;
    const epochNow = () => (deps.connectionEpoch ? deps.connectionEpoch() : '');
    /** The clients that can connect ahead, among those a race of `ids` would run. */
    const preconnecting = (ids: readonly LaneId[]) =>
      ids
        .map((id) => deps.registry.get(id))
        .filter((client): client is TransportClient => client?.preconnect !== undefined);

    return {
      race: { runId: 0, lanes: {}, announcements: [], settled: true, wire: { status: 'idle' } },

      requestStart(options = {}) {
        if (startPending || get().race.recording || isRaceRunning(get().race.lanes)) return;
        startPending = true;
        const startFrame =
          deps.startFrame ?? ((callback: (at: number) => void) => deps.schedule(() => callback(deps.now())));
        startFrame((frameAt) => {
          startPending = false;
          get().startRace(frameAt, options);
        });
      },

      prepareNextRace() {
        const epoch = epochNow();
        // A replay neither races nor connects: the server may be gone (that is what replays are for).
        if (epoch === undefined || startPending || get().race.recording || isRaceRunning(get().race.lanes))
          return;
        const clients = preconnecting(get().selectedLanes);
        if (clients.length === 0) return;
        const usable =
          ahead !== undefined &&
          ahead.epoch === epoch &&
          clients.every((client) => client.preconnected?.()?.runId === ahead?.runTag);
        if (usable) return;
        ahead = { runTag: (deps.newRunId ?? randomRunId)(), epoch };
        for (const client of clients) client.preconnect?.({ lane: client.id, runId: ahead.runTag });
      },

      startRace(actionAt = deps.now(), options = {}) {
        const state = get();
        if (state.race.recording || isRaceRunning(state.race.lanes)) return;
        const parsed = parseSpecInput(state.specInput);
        if (!parsed.ok) return;
        const server = state.server.settings;
        const laneSettings = parseLaneSettings(state.laneSettingsInput, server);
        if (!laneSettings.ok) return;
        const runOptions = { settings: laneSettings.settings, ...(server ? { server } : {}) };
        const ids = options.only ? [options.only] : state.selectedLanes;
        const clients = ids
          .map((id) => deps.registry.get(id))
          .filter((client): client is TransportClient => client !== undefined);
        if (clients.length === 0) return;
        // The race takes the tag a lane connected ahead for, if that lane runs in it and its connection
        // is still good under the same conditions; a race without it keeps it for a later one.
        const early = preconnecting(ids);
        const adopt =
          !options.cold &&
          options.runTag === undefined &&
          ahead !== undefined &&
          ahead.epoch === epochNow() &&
          early.length > 0 &&
          early.every((client) => client.preconnected?.()?.runId === ahead?.runTag);
        const runTag = options.runTag ?? (adopt && ahead ? ahead.runTag : (deps.newRunId ?? randomRunId)());
        if (early.length > 0) ahead = undefined;

        const runId = state.race.runId + 1;
        runs.clear();
        // The start frame sends every lane's first request and renders nothing: the page's render of
        // the start (every card reset, the form disabled, their layout and paint) waits for the frame
        // that applies the first answer from the server, and comes in one render with it and with what
        // the lanes said meanwhile, or START_RENDER_WAIT_MS after the start if none has come by then.
        // Rendered first, it kept those answers waiting behind it: they reach the page within a few ms
        // of being sent, and were handled only once the start had been laid out and painted (measured:
        // 17 ms of main-thread time at 1x, 80 at 4x, where the answers then also waited for the body
        // of each response). Nothing is timed differently: a lane's first feedback is the frame that
        // applied its answer, as before; that frame now also carries the start's render.
        deps.renderGate?.hold();
        startHeldUntil = actionAt + START_RENDER_WAIT_MS;
        const lanes: Partial<Record<LaneId, LaneRunState>> = {};
        // One trace per lane's task, chosen here, so that the card shows it before the server answers.
        const traceIds = new Map(clients.map((client) => [client.id, (deps.newTraceId ?? newTraceId)()]));
        for (const client of clients)
          lanes[client.id] = { ...runningLane(), traceId: traceIds.get(client.id) };
        set({
          race: {
            runId,
            actionAt,
            lanes,
            announcements: [],
            settled: false,
            runTag,
            wire: { status: 'idle' },
            settings: {
              spec: parsed.spec,
              lanes: clients.map((client) => client.id),
              laneSettings: laneSettings.settings,
              view: state.viewMode,
            },
            ...(options.pressedAt !== undefined ? { pressedAt: options.pressedAt } : {}),
            ...(options.only ? { alone: options.only } : {}),
          },
        });
        // Its listeners (the timeline, the fault panel) hear of the new log with the first batch.
        log = createRaceLog(
          runId,
          actionAt,
          clients.map((client) => client.id),
        );

        // Every lane leaves in this same tick (the fair start's frame), so that none has a head start;
        // a lane whose start throws is marked on its own card and the others go on.
        const settling: Array<Promise<void>> = [];
        for (const client of clients) {
          const report = (r: LaneReportItem['report']) => batcher.push({ runId, lane: client.id, report: r });
          try {
            const run = client.run(parsed.spec, report, {
              ...runOptions,
              tag: { lane: client.id, runId: runTag },
              traceId: traceIds.get(client.id),
            });
            runs.set(client.id, run);
            settling.push(run.done);
          } catch (error) {
            report({ type: 'error', error: startError(error), at: deps.now() });
          }
        }
        batcher.wake();
        void Promise.allSettled(settling).then(() => {
          const { race } = get();
          if (race.runId !== runId) return;
          const pageBusy = deps.pageBusy?.between(actionAt, deps.now());
          set({ race: { ...race, settled: true, ...(pageBusy ? { pageBusy } : {}) } });
          void get().loadWireReport();
          get().prepareNextRace();
        });
      },

      async loadWireReport() {
        const { race } = get();
        const { runTag, runId } = race;
        if (!deps.loadWireReport || runTag === undefined || !race.settled || race.recording) return;
        const setWire = (wire: WireReportState) => {
          const current = get().race;
          if (current.runId === runId) set({ race: { ...current, wire } });
        };
        setWire({ status: 'loading' });
        const wait = deps.wait ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
        try {
          for (let attempt = 1; ; attempt++) {
            const report = await deps.loadWireReport(runTag);
            const final = report.openStreams === 0;
            if (final || attempt >= WIRE_REPORT_TRIES) {
              setWire({ status: 'ready', report, final });
              return;
            }
            await wait(WIRE_REPORT_RETRY_MS);
          }
        } catch (error) {
          setWire({ status: 'error', error: error instanceof Error ? error.message : String(error) });
        }
      },

      raceLog: () => log,

      subscribeRaceLog(listener) {
        logListeners.add(listener);
        return () => logListeners.delete(listener);
      },

      cancelRace() {
        const { lanes } = get().race;
        for (const [id, run] of runs) if (lanes[id]?.status === 'running') run.cancel();
      },

      recoverLane(id) {
        const { race } = get();
        if (!race.recording && race.lanes[id]?.status === 'error') void runs.get(id)?.recover?.();
      },

      showRecording(info, moment) {
        const state = get();
        // The first moment of a recording is a race of its own: a live run's late reports are ignored.
        const runId = state.race.recording?.runTag === info.runTag ? state.race.runId : state.race.runId + 1;
        if (runId !== state.race.runId) {
          // A live race still running is cancelled: its lanes would go on using the network unseen.
          for (const [id, run] of runs) if (state.race.lanes[id]?.status === 'running') run.cancel();
          runs.clear();
        }
        log = { ...moment.log, runId, version: log.version + 1 };
        const lanes = moment.race.settings?.lanes ?? state.selectedLanes;
        set({
          race: { ...moment.race, runId, recording: info },
          // The same estimate keeps the same clock state: what follows the clock does not render again.
          ...(state.clock.estimate === moment.clock && state.race.recording
            ? {}
            : { clock: moment.clock ? { status: 'ready', estimate: moment.clock } : { status: 'idle' } }),
          ...(sameLanes(lanes, state.selectedLanes) ? {} : { selectedLanes: [...lanes] }),
        });
        logChanged();
      },

      leaveRecording() {
        const { race } = get();
        if (!race.recording) return;
        log = createRaceLog(race.runId + 1, undefined, []);
        set({
          race: {
            runId: race.runId + 1,
            lanes: {},
            announcements: [],
            settled: true,
            wire: { status: 'idle' },
          },
          clock: { status: 'idle' },
        });
        logChanged();
        void get().measureClock();
        get().prepareNextRace();
      },

      recordFault(runTag, record, receivedAt) {
        const { race } = get();
        if (race.runTag !== runTag || log.runId !== race.runId) return;
        if (log.faults.some((known) => known.record.id === record.id)) return;
        log.faults.push({ record, receivedAt });
        log.version += 1;
        logChanged();
        set({
          race: {
            ...race,
            announcements: [
              ...race.announcements,
              { id: ++announcementId, text: `Fault injected: ${record.summary}` },
            ],
          },
        });
      },

      applyReports(items, shownAt) {
        set((state) => {
          const { race } = state;
          const drafts = new Map<LaneId, LaneRunState>();
          /** Server time of the last progress value per lane in this frame: only that one is painted. */
          const painted = new Map<LaneId, number>();
          const ended: LaneId[] = [];
          for (const { runId, lane: id, report } of items) {
            if (runId !== race.runId) continue;
            const laneLog = log.runId === runId ? log.lanes[id] : undefined;
            if (laneLog) recordReport(laneLog, report, shownAt);
            let draft = drafts.get(id);
            if (!draft) {
              const current = race.lanes[id];
              if (!current) continue;
              draft = draftOf(current);
              drafts.set(id, draft);
            }
            const wasRunning = draft.status === 'running';
            const progressAt = applyReport(draft, report, shownAt);
            if (progressAt !== undefined) painted.set(id, progressAt);
            if (wasRunning && draft.status !== 'running') ended.push(id);
          }
          log.version += 1;
          if (drafts.size === 0) return {};
          for (const [id, serverAt] of painted) {
            const draft = drafts.get(id);
            if (draft) appendTo(draft, 'progressShown', { serverAt, shownAt });
          }

          const lanes = { ...race.lanes, ...Object.fromEntries(drafts) };
          const announced = ended.map((id) => ({
            id: ++announcementId,
            text: completionMessage(id, drafts.get(id) ?? runningLane(), race.actionAt),
          }));
          return {
            race: {
              ...race,
              lanes,
              announcements:
                announced.length > 0 ? [...race.announcements, ...announced] : race.announcements,
            },
          };
        });
        logChanged();
      },
    };
  };
