/**
 * What the board needs to know of rooms, and nothing more: whether a room exists, whether a
 * participant's token is theirs (and their role), and when a room ends. The rooms server provides
 * it (wired in app.ts); tests give a small one of their own.
 */
export interface RoomDirectory {
  exists(code: string): boolean | Promise<boolean>;
  /** The participant's role when `token` is the one their join gave them, else undefined. */
  verifyParticipant(
    code: string,
    participantId: string,
    token: string,
  ): RoomRole | undefined | Promise<RoomRole | undefined>;
  /** A member did something in the room (a board edit): it is not idle. Optional for test doubles. */
  touch?(code: string): void;
  /** Calls `listener` with the code of each room that ends; returns how to stop listening. */
  onRoomEnded(listener: (code: string) => void): () => void;
}

export type RoomRole = 'presenter' | 'audience';
