import { VIEW_MODES, type ViewMode } from '../store/types.ts';

/** `?view=projector` (or desktop, phone, auto) picks the layout; anything else leaves it to the screen. */
export function viewModeFromSearch(search: string): ViewMode | undefined {
  const value = new URLSearchParams(search).get('view');
  return VIEW_MODES.find((mode) => mode === value);
}
