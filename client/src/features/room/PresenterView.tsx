import { formatRoomCode, RoomRaceExport } from '@transport-lab/shared';
import { useEffect, useRef, useState } from 'react';
import { download } from '../../lib/download.ts';
import { clientNow } from '../../lib/time.ts';
import { isLoopbackHost, roomJoinLink } from '../../services/room-link.ts';
import { appStore, useAppStore } from '../../store/index.ts';
import { sameScenario, scenarioFromSettings } from '../../store/room-slice.ts';
import { ServerView } from '../server-view/ServerViewEntry.tsx';
import { Aggregate } from './Aggregate.tsx';
import { JoinQr } from './JoinQr.tsx';
import { PresenceList } from './PresenceList.tsx';
import { RoomFaults } from './RoomFaults.tsx';
import { ScenarioSummary } from './ScenarioSummary.tsx';

/** The presenter's room: how to join (code, link, QR), the scenario and its controls, the aggregate, presence. */
export function PresenterView() {
  const code = useAppStore((s) => s.room.code) ?? '';
  const scenario = useAppStore((s) => s.room.scenario);
  const pending = useAppStore((s) => s.room.pending);
  const specInput = useAppStore((s) => s.specInput);
  const laneSettingsInput = useAppStore((s) => s.laneSettingsInput);
  const selectedLanes = useAppStore((s) => s.selectedLanes);
  const server = useAppStore((s) => s.server);
  // Computed here, not in a selector: a selector must not return a new object on every call.
  const mine = scenarioFromSettings({ specInput, laneSettingsInput, selectedLanes, server });
  const audience = useAppStore(
    (s) => s.room.participants.filter((p) => p.role === 'audience' && p.connected).length,
  );
  const raced = useAppStore((s) => s.room.race !== undefined);
  const [confirmEnd, setConfirmEnd] = useState(false);
  const keepRef = useRef<HTMLButtonElement>(null);
  const endRef = useRef<HTMLButtonElement>(null);
  const asked = useRef(false);
  // The button pressed goes away with the question: keep the keyboard's place on the safe answer,
  // and back on "End room…" when the question is dismissed.
  useEffect(() => {
    if (confirmEnd) keepRef.current?.focus();
    else if (asked.current) endRef.current?.focus();
    asked.current = confirmEnd;
  }, [confirmEnd]);
  const lanUrls = useAppStore((s) => s.server.settings?.lanUrls);
  // Opened as localhost, the page's own address means nothing to a phone: the server's network
  // address does, when it listens on one.
  const loopback = isLoopbackHost(location.hostname);
  const lanBase = loopback ? lanUrls?.[0] : undefined;
  const link = roomJoinLink(lanBase ? `${lanBase}/` : location.href, code);
  const { applyMyRaceSettings, startForEveryone, endRoom, setRoomScreen } = appStore.getState();
  const differs = mine.ok && !sameScenario(mine.scenario, scenario);

  return (
    <div className="room-presenter">
      <section className="room-join-panel" aria-labelledby="room-join-title">
        <div className="room-code-block">
          <h2 id="room-join-title" className="room-code-label">
            Join at this page with the code
          </h2>
          <p className="room-code num" data-testid="room-code">
            {formatRoomCode(code)}
          </p>
          <CopyLink link={link} />
          {loopback && lanBase ? (
            <p className="hint" data-testid="room-lan-note">
              Phones join at this computer’s network address, {new URL(lanBase).host}: they must be on the
              same network.
            </p>
          ) : loopback ? (
            <p className="room-warning" data-testid="room-loopback-warning">
              This link names {location.hostname}: other devices cannot reach it. Start the server so that
              phones can (<code>HOST=0.0.0.0 npm start</code>), and the link and QR code will carry this
              computer’s network address.
            </p>
          ) : null}
        </div>
        <JoinQr link={link} />
      </section>

      <section className="room-controls" aria-labelledby="room-scenario-title">
        <h2 id="room-scenario-title" className="section-title">
          The race everyone runs
        </h2>
        {scenario ? <ScenarioSummary scenario={scenario} /> : null}
        {!mine.ok ? (
          <p className="hint">{mine.reason}</p>
        ) : differs ? (
          <p className="hint" data-testid="room-scenario-differs">
            Your race settings differ from the room’s.{' '}
            <button type="button" className="link-button" onClick={() => setRoomScreen('race')}>
              See them
            </button>
          </p>
        ) : null}
        <div className="actions room-actions">
          <button
            type="button"
            className="button"
            disabled={!mine.ok || !differs || pending !== undefined}
            onClick={() => void applyMyRaceSettings()}
          >
            Use my race settings
          </button>
          <button
            type="button"
            className="button primary"
            disabled={pending !== undefined}
            onClick={() => void startForEveryone()}
          >
            {pending === 'start' ? 'Starting…' : raced ? 'Start again for everyone' : 'Start for everyone'}
          </button>
          <span className="hint num">
            {audience} {audience === 1 ? 'device' : 'devices'} connected
          </span>
        </div>
        <div className="actions room-end">
          {confirmEnd ? (
            <>
              <span>End the room for everyone? Nobody can rejoin it.</span>
              <button
                type="button"
                className="button danger"
                disabled={pending !== undefined}
                onClick={() => void endRoom()}
              >
                End room
              </button>
              <button type="button" className="button" ref={keepRef} onClick={() => setConfirmEnd(false)}>
                Keep it open
              </button>
            </>
          ) : (
            <button type="button" className="button" ref={endRef} onClick={() => setConfirmEnd(true)}>
              End room…
            </button>
          )}
        </div>
        <RoomFaults />
      </section>

      <Aggregate />
      <ServerView of="room" />
      <RoomRaceExportButton />
      <PresenceList />
    </div>
  );
}

/** The join link, with Copy (the Clipboard API exists only in secure contexts: else the text is selected). */
function CopyLink({ link }: { link: string }) {
  const [message, setMessage] = useState('');
  const fieldRef = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(link);
      setMessage('Link copied.');
    } catch {
      fieldRef.current?.select();
      setMessage('Copy the selected link.');
    }
  };
  return (
    <div className="room-link">
      <label htmlFor="room-link-field" className="visually-hidden">
        Join link
      </label>
      <input
        id="room-link-field"
        ref={fieldRef}
        className="room-link-field"
        type="text"
        readOnly
        value={link}
        data-testid="room-link"
        onFocus={(event) => event.currentTarget.select()}
      />
      <button type="button" className="button small" onClick={() => void copy()}>
        Copy link
      </button>
      <span className="hint" aria-live="polite">
        {message}
      </span>
    </div>
  );
}

/**
 * Export the room's race: the race, who was in the room and every count and aggregate as this page
 * received them, checked with the shared schema; the race page's "Open a recording…" replays it.
 */
function RoomRaceExportButton() {
  const ready = useAppStore((s) => s.room.aggregate !== undefined);
  const [message, setMessage] = useState('');
  const exportRoom = () => {
    const data = appStore.getState().roomRaceExport(clientNow(), location.origin);
    const checked = RoomRaceExport.safeParse(data);
    if (!data || !checked.success) {
      setMessage('The room’s race could not be exported: its record does not match the export schema.');
      return;
    }
    download(
      `transport-lab-room-${data.code}-${data.race.raceId}.json`,
      'application/json',
      `${JSON.stringify(data, null, 2)}\n`,
    );
    setMessage('The room’s race exported as JSON: open it on the race page to replay it.');
  };
  return (
    <div className="room-export">
      <button type="button" className="button secondary" disabled={!ready} onClick={exportRoom}>
        Export the room’s race
      </button>
      <p className="section-note" role="status" data-testid="room-export-status">
        {message}
      </p>
    </div>
  );
}
