import { appStore, useAppStore } from '../../store/index.ts';

/** What the page's link asked for that could not be used: said once, visibly, never a crash. */
export function LinkNotes() {
  const notes = useAppStore((s) => s.linkNotes);
  if (notes.length === 0) return null;
  return (
    <div className="link-notes" role="status" data-testid="link-notes">
      <ul>
        {notes.map((note) => (
          <li key={note}>{note}</li>
        ))}
      </ul>
      <button type="button" className="button small" onClick={() => appStore.getState().dismissLinkNotes()}>
        Dismiss
      </button>
    </div>
  );
}
