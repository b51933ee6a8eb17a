import { useEffect } from 'react';
import { RacePage } from './features/race/RacePage.tsx';
import { appStore, useAppStore } from './store/index.ts';

export function App() {
  const viewMode = useAppStore((s) => s.viewMode);

  useEffect(() => {
    document.documentElement.dataset.view = viewMode;
    // Keep the layout in the address, so that a presenter's link opens the projector view.
    const url = new URL(location.href);
    if (viewMode === 'auto') url.searchParams.delete('view');
    else url.searchParams.set('view', viewMode);
    history.replaceState(history.state, '', url);
  }, [viewMode]);

  useEffect(() => {
    void appStore.getState().measureClock();
    void appStore.getState().loadServerSettings();
  }, []);

  return <RacePage />;
}
