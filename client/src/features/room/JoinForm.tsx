import { ROOM_LIMITS } from '@transport-lab/shared';
import type { FormEvent } from 'react';
import { appStore, useAppStore } from '../../store/index.ts';

/**
 * Code and (optional) name, one button. Opened from a room's link, the code is already there: a
 * phone joins with one tap after the link itself.
 */
export function JoinForm({ compact = false }: { compact?: boolean }) {
  const code = useAppStore((s) => s.room.joinCode);
  const name = useAppStore((s) => s.room.nameInput);
  const pending = useAppStore((s) => s.room.pending);
  const { setRoomJoinCode, setRoomName, joinRoom } = appStore.getState();
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    void joinRoom();
  };
  const idPrefix = compact ? 'bar' : 'page';
  return (
    <form
      className={compact ? 'room-join room-join-compact' : 'room-join'}
      onSubmit={onSubmit}
      aria-label="Join a room"
      noValidate
    >
      <div className="field">
        <label htmlFor={`${idPrefix}-room-code`}>Room code</label>
        <input
          id={`${idPrefix}-room-code`}
          className="room-join-input room-code-input"
          type="text"
          value={code}
          placeholder="ABCD-EFGH"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={32}
          onChange={(event) => setRoomJoinCode(event.currentTarget.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-room-name`}>Your name (optional)</label>
        <input
          id={`${idPrefix}-room-name`}
          className="room-join-input"
          type="text"
          value={name}
          placeholder="Anonymous"
          autoComplete="nickname"
          maxLength={ROOM_LIMITS.maxNameLength}
          onChange={(event) => setRoomName(event.currentTarget.value)}
        />
      </div>
      <button type="submit" className="button primary room-join-button" disabled={pending !== undefined}>
        {pending === 'join' ? 'Joining…' : 'Join'}
      </button>
    </form>
  );
}
