import { lazy, useEffect } from 'react';
import { currentLink } from './features/race/current-link.ts';
import { RoomBar } from './features/room/RoomBar.tsx';
import { RoomPage } from './features/room/RoomPage.tsx';
import { OnFirstNeed } from './lib/Loading.tsx';
import { withRoomParam } from './services/room-link.ts';
import { appStore, useAppStore } from './store/index.ts';
import type { AppState } from './store/types.ts';

// The race page (its settings, timeline, scenarios, faults, exports) loads on first need: a phone that
// opens a join link sees the room screen and races with the room's own cards and table, and its first
// load stays within the budget scripts/bundle-budget.mjs checks (docs/architecture.md).
const RacePage = lazy(() => import('./features/race/RacePage.tsx').then((m) => ({ default: m.RacePage })));

/** The room the address names: the one this page is in, or the one its join form is open for. */
function roomInLink(state: AppState): string | undefined {
  const { room } = state;
  if (room.phase === 'joined') return room.code;
  if (room.screen === 'room' && room.phase !== 'ended') return room.joinCode.trim() || undefined;
  return undefined;
}

export function App() {
  const viewMode = useAppStore((s) => s.viewMode);
  const screen = useAppStore((s) => s.room.screen);

  useEffect(() => {
    document.documentElement.dataset.view = viewMode;
  }, [viewMode]);

  // The address always carries the settings, so that a reload, a bookmark or a shared link reproduces
  // them; and the room, so that a reload rejoins it.
  useEffect(
    () =>
      appStore.subscribe((state, previous) => {
        if (
          state.specInput === previous.specInput &&
          state.selectedLanes === previous.selectedLanes &&
          state.laneSettingsInput === previous.laneSettingsInput &&
          state.viewMode === previous.viewMode &&
          roomInLink(state) === roomInLink(previous)
        ) {
          return;
        }
        history.replaceState(history.state, '', withRoomParam(currentLink(), roomInLink(state)));
      }),
    [],
  );

  useEffect(() => {
    void appStore.getState().measureClock();
    void appStore.getState().loadServerSettings();
    // Opened at `?room=CODE` by a browser that was in that room (a reload): back in, same rights.
    void appStore.getState().rejoinFromLink();
  }, []);

  if (screen === 'room') return <RoomPage />;
  return (
    <>
      <RoomBar />
      <OnFirstNeed what="the race page">
        <RacePage />
      </OnFirstNeed>
    </>
  );
}
