import { formatRoomCode } from '@transport-lab/shared';
import { appStore, useAppStore } from '../../store/index.ts';
import { sameScenario, scenarioFromSettings } from '../../store/room-slice.ts';
import { JoinForm } from './JoinForm.tsx';
import { RoomAnnouncer } from './RoomAnnouncer.tsx';
import { RoomProblemNote } from './RoomProblemNote.tsx';

/**
 * Rooms, from the race page: create one (this page presents it, with these race settings) or join one
 * by code; once in a room, the way back to it.
 */
export function RoomBar() {
  const phase = useAppStore((s) => s.room.phase);
  const role = useAppStore((s) => s.room.role);
  const code = useAppStore((s) => s.room.code);
  const pending = useAppStore((s) => s.room.pending);
  const { createRoom, setRoomScreen, applyMyRaceSettings } = appStore.getState();

  if (phase === 'joined' && code) {
    return (
      <nav className="room-bar" aria-label="Room">
        <p>
          You {role === 'presenter' ? 'present' : 'are in'} room{' '}
          <strong className="num">{formatRoomCode(code)}</strong>.
        </p>
        <button type="button" className="button primary" onClick={() => setRoomScreen('room')}>
          Open the room
        </button>
        {role === 'presenter' ? <UseSettingsButton onUse={() => void applyMyRaceSettings()} /> : null}
        <RoomProblemNote />
        <RoomAnnouncer />
      </nav>
    );
  }
  return (
    <section className="room-bar" aria-label="Rooms">
      <p className="room-bar-text">
        Race with an audience: each device runs the race, the room sees the spread.
      </p>
      <button
        type="button"
        className="button primary"
        disabled={pending !== undefined}
        onClick={() => void createRoom()}
      >
        {pending === 'create' ? 'Creating…' : 'Create a room'}
      </button>
      <details className="room-bar-join">
        <summary>Join a room</summary>
        <JoinForm compact />
      </details>
      <RoomProblemNote />
      <RoomAnnouncer />
    </section>
  );
}

/** The presenter, editing the race settings: send them to the room without going back to it. */
function UseSettingsButton({ onUse }: { onUse(): void }) {
  const specInput = useAppStore((s) => s.specInput);
  const laneSettingsInput = useAppStore((s) => s.laneSettingsInput);
  const selectedLanes = useAppStore((s) => s.selectedLanes);
  const server = useAppStore((s) => s.server);
  const scenario = useAppStore((s) => s.room.scenario);
  const pending = useAppStore((s) => s.room.pending);
  const mine = scenarioFromSettings({ specInput, laneSettingsInput, selectedLanes, server });
  const same = mine.ok && sameScenario(mine.scenario, scenario);
  return (
    <>
      <button
        type="button"
        className="button"
        disabled={!mine.ok || same || pending !== undefined}
        onClick={onUse}
      >
        Use these settings in the room
      </button>
      <span className="hint">
        {!mine.ok ? mine.reason : same ? 'The room races these settings.' : 'The room races other settings.'}
      </span>
    </>
  );
}
