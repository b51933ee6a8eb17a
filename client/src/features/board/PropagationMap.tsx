import { BOARD_LANES, LANES, type PropagationEntry } from '@transport-lab/shared';
import { type CSSProperties, useId, useState } from 'react';
import type { MapRow } from './board-store.ts';

const OP_TEXT: Record<MapRow['opType'], string> = {
  'note.add': 'added a note',
  'note.update': 'changed a note',
  'note.delete': 'deleted a note',
  'slider.set': 'moved the slider',
};

/** Rows shown before "Show all". */
const FIRST_ROWS = 20;

function who(id: string, names: Record<string, string | null>): string {
  return names[id] ?? `Anonymous ${id.slice(0, 4)}`;
}

/** A page's own figure, as it reported it: never recomputed here. */
export function formatDelay(entry: PropagationEntry): string {
  return `${Math.round(entry.delayMs)} ms`;
}

/**
 * The presenter's propagation map: one row per edit (newest first), and in it one dot per page that
 * showed it, coloured by the lane it came through and labelled with the lane's mark and the page's
 * own measured delay from the edit's server time, sorted fastest first.
 */
export function PropagationMap({ rows, names }: { rows: MapRow[]; names: Record<string, string | null> }) {
  const [all, setAll] = useState(false);
  const headingId = useId();
  const newestFirst = [...rows].reverse();
  const shown = all ? newestFirst : newestFirst.slice(0, FIRST_ROWS);
  return (
    <section className="propagation" aria-labelledby={headingId}>
      <h3 id={headingId}>Propagation: when each page showed each edit</h3>
      <ul className="propagation-legend" aria-label="Lanes">
        {BOARD_LANES.map((lane) => (
          <li key={lane} style={{ '--lane-color': LANES[lane].color } as CSSProperties}>
            <span className="lane-swatch" aria-hidden="true" />{' '}
            <span className="lane-mark">{LANES[lane].mark}</span> {LANES[lane].name}
          </li>
        ))}
      </ul>
      <p className="hint">
        Each figure is the page’s own: the moment it showed the edit on its clock, corrected by its measured
        offset to the server’s, minus the edit’s server time (± half the page’s clock round trip).
      </p>
      {rows.length === 0 ? (
        <p className="hint">No edits yet.</p>
      ) : (
        <table className="propagation-table">
          <thead>
            <tr>
              <th scope="col">Edit</th>
              <th scope="col">Pages, by lane and delay</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => {
              const entries = Object.values(row.entries).sort((a, b) => a.delayMs - b.delayMs);
              return (
                <tr key={row.version}>
                  <th scope="row">
                    <span className="num">v{row.version}</span> {who(row.by, names)} {OP_TEXT[row.opType]}
                  </th>
                  <td>
                    {entries.length === 0 ? (
                      <span className="hint">no page has reported it yet</span>
                    ) : (
                      <ul className="propagation-dots">
                        {entries.map((entry) => (
                          <li
                            key={entry.participantId}
                            className="propagation-dot"
                            style={{ '--lane-color': LANES[entry.lane].color } as CSSProperties}
                            title={`± ${Math.round(entry.clockUncertaintyMs)} ms`}
                          >
                            <span className="lane-swatch" aria-hidden="true" />
                            <span className="lane-mark">{LANES[entry.lane].mark}</span>{' '}
                            <span className="visually-hidden">{LANES[entry.lane].name}, </span>
                            {who(entry.participantId, names)}{' '}
                            <span className="num">{formatDelay(entry)}</span>
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {rows.length > FIRST_ROWS ? (
        <button type="button" className="button small" onClick={() => setAll(!all)} aria-expanded={all}>
          {all ? `Show the newest ${FIRST_ROWS}` : `Show all ${rows.length} edits`}
        </button>
      ) : null}
    </section>
  );
}
