import { useAppStore } from '../../store/index.ts';

/** Joins, leaves, results and the room's end, read out politely by screen readers as they happen. */
export function RoomAnnouncer() {
  const announcements = useAppStore((s) => s.room.announcements);
  return (
    <div className="visually-hidden" aria-live="polite" data-testid="room-announcer">
      {announcements.map((a) => (
        <p key={a.id}>{a.text}</p>
      ))}
    </div>
  );
}
