import { RaceExport } from '@transport-lab/shared';
import { useRef, useState } from 'react';
import { download } from '../../lib/download.ts';
import { clientNow } from '../../lib/time.ts';
import { appStore } from '../../store/index.ts';
import { isRaceRunning } from '../../store/race-slice.ts';
import { raceCsv, raceExport } from '../../store/race-view.ts';
import { useRaceForControls } from '../../store/use-controls-race.ts';
import { currentLink } from './current-link.ts';

/** Export JSON, Export CSV (a finished race), and Copy link (always). */
export function ExportBar() {
  // The buttons follow a race's start a little later than the cards (use-controls-race.ts); an export
  // asked for meanwhile is refused by its own check of the race.
  const race = useRaceForControls();
  // A replay is not exported again: its file is the record (and a replay holds less than it).
  const finished = race.actionAt !== undefined && !race.recording && !isRaceRunning(race.lanes);
  const { runTag } = race;
  const [message, setMessage] = useState<string>('');
  const [fallbackLink, setFallbackLink] = useState<string | undefined>();
  const fallbackRef = useRef<HTMLInputElement>(null);

  const exportJson = () => {
    const state = appStore.getState();
    if (isRaceRunning(state.race.lanes)) return;
    const data = raceExport(state, state.raceLog(), clientNow(), location.origin);
    // The file is checked with the same schema a reader will use before it is handed out.
    const checked = RaceExport.safeParse(data);
    if (!data || !checked.success) {
      setMessage('The race could not be exported: its record does not match the export schema.');
      return;
    }
    download(
      `transport-lab-race-${runTag ?? 'unknown'}.json`,
      'application/json',
      `${JSON.stringify(data, null, 2)}\n`,
    );
    setMessage(
      state.race.wire.status === 'ready'
        ? 'Race exported as JSON.'
        : 'Race exported as JSON, without the server’s count (not had yet).',
    );
  };

  const exportCsv = () => {
    const state = appStore.getState();
    if (isRaceRunning(state.race.lanes)) return;
    download(`transport-lab-metrics-${runTag ?? 'unknown'}.csv`, 'text/csv', raceCsv(state, state.raceLog()));
    setMessage('Metrics table exported as CSV.');
  };

  const copyLink = async () => {
    const link = currentLink();
    try {
      // The Clipboard API exists only in secure contexts; a phone on the presenter's LAN over http has none.
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(link);
      setFallbackLink(undefined);
      setMessage('Link copied: it opens this page with these settings.');
    } catch {
      setFallbackLink(link);
      setMessage('Copy the link below: this page may not write to the clipboard.');
      requestAnimationFrame(() => fallbackRef.current?.select());
    }
  };

  return (
    <section
      className="export-bar"
      aria-label="Export and share"
      data-testid="export-bar"
      // The race's id on the wire (the export's runId): what its traffic is tagged with.
      data-run-id={runTag}
    >
      <div className="export-buttons">
        <button type="button" className="button" disabled={!finished} onClick={exportJson}>
          Export JSON
        </button>
        <button type="button" className="button" disabled={!finished} onClick={exportCsv}>
          Export CSV
        </button>
        <button type="button" className="button" onClick={() => void copyLink()}>
          Copy link
        </button>
      </div>
      <p className="section-note" role="status" data-testid="export-status">
        {message}
      </p>
      {fallbackLink ? (
        <label className="field link-field">
          <span>Link to these settings</span>
          <input
            ref={fallbackRef}
            type="text"
            readOnly
            value={fallbackLink}
            onFocus={(e) => e.currentTarget.select()}
          />
        </label>
      ) : null}
    </section>
  );
}
