import { formatRoomCode } from '@transport-lab/shared';
import { useMemo, useSyncExternalStore } from 'react';
import { AggregateView } from '../room/Aggregate.tsx';
import { MadeWhere, madeWhen, ReplayBanner, usePlayer } from './ReplayView.tsx';
import { type PreparedRoomRecording, type RoomMoment, roomMomentAt } from './room-moment.ts';

/** The moment shown, as an external store: it changes (and renders) only when an update passes. */
function momentStore(rec: PreparedRoomRecording) {
  let moment: RoomMoment = roomMomentAt(rec, 0);
  const listeners = new Set<() => void>();
  return {
    get: () => moment,
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    show(positionMs: number) {
      const next = roomMomentAt(rec, positionMs);
      if (next.passed === moment.passed) return;
      moment = next;
      for (const listener of listeners) listener();
    },
  };
}

interface Props {
  rec: PreparedRoomRecording;
  onLeave(): void;
}

/** A room's race replayed: the banner, then everyone's race as the presenter's page received it. */
export function RoomReplayView({ rec, onLeave }: Props) {
  const store = useMemo(() => momentStore(rec), [rec]);
  const player = usePlayer(() => ({ durationMs: rec.durationMs, show: store.show }), rec);
  const moment = useSyncExternalStore(store.subscribe, store.get);
  const { data } = rec;
  const made = useMemo(() => madeWhen(data.exportedAt), [data.exportedAt]);
  const phones = data.participants.filter((p) => p.role === 'audience').length;
  return (
    <>
      <ReplayBanner player={player} durationMs={rec.durationMs} source={rec.source} onLeave={onLeave}>
        Room {formatRoomCode(data.code)}’s race, run on {made}
        <MadeWhere origin={data.origin} /> by {phones} {phones === 1 ? 'participant' : 'participants'}:{' '}
        {data.race.scenario.spec.durationMs} ms in {data.race.scenario.spec.steps} steps.
      </ReplayBanner>
      <div className="replay-room" data-testid="replay-room">
        <AggregateView
          race={data.race}
          aggregate={moment.aggregate}
          progress={moment.progress}
          participants={data.participants}
        />
      </div>
    </>
  );
}
