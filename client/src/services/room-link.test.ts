import { describe, expect, it } from 'vitest';
import { isLoopbackHost, roomCodeFromSearch, roomJoinLink, withRoomParam } from './room-link.ts';

describe('room links', () => {
  it('reads ?room= as people read a code, and keeps what is not a code as typed', () => {
    expect(roomCodeFromSearch('?room=abcd2345')).toBe('ABCD-2345');
    expect(roomCodeFromSearch('?room=ABCD-2345&view=phone')).toBe('ABCD-2345');
    expect(roomCodeFromSearch('?room=nope')).toBe('nope');
    expect(roomCodeFromSearch('?view=phone')).toBeUndefined();
  });

  it('makes a join link with the code and nothing else', () => {
    expect(roomJoinLink('http://10.0.0.5:3000/?durationMs=1000#x', 'ABCD2345')).toBe(
      'http://10.0.0.5:3000/?room=ABCD2345',
    );
  });

  it('adds the room to a settings link, or takes it away', () => {
    const link = 'http://h/?durationMs=1000&lanes=sse,websocket';
    expect(withRoomParam(link, 'ABCD2345')).toBe(
      'http://h/?durationMs=1000&lanes=sse,websocket&room=ABCD2345',
    );
    expect(withRoomParam(`${link}&room=ABCD2345`, undefined)).toBe(link);
  });

  it('knows a loopback host, which no phone can reach', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'app.localhost']) {
      expect(isLoopbackHost(host)).toBe(true);
    }
    for (const host of ['192.168.1.20', 'lab.example.org', '10.0.0.5'])
      expect(isLoopbackHost(host)).toBe(false);
  });
});
