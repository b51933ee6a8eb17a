import { lazy } from 'react';
import { OnFirstNeed } from '../../lib/Loading.tsx';
import { appStore, useAppStore } from '../../store/index.ts';
import { RoomBoard } from '../board/RoomBoard.tsx';
import { AudienceView } from './AudienceView.tsx';
import { JoinForm } from './JoinForm.tsx';
import { RoomAnnouncer } from './RoomAnnouncer.tsx';
import { RoomProblemNote } from './RoomProblemNote.tsx';

// The presenter's view (the aggregate, the QR code, presence, faults) loads once this page presents: an
// audience phone never downloads it (docs/architecture.md, "What a phone loads first").
const PresenterView = lazy(() => import('./PresenterView.tsx').then((m) => ({ default: m.PresenterView })));

/** The room screen: the join form, the presenter's room, a participant's room, or the room's end. */
export function RoomPage() {
  const phase = useAppStore((s) => s.room.phase);
  const role = useAppStore((s) => s.room.role);
  const viewMode = useAppStore((s) => s.viewMode);
  const ignored = useAppStore((s) => s.room.ignoredMessages);
  const { setRoomScreen, setViewMode } = appStore.getState();
  const presenting = phase === 'joined' && role === 'presenter';

  return (
    <div className="page room-page" data-role={role ?? 'none'}>
      <header className="page-head room-head">
        <div className="title">
          <h1>Transport Lab</h1>
          <p className="tagline">
            {presenting
              ? 'You present this room: everyone’s race, aggregated live.'
              : 'Everyone races from their own device; the room sees the spread.'}
          </p>
        </div>
        <div className="room-head-actions">
          {presenting ? (
            <button
              type="button"
              className="button"
              aria-pressed={viewMode === 'projector'}
              onClick={() => setViewMode(viewMode === 'projector' ? 'auto' : 'projector')}
            >
              Projector mode
            </button>
          ) : null}
          {phase === 'idle' || phase === 'connecting' || presenting ? (
            <button type="button" className="button" onClick={() => setRoomScreen('race')}>
              {presenting ? 'Back to race settings' : 'Back to the race page'}
            </button>
          ) : null}
        </div>
      </header>
      <main>
        <RoomProblemNote />
        {phase === 'idle' || phase === 'connecting' ? (
          <section className="room-join-card" aria-labelledby="room-join-form-title">
            <h2 id="room-join-form-title" className="section-title">
              Join a room
            </h2>
            <JoinForm />
          </section>
        ) : null}
        {phase === 'joined' && role === 'presenter' ? (
          <OnFirstNeed what="the presenter’s view">
            <PresenterView />
          </OnFirstNeed>
        ) : null}
        {phase === 'joined' && role === 'audience' ? <AudienceView /> : null}
        {phase === 'joined' ? <RoomBoard /> : null}
        {phase === 'ended' ? <RoomEnded /> : null}
        {ignored > 0 ? (
          <p className="hint" data-testid="room-ignored">
            {ignored} {ignored === 1 ? 'message' : 'messages'} from the server could not be read and were
            ignored.
          </p>
        ) : null}
        <RoomAnnouncer />
      </main>
    </div>
  );
}

function RoomEnded() {
  const reason = useAppStore((s) => s.room.endedReason);
  return (
    <section className="room-join-card" aria-labelledby="room-ended-title" data-testid="room-ended">
      <h2 id="room-ended-title" className="section-title">
        This room has ended
      </h2>
      <p>
        {reason === 'idle'
          ? 'Nobody had spoken in it for a while.'
          : reason === 'presenter'
            ? 'The presenter ended it.'
            : 'It is no longer open.'}
      </p>
      <button type="button" className="button primary" onClick={() => void appStore.getState().leaveRoom()}>
        Back to the race page
      </button>
    </section>
  );
}
