import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RoomService, type RoomSettings } from './service.ts';
import type { RoomNamespace, RoomSocket, RoomSocketData } from './types.ts';

/** Just enough of socket.io for the service's idle clock: sockets with data and channels, broadcasts recorded. */
function fakeNamespace() {
  const broadcasts: Array<{ channel: string; event: string; payload: unknown }> = [];
  const sockets = new Map<string, RoomSocket>();
  const nsp = {
    sockets,
    to: (channel: string) => ({
      emit: (event: string, payload: unknown) => broadcasts.push({ channel, event, payload }),
    }),
  } as unknown as RoomNamespace;
  const socket = (id: string): RoomSocket => {
    const rooms = new Set<string>([id]);
    const fake = {
      id,
      data: {} as RoomSocketData,
      rooms,
      join: (name: string) => rooms.add(name),
      leave: (name: string) => rooms.delete(name),
      to: (channel: string) => ({
        emit: (event: string, payload: unknown) => broadcasts.push({ channel, event, payload }),
      }),
      emit: () => true,
    } as unknown as RoomSocket;
    sockets.set(id, fake);
    return fake;
  };
  return { nsp, socket, broadcasts };
}

const settings = (idleMs: number): RoomSettings => ({
  idleMs,
  maxParticipants: 10,
  aggregateIntervalMs: 250,
  presenceIntervalMs: 250,
  maxSeatsPerClientPercent: 50,
  maxRoomsPerSocket: 3,
  maxRoomsPerClient: 20,
});

describe('idle expiry', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ends a room ROOM_IDLE_MS after its last message, however many came before, and not sooner', () => {
    const { nsp, socket, broadcasts } = fakeNamespace();
    const rooms = new RoomService(settings(1_000), pino({ level: 'silent' }));
    rooms.bind(nsp);
    const ended: string[] = [];
    rooms.onRoomEnded((code, reason) => ended.push(`${code}:${reason}`));
    const presenter = socket('presenter');
    const { room } = rooms.create(presenter, { device: 'desktop' }, undefined);

    // A message every 600 ms for 3 s: the room never goes quiet for 1 000 ms.
    for (let t = 0; t < 3_000; t += 600) {
      vi.advanceTimersByTime(600);
      rooms.touch(presenter);
    }
    expect(ended).toEqual([]);
    expect(rooms.exists(room.code)).toBe(true);

    vi.advanceTimersByTime(999);
    expect(ended).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(ended).toEqual([`${room.code}:idle`]);
    expect(rooms.exists(room.code)).toBe(false);
    expect(broadcasts.filter((b) => b.event === 'room:ended')).toEqual([
      { channel: `room:${room.code}`, event: 'room:ended', payload: { reason: 'idle' } },
    ]);
    expect(presenter.data.code).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('counts a board edit (touch by code) as activity, like a message', () => {
    const { nsp, socket } = fakeNamespace();
    const rooms = new RoomService(settings(1_000), pino({ level: 'silent' }));
    rooms.bind(nsp);
    const ended: string[] = [];
    rooms.onRoomEnded((code) => ended.push(code));
    const { room } = rooms.create(socket('presenter'), { device: 'desktop' }, undefined);
    vi.advanceTimersByTime(900);
    rooms.touch(room.code);
    vi.advanceTimersByTime(900);
    expect(ended).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(ended).toEqual([room.code]);
    rooms.touch('NOSUCHRM'); // an unknown code is no error
  });

  it('leaves no timer behind on close', () => {
    const { nsp, socket } = fakeNamespace();
    const rooms = new RoomService(settings(60_000), pino({ level: 'silent' }));
    rooms.bind(nsp);
    for (let i = 0; i < 3; i++) rooms.create(socket(`s${i}`), { device: 'phone' }, undefined);
    expect(vi.getTimerCount()).toBe(3);
    rooms.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
