import { LANES, type LaneId } from '@transport-lab/shared';
import type { CSSProperties } from 'react';

/**
 * Lanes to race, one checkbox each with the lane's colour, mark and name: the race form's and the
 * decision guide's "Prove it" (one look, one keyboard order, one label per lane for screen readers).
 */
export function LaneChoices({
  legend,
  lanes,
  selected,
  disabled,
  onToggle,
}: {
  legend: string;
  /** The lanes offered, in their order. */
  lanes: readonly LaneId[];
  selected: readonly LaneId[];
  disabled: boolean;
  onToggle: (lane: LaneId, checked: boolean) => void;
}) {
  return (
    <fieldset className="lane-picker" disabled={disabled}>
      <legend>{legend}</legend>
      {lanes.map((id) => (
        <label key={id} className="lane-choice" style={{ '--lane-color': LANES[id].color } as CSSProperties}>
          <input
            type="checkbox"
            checked={selected.includes(id)}
            onChange={(event) => onToggle(id, event.currentTarget.checked)}
          />
          <span className="lane-swatch" aria-hidden="true" />
          <span className="lane-mark" aria-hidden="true">
            {LANES[id].mark}
          </span>
          <span>{LANES[id].name}</span>
        </label>
      ))}
    </fieldset>
  );
}
