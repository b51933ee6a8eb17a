import { formatRoomCode } from '@transport-lab/shared';
import { appStore, useAppStore } from '../../store/index.ts';
import { participantLabel, problemText } from '../../store/room-slice.ts';
import { Announcer } from '../race/Announcer.tsx';
import { MetricsTable } from '../race/MetricsTable.tsx';
import { RaceBoard } from '../race/RaceBoard.tsx';
import { ScenarioSummary } from './ScenarioSummary.tsx';

/**
 * A participant's room: who they are here, what the room is doing, and their own race (the race page's
 * cards and table) when the presenter starts one. Their figures go to the room as the table shows them.
 */
export function AudienceView() {
  const code = useAppStore((s) => s.room.code) ?? '';
  const me = useAppStore((s) => s.room.participants.find((p) => p.id === s.room.self));
  const scenario = useAppStore((s) => s.room.scenario);
  const mine = useAppStore((s) => s.room.mine);
  const progress = useAppStore((s) => s.room.progress);
  const connection = useAppStore((s) => s.room.connection);
  const pending = useAppStore((s) => s.room.pending);
  const raced = useAppStore((s) => s.race.actionAt !== undefined);

  const status =
    connection === 'offline'
      ? 'Connection lost: reconnecting…'
      : !mine
        ? 'Waiting for the presenter to start the race.'
        : mine.status === 'running'
          ? 'Racing on your device…'
          : mine.status === 'reporting'
            ? 'Sending your result…'
            : mine.status === 'reported'
              ? 'Your result is in the room’s count.'
              : `Your result could not be sent: ${mine.problem ? problemText(mine.problem) : ''}`;

  // The phone's own lanes first (issue 12, item 5): once it races, its cards lead the screen, and the
  // room's status and the race's description follow them.
  return (
    <div className="room-audience">
      {raced || mine ? (
        <>
          <RaceBoard />
          <Announcer />
        </>
      ) : null}
      <section className="room-status-card" aria-labelledby="room-status-title">
        <h2 id="room-status-title" className="room-status-title">
          Room <span className="num">{formatRoomCode(code)}</span>
        </h2>
        <p>
          You are <strong data-testid="room-self">{participantLabel(me)}</strong>
          {me ? ` on a ${me.device}` : ''}.
        </p>
        <p className="room-status" data-testid="room-status" data-state={mine?.status ?? 'waiting'}>
          {status}
        </p>
        {progress ? (
          <p className="room-progress" data-testid="room-progress">
            <span className="num">{progress.reported}</span> of{' '}
            <span className="num">{progress.expected}</span> reported
          </p>
        ) : null}
        <button
          type="button"
          className="button"
          disabled={pending !== undefined}
          onClick={() => void appStore.getState().leaveRoom()}
        >
          Leave room
        </button>
      </section>
      {scenario ? (
        <details className="room-scenario-details">
          <summary>The room’s race</summary>
          <ScenarioSummary scenario={scenario} />
        </details>
      ) : null}
      {raced || mine ? <MetricsTable /> : null}
    </div>
  );
}
