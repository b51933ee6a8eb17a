import { useAppStore } from '../../store/index.ts';

/**
 * Completions read out politely by screen readers, each added as its own line so that two lanes
 * ending close together are both announced; the cards carry the same facts visibly.
 */
export function Announcer() {
  const announcements = useAppStore((s) => s.race.announcements);
  return (
    <div className="visually-hidden" aria-live="polite" data-testid="announcer">
      {announcements.map((a) => (
        <p key={a.id}>{a.text}</p>
      ))}
    </div>
  );
}
