import { ParticipantId, RaceId, RoomSecret } from '@transport-lab/shared';
import { z } from 'zod';

/** The part of `localStorage` the room needs; tests hand in a Map-backed one. */
export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * What this browser keeps of a room it is in, so that a reload rejoins as the same participant and a
 * presenter keeps the rights. The presenter's secret is kept here and nowhere on screen; it travels
 * once (in `room:create`'s ack) and is afterwards only used to sign a nonce.
 */
export const StoredRoomCredentials = z.object({
  participantId: ParticipantId,
  token: RoomSecret,
  presenterSecret: RoomSecret.optional(),
  name: z.string().max(200).optional(),
  /** The room race this page began running, and the last one the room acknowledged its result of. */
  racing: RaceId.optional(),
  reported: RaceId.optional(),
});
export type StoredRoomCredentials = z.infer<typeof StoredRoomCredentials>;

const KEY_PREFIX = 'transport-lab:room:';

export function credentialsKey(code: string): string {
  return `${KEY_PREFIX}${code}`;
}

/** Reads a room's credentials; anything unreadable (another version, a hand edit) counts as none. */
export function loadCredentials(storage: KeyValueStorage, code: string): StoredRoomCredentials | undefined {
  let raw: string | null;
  try {
    raw = storage.getItem(credentialsKey(code));
  } catch {
    return undefined; // storage refused (private mode, quota): the page works without rejoining
  }
  if (raw === null) return undefined;
  try {
    const parsed = StoredRoomCredentials.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function saveCredentials(storage: KeyValueStorage, code: string, value: StoredRoomCredentials): void {
  try {
    storage.setItem(credentialsKey(code), JSON.stringify(value));
  } catch {
    // Without storage a reload cannot rejoin; everything else still works.
  }
}

export function forgetCredentials(storage: KeyValueStorage, code: string): void {
  try {
    storage.removeItem(credentialsKey(code));
  } catch {
    // Nothing to undo.
  }
}

/** A Map-backed storage: the fallback where `localStorage` is missing, and the tests' storage. */
export function memoryStorage(): KeyValueStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => {
      map.set(key, value);
    },
    removeItem: (key) => {
      map.delete(key);
    },
  };
}

/** The browser's localStorage, or a memory one where reading it throws (sandboxed frames, some private modes). */
export function browserStorage(): KeyValueStorage {
  try {
    if (typeof localStorage !== 'undefined' && localStorage !== null) return localStorage;
  } catch {
    // SecurityError on access: fall through.
  }
  return memoryStorage();
}
