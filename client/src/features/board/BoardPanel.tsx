import {
  BOARD_LANES,
  BOARD_LIMITS,
  type BoardLane,
  LANES,
  NOTE_COLOURS,
  type Note,
  type NoteColour,
} from '@transport-lab/shared';
import {
  type CSSProperties,
  type FormEvent,
  type KeyboardEvent,
  type PointerEvent,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react';
import { io } from 'socket.io-client';
import { useStore } from 'zustand';
import type { StoreApi } from 'zustand/vanilla';
import { clientNow } from '../../lib/time.ts';
import { appStore } from '../../store/index.ts';
import type { BoardSocket } from './board-follow.ts';
import {
  type BoardDeps,
  type BoardSession,
  type BoardViewState,
  createBoardStore,
  newNote,
} from './board-store.ts';
import { PropagationMap } from './PropagationMap.tsx';
import './board.css';

/** base64url of 12 random bytes: note and edit ids. crypto.getRandomValues works on plain-http LAN
 *  pages, where crypto.randomUUID does not (it needs a secure context). */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** The page's deps: its fetch, EventSource, socket.io, animation frames, and the app store's clock. */
export function browserBoardDeps(): BoardDeps {
  return {
    fetch: (input, init) => fetch(input, init),
    now: clientNow,
    clock: () => appStore.getState().clock.estimate,
    receiverOrigin: () => {
      const port = appStore.getState().server.settings?.receiver.port;
      if (port === undefined) return undefined;
      const host = location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname;
      return `${location.protocol}//${host}:${port}`;
    },
    openEventSource: (url) => new EventSource(url),
    // Its own connection (forceNew), apart from the task lane's and the room's.
    openSocket: (path) =>
      io(path, { forceNew: true, autoConnect: false, transports: ['websocket'] }) as unknown as BoardSocket,
    afterPaint: (callback) => requestAnimationFrame(() => callback()),
    randomId,
  };
}

export interface BoardPanelProps {
  code: string;
  participantId: string;
  /** From the room's join (JoinRoomAck.participantToken). */
  token: string;
  /** The room role (not `role`, which JSX linters read as an ARIA role). */
  roomRole: 'presenter' | 'audience';
  /** Display names by participant id, for the map; an id without one shows its first letters. */
  names?: Record<string, string | null>;
  /** Tests give their own store. */
  store?: StoreApi<BoardViewState>;
}

const STATUS_TEXT: Record<BoardViewState['status'], string> = {
  idle: 'Not following',
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  ended: 'Ended',
};

/** The shared board: lane picker, slider, notes; for the presenter, the propagation map. */
export function BoardPanel({
  code,
  participantId,
  token,
  roomRole: role,
  names = {},
  store: given,
}: BoardPanelProps) {
  const [store] = useState(() => given ?? createBoardStore(browserBoardDeps()));
  const state = useStore(store);
  const headingId = useId();

  useEffect(() => {
    // The reports need the page's clock offset and the webhook lane the receiver's port.
    const app = appStore.getState();
    if (app.clock.status === 'idle') void app.measureClock();
    if (app.server.status === 'idle') void app.loadServerSettings();
  }, []);

  useEffect(() => {
    const session: BoardSession = { code, participantId, token, role };
    store.getState().start(session);
    return () => store.getState().stop();
  }, [store, code, participantId, token, role]);

  const board = state.board;
  return (
    <section className="board-panel" aria-labelledby={headingId}>
      <h2 id={headingId}>Shared board</h2>
      {/* Announced: the lane's status only. The version changes with every edit and is not read out. */}
      <p className="visually-hidden" role="status">
        {STATUS_TEXT[state.status]} on {LANES[state.lane].name}
        {state.detail && state.status !== 'live' ? ` (${state.detail})` : ''}
      </p>
      <p className="board-status">
        <span
          className="lane-swatch"
          aria-hidden="true"
          style={{ '--lane-color': LANES[state.lane].color } as CSSProperties}
        />{' '}
        {STATUS_TEXT[state.status]} on {LANES[state.lane].name}
        {board ? `, version ${board.version}` : ''}
        {state.lastDelayMs !== undefined ? (
          <span className="num">
            {' '}
            · last change shown {Math.round(state.lastDelayMs)} ms after it was made
          </span>
        ) : null}
        {state.detail && state.status !== 'live' ? ` (${state.detail})` : ''}
      </p>
      {state.problem ? (
        <p className="board-problem" role="alert">
          {state.problem}
        </p>
      ) : null}

      <LanePicker store={store} lane={state.lane} pollIntervalMs={state.pollIntervalMs} />

      {board ? (
        <>
          <SharedSlider store={store} value={board.slider} disabled={state.status === 'ended'} />
          <AddNote store={store} count={board.notes.length} disabled={state.status === 'ended'} />
          <NoteBoard store={store} notes={board.notes} disabled={state.status === 'ended'} />
        </>
      ) : (
        <p className="hint">Loading the board…</p>
      )}

      {role === 'presenter' ? <PropagationMap rows={state.map} names={names} /> : null}
    </section>
  );
}

function LanePicker({
  store,
  lane,
  pollIntervalMs,
}: {
  store: StoreApi<BoardViewState>;
  lane: BoardLane;
  pollIntervalMs: number;
}) {
  return (
    <fieldset className="lane-picker board-lanes">
      <legend>Receive others’ changes by</legend>
      {BOARD_LANES.map((id) => (
        <label key={id} className="lane-choice" style={{ '--lane-color': LANES[id].color } as CSSProperties}>
          <input
            type="radio"
            name="board-lane"
            value={id}
            checked={lane === id}
            onChange={() => store.getState().setLane(id)}
          />
          <span className="lane-swatch" aria-hidden="true" />
          <span className="lane-mark" aria-hidden="true">
            {LANES[id].mark}
          </span>
          <span>{LANES[id].name}</span>
        </label>
      ))}
      {lane === 'short-polling' ? (
        <label className="board-interval">
          Poll every{' '}
          <select
            value={pollIntervalMs}
            onChange={(event) => store.getState().setPollInterval(Number(event.currentTarget.value))}
          >
            {[250, 500, 1_000, 2_000, 5_000].map((ms) => (
              <option key={ms} value={ms}>
                {ms < 1_000 ? `${ms} ms` : `${ms / 1_000} s`}
              </option>
            ))}
          </select>
        </label>
      ) : null}
    </fieldset>
  );
}

/** Sends at most one slider edit per this many ms while it is being dragged; the last value always. */
const SLIDER_SEND_MS = 150;

function SharedSlider({
  store,
  value,
  disabled,
}: {
  store: StoreApi<BoardViewState>;
  value: number;
  disabled: boolean;
}) {
  const [local, setLocal] = useState<number | undefined>(undefined);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef<number | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const send = () => {
    timer.current = undefined;
    const next = latest.current;
    if (next === undefined) return;
    latest.current = undefined;
    void store
      .getState()
      .edit({ type: 'slider.set', value: next })
      .finally(() => setLocal(undefined));
  };
  const shown = local ?? value;
  return (
    <div className="board-slider">
      <label>
        Shared slider <output className="num">{value}</output>
        <input
          type="range"
          min={BOARD_LIMITS.sliderMin}
          max={BOARD_LIMITS.sliderMax}
          value={shown}
          disabled={disabled}
          aria-valuetext={`${shown} (board: ${value})`}
          onChange={(event) => {
            const next = Number(event.currentTarget.value);
            setLocal(next);
            latest.current = next;
            timer.current ??= setTimeout(send, SLIDER_SEND_MS);
          }}
        />
      </label>
    </div>
  );
}

function AddNote({
  store,
  count,
  disabled,
}: {
  store: StoreApi<BoardViewState>;
  count: number;
  disabled: boolean;
}) {
  const [text, setText] = useState('');
  const [colour, setColour] = useState<NoteColour>('yellow');
  const full = count >= BOARD_LIMITS.maxNotes;
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (full || text.trim() === '') return;
    const ok = await store
      .getState()
      .edit({ type: 'note.add', note: newNote(randomId(), text.trim(), colour, count) });
    if (ok) setText('');
  };
  return (
    <form className="board-add" onSubmit={onSubmit} aria-label="Add a note">
      <label>
        Note text
        <input
          type="text"
          value={text}
          maxLength={BOARD_LIMITS.maxTextLength}
          disabled={disabled || full}
          onChange={(event) => setText(event.currentTarget.value)}
        />
      </label>
      <ColourSelect value={colour} onChange={setColour} disabled={disabled || full} />
      <button type="submit" className="button" disabled={disabled || full || text.trim() === ''}>
        Add note
      </button>
      <span className="hint num">
        {count} / {BOARD_LIMITS.maxNotes} notes
      </span>
    </form>
  );
}

function ColourSelect({
  value,
  onChange,
  disabled,
  label = 'Colour',
  hideLabel = false,
}: {
  value: NoteColour;
  onChange: (colour: NoteColour) => void;
  disabled: boolean;
  label?: string;
  hideLabel?: boolean;
}) {
  return (
    <label>
      <span className={hideLabel ? 'visually-hidden' : undefined}>{label}</span>
      <select
        value={value}
        disabled={disabled}
        onChange={(event) => onChange(event.currentTarget.value as NoteColour)}
      >
        {NOTE_COLOURS.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Board units an arrow key moves a note; with Shift, five times as far. */
const KEY_STEP = 20;

function NoteBoard({
  store,
  notes,
  disabled,
}: {
  store: StoreApi<BoardViewState>;
  notes: Note[];
  disabled: boolean;
}) {
  return (
    <div className="board-area">
      <p className="hint board-move-hint" id="board-keys">
        To move a note, focus its ⠿ handle and use the arrow keys (Shift: further), or drag it.
      </p>
      {notes.length === 0 ? <p className="hint">No notes yet.</p> : null}
      <ul className="board-notes" aria-label="Notes">
        {notes.map((note) => (
          <NoteCard key={note.id} store={store} note={note} disabled={disabled} />
        ))}
      </ul>
    </div>
  );
}

function NoteCard({
  store,
  note,
  disabled,
}: {
  store: StoreApi<BoardViewState>;
  note: Note;
  disabled: boolean;
}) {
  const [editing, setEditing] = useState(false);
  const textRef = useRef<HTMLTextAreaElement>(null);
  // Opening the editor puts the caret in it; closing it returns focus to the note's Edit button.
  const editRef = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);
  useEffect(() => {
    const text = textRef.current;
    if (editing && text) {
      text.focus();
      text.setSelectionRange(text.value.length, text.value.length); // the caret after the text
    } else if (wasEditing.current) editRef.current?.focus();
    wasEditing.current = editing;
  }, [editing]);
  const [draft, setDraft] = useState(note.text);
  const [drag, setDrag] = useState<{ dx: number; dy: number; startX: number; startY: number } | undefined>();
  const clamp = (v: number) => Math.max(0, Math.min(BOARD_LIMITS.size, Math.round(v)));
  const move = (x: number, y: number) =>
    void store.getState().edit({ type: 'note.update', id: note.id, x, y });

  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (disabled) return;
    const step = event.shiftKey ? KEY_STEP * 5 : KEY_STEP;
    const delta: Record<string, [number, number]> = {
      ArrowLeft: [-step, 0],
      ArrowRight: [step, 0],
      ArrowUp: [0, -step],
      ArrowDown: [0, step],
    };
    const d = delta[event.key];
    if (!d) return;
    event.preventDefault();
    move(clamp(note.x + d[0]), clamp(note.y + d[1]));
  };

  // Pointer drag on the handle: the note follows the pointer locally, one edit on release.
  const area = (target: Element) => target.closest('.board-notes')?.getBoundingClientRect();
  const onPointerDown = (event: PointerEvent<HTMLButtonElement>) => {
    if (disabled) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    setDrag({ dx: 0, dy: 0, startX: event.clientX, startY: event.clientY });
  };
  const onPointerMove = (event: PointerEvent<HTMLButtonElement>) => {
    if (!drag) return;
    setDrag({ ...drag, dx: event.clientX - drag.startX, dy: event.clientY - drag.startY });
  };
  const onPointerUp = (event: PointerEvent<HTMLButtonElement>) => {
    if (!drag) return;
    const rect = area(event.currentTarget);
    setDrag(undefined);
    if (!rect || (drag.dx === 0 && drag.dy === 0)) return;
    const unitsPerPx = BOARD_LIMITS.size / rect.width;
    move(clamp(note.x + drag.dx * unitsPerPx), clamp(note.y + drag.dy * unitsPerPx));
  };

  const style = {
    '--x': note.x / BOARD_LIMITS.size,
    '--y': note.y / BOARD_LIMITS.size,
    ...(drag ? { translate: `${drag.dx}px ${drag.dy}px` } : {}),
  } as CSSProperties;

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (await store.getState().edit({ type: 'note.update', id: note.id, text: draft })) setEditing(false);
  };

  return (
    <li className={`board-note colour-${note.colour}`} style={style}>
      <button
        type="button"
        className="note-handle"
        aria-label={`Move note (${Math.round(note.x / 10)}% across, ${Math.round(note.y / 10)}% down)`}
        aria-describedby="board-keys"
        disabled={disabled}
        onKeyDown={onKeyDown}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => setDrag(undefined)}
      >
        ⠿
      </button>
      {editing ? (
        <form onSubmit={save} className="note-edit">
          <label className="visually-hidden" htmlFor={`text-${note.id}`}>
            Note text
          </label>
          <textarea
            ref={textRef}
            onKeyDown={(event) => {
              if (event.key === 'Escape') setEditing(false);
            }}
            id={`text-${note.id}`}
            value={draft}
            maxLength={BOARD_LIMITS.maxTextLength}
            onChange={(event) => setDraft(event.currentTarget.value)}
          />
          <div className="note-actions">
            <button type="submit" className="button small">
              Save
            </button>
            <button type="button" className="button small" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        // Text only: React escapes it, so markup in a note is shown as characters.
        <p className="note-text">{note.text}</p>
      )}
      {!editing ? (
        <div className="note-actions">
          <button
            ref={editRef}
            type="button"
            className="button small"
            disabled={disabled}
            onClick={() => {
              setDraft(note.text);
              setEditing(true);
            }}
          >
            Edit<span className="visually-hidden"> note</span>
          </button>
          <ColourSelect
            label="Note colour"
            hideLabel
            value={note.colour}
            disabled={disabled}
            onChange={(colour) => void store.getState().edit({ type: 'note.update', id: note.id, colour })}
          />
          <button
            type="button"
            className="button small"
            disabled={disabled}
            onClick={() => void store.getState().edit({ type: 'note.delete', id: note.id })}
          >
            Delete<span className="visually-hidden"> note</span>
          </button>
        </div>
      ) : null}
    </li>
  );
}
