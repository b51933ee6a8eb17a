import type { LaneId } from '@transport-lab/shared';
import type { LaneRun, TransportClient } from '../transports/types.ts';
import { createFrameBatcher } from './frame-batcher.ts';
import { applyReport, completionMessage, draftOf, runningLane } from './lane-reducer.ts';
import { parseLaneSettings, parseSpecInput } from './settings-slice.ts';
import type { LaneReportItem, LaneRunState, RaceSlice, SliceCreator, StoreDeps } from './types.ts';

export function isRaceRunning(lanes: Partial<Record<LaneId, LaneRunState>>): boolean {
  return Object.values(lanes).some((lane) => lane?.status === 'running');
}

export const createRaceSlice =
  (deps: StoreDeps): SliceCreator<RaceSlice> =>
  (set, get) => {
    /** Live runs: handles to cancel or recover them. Not state: nothing on screen depends on them. */
    const runs = new Map<LaneId, LaneRun>();
    let announcementId = 0;
    const batcher = createFrameBatcher<LaneReportItem>(deps.schedule, (items) =>
      get().applyReports(items, deps.now()),
    );

    return {
      race: { runId: 0, lanes: {}, announcements: [] },

      startRace(actionAt = deps.now()) {
        const state = get();
        if (isRaceRunning(state.race.lanes)) return;
        const parsed = parseSpecInput(state.specInput);
        if (!parsed.ok) return;
        const server = state.server.settings;
        const laneSettings = parseLaneSettings(state.laneSettingsInput, server);
        if (!laneSettings.ok) return;
        const options = { settings: laneSettings.settings, ...(server ? { server } : {}) };
        const clients = state.selectedLanes
          .map((id) => deps.registry.get(id))
          .filter((client): client is TransportClient => client !== undefined);
        if (clients.length === 0) return;

        const runId = state.race.runId + 1;
        runs.clear();
        const lanes: Partial<Record<LaneId, LaneRunState>> = {};
        for (const client of clients) lanes[client.id] = runningLane();
        set({ race: { runId, actionAt, lanes, announcements: [] } });

        // Every lane leaves in this same tick, so that none has a head start.
        for (const client of clients) {
          const report = (r: LaneReportItem['report']) => batcher.push({ runId, lane: client.id, report: r });
          try {
            runs.set(client.id, client.run(parsed.spec, report, options));
          } catch (error) {
            report({
              type: 'error',
              error: {
                code: 'CLIENT',
                message: error instanceof Error ? error.message : String(error),
                fromServer: false,
              },
              at: deps.now(),
            });
          }
        }
      },

      cancelRace() {
        const { lanes } = get().race;
        for (const [id, run] of runs) if (lanes[id]?.status === 'running') run.cancel();
      },

      recoverLane(id) {
        if (get().race.lanes[id]?.status === 'error') void runs.get(id)?.recover?.();
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
          if (drafts.size === 0) return {};
          for (const [id, serverAt] of painted) drafts.get(id)?.progressShown.push({ serverAt, shownAt });

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
      },
    };
  };
