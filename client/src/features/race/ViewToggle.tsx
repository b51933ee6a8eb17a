import { appStore, useAppStore } from '../../store/index.ts';
import { VIEW_MODES, type ViewMode } from '../../store/types.ts';

const LABELS: Record<ViewMode, string> = {
  auto: 'Auto',
  desktop: 'Desktop',
  phone: 'Phone',
  projector: 'Projector',
};

/** Layout switch; `?view=projector` selects the same thing from a link. */
export function ViewToggle() {
  const mode = useAppStore((s) => s.viewMode);
  return (
    <fieldset className="view-toggle">
      <legend>View</legend>
      {VIEW_MODES.map((value) => (
        <label key={value} className="segment">
          <input
            type="radio"
            name="view"
            value={value}
            checked={mode === value}
            onChange={() => appStore.getState().setViewMode(value)}
          />
          <span>{LABELS[value]}</span>
        </label>
      ))}
    </fieldset>
  );
}
