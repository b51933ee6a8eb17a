import { ROOM_LIMITS } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.ts';

describe('room settings', () => {
  it("default to the contract's ROOM_LIMITS", () => {
    const config = loadConfig({});
    expect(config.ROOM_MAX_PARTICIPANTS).toBe(ROOM_LIMITS.defaultMaxParticipants);
    expect(config.ROOM_IDLE_MS).toBe(ROOM_LIMITS.defaultIdleMs);
    expect(config.ROOM_FAILED_JOINS_PER_MINUTE).toBe(ROOM_LIMITS.failedJoinsPerMinute);
    expect(config.ROOM_MESSAGES_PER_SECOND).toBe(ROOM_LIMITS.messagesPerSecond);
  });

  it('read whole numbers from the environment', () => {
    const config = loadConfig({
      ROOM_MAX_PARTICIPANTS: '3',
      ROOM_IDLE_MS: '250',
      ROOM_FAILED_JOINS_PER_MINUTE: '4',
      ROOM_MESSAGES_PER_SECOND: '5',
    });
    expect([
      config.ROOM_MAX_PARTICIPANTS,
      config.ROOM_IDLE_MS,
      config.ROOM_FAILED_JOINS_PER_MINUTE,
      config.ROOM_MESSAGES_PER_SECOND,
    ]).toEqual([3, 250, 4, 5]);
  });

  it.each([
    ['ROOM_MAX_PARTICIPANTS', '0'],
    ['ROOM_MAX_PARTICIPANTS', 'lots'],
    ['ROOM_IDLE_MS', '1.5'],
    ['ROOM_IDLE_MS', '-1'],
    ['ROOM_FAILED_JOINS_PER_MINUTE', '0'],
    ['ROOM_MESSAGES_PER_SECOND', '2.5'],
    ['ROOM_MAX_SEATS_PER_CLIENT_PERCENT', '0'],
    ['ROOM_MAX_SEATS_PER_CLIENT_PERCENT', '101'],
    ['ROOM_JOINS_PER_CLIENT_PER_MINUTE', '0'],
    ['ROOM_MAX_ROOMS_PER_SOCKET', '0'],
    ['ROOM_MAX_ROOMS_PER_CLIENT', 'many'],
    ['ROOM_PRESENCE_INTERVAL_MS', '0'],
    // The board's 50 notes: a participant's share of more, or a reserve of them all, is a mistake.
    ['BOARD_NOTES_PER_PARTICIPANT', '51'],
    ['BOARD_PRESENTER_RESERVED_NOTES', '50'],
    ['MAX_NETWORK_LINKS_PER_CLIENT', '0'],
    // The cluster's routing settings (npm run start:cluster): k/N with 1 ≤ k ≤ N ≤ 32; a prefix ending in -.
    ['ROOM_CODE_SHARD', '0/2'],
    ['ROOM_CODE_SHARD', '3/2'],
    ['ROOM_CODE_SHARD', '1/33'],
    ['ROOM_CODE_SHARD', 'i1'],
    ['NETWORK_LINK_PREFIX', 'i1'],
    ['NETWORK_LINK_PREFIX', 'i.1-'],
  ])('stop the start-up on %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('read the cluster routing settings (npm run start:cluster)', () => {
    expect(loadConfig({ ROOM_CODE_SHARD: '2/3', NETWORK_LINK_PREFIX: 'i2-' })).toMatchObject({
      ROOM_CODE_SHARD: { index: 2, count: 3 },
      NETWORK_LINK_PREFIX: 'i2-',
    });
    expect(loadConfig({})).toMatchObject({ ROOM_CODE_SHARD: undefined, NETWORK_LINK_PREFIX: '' });
  });
});
