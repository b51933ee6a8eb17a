import { appStore } from '../../store/index.ts';
import { raceLink } from '../../store/race-link.ts';

/**
 * The current settings as a link (what the form shows now: after a race, the race's own). A module of
 * its own: the address keeps it from the first load (App.tsx), the export bar loads later.
 */
export function currentLink(): string {
  const s = appStore.getState();
  return raceLink(location.href, {
    specInput: s.specInput,
    selectedLanes: s.selectedLanes,
    laneSettingsInput: s.laneSettingsInput,
    viewMode: s.viewMode,
  });
}
