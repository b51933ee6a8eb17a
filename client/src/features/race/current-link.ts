import { appStore } from '../../store/index.ts';
import { raceLink } from '../../store/race-link.ts';

/**
 * The current settings as a link (what the form shows now: after a race, the race's own). A module of
 * its own: the address keeps it from the first load (App.tsx), the export bar loads later.
 */
export function currentLink(): string {
  const s = appStore.getState();
  const link = raceLink(location.href, {
    specInput: s.specInput,
    selectedLanes: s.selectedLanes,
    laneSettingsInput: s.laneSettingsInput,
    viewMode: s.viewMode,
  });
  // While a recording opened from an address plays, the link (and a reload) keeps it.
  const replay = new URLSearchParams(location.search).get('replay');
  if (!s.race.recording || replay === null) return link;
  const url = new URL(link);
  url.searchParams.set('replay', replay);
  return url.href;
}
