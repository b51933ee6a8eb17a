import { useEffect } from 'react';
import { currentLink } from './features/race/ExportBar.tsx';
import { RacePage } from './features/race/RacePage.tsx';
import { appStore, useAppStore } from './store/index.ts';

export function App() {
  const viewMode = useAppStore((s) => s.viewMode);

  useEffect(() => {
    document.documentElement.dataset.view = viewMode;
  }, [viewMode]);

  // The address always carries the settings, so that a reload, a bookmark or a shared link reproduces them.
  useEffect(
    () =>
      appStore.subscribe((state, previous) => {
        if (
          state.specInput === previous.specInput &&
          state.selectedLanes === previous.selectedLanes &&
          state.laneSettingsInput === previous.laneSettingsInput &&
          state.viewMode === previous.viewMode
        ) {
          return;
        }
        history.replaceState(history.state, '', currentLink());
      }),
    [],
  );

  useEffect(() => {
    void appStore.getState().measureClock();
    void appStore.getState().loadServerSettings();
  }, []);

  return <RacePage />;
}
