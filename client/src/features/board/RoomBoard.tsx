import { lazy, useMemo, useState } from 'react';
import { OnFirstNeed } from '../../lib/Loading.tsx';
import { browserStorage, loadCredentials } from '../../services/room-storage.ts';
import { useAppStore } from '../../store/index.ts';

// The board itself (its store, its lanes, the propagation map) loads when someone opens it.
const BoardPanel = lazy(() => import('./BoardPanel.tsx').then((m) => ({ default: m.BoardPanel })));

/**
 * The room page's "Shared board" section. Closed until asked for, so that joining a room of 500 opens
 * no board lane on anyone's phone until they want it. The token is the one this browser's join saved
 * (the room slice keeps it in storage, not in state); the map names participants from presence.
 */
export function RoomBoard() {
  const code = useAppStore((s) => s.room.code);
  const self = useAppStore((s) => s.room.self);
  const role = useAppStore((s) => s.room.role);
  const participants = useAppStore((s) => s.room.participants);
  const [open, setOpen] = useState(false);
  const names = useMemo(() => Object.fromEntries(participants.map((p) => [p.id, p.name])), [participants]);
  const credentials = code ? loadCredentials(browserStorage(), code) : undefined;
  if (!code || !self || !role || !credentials || credentials.participantId !== self) return null;

  const toggle = (
    <button type="button" className="button" aria-expanded={open} onClick={() => setOpen(!open)}>
      {open ? 'Close the shared board' : 'Open the shared board'}
    </button>
  );
  if (!open) {
    return (
      <section className="room-board" aria-labelledby="room-board-title">
        <h2 id="room-board-title" className="section-title">
          Shared board
        </h2>
        <p className="hint">
          Sticky notes and a slider everyone edits; pick the lane your changes arrive by
          {role === 'presenter' ? ', and see when each page showed each edit' : ''}.
        </p>
        {toggle}
      </section>
    );
  }
  return (
    <div className="room-board">
      {toggle}
      <OnFirstNeed what="the shared board">
        <BoardPanel
          code={code}
          participantId={self}
          token={credentials.token}
          roomRole={role}
          names={names}
        />
      </OnFirstNeed>
    </div>
  );
}
