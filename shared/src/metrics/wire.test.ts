import { describe, expect, it } from 'vitest';
import { utf8Bytes, websocketFrameBytes } from './wire.ts';

describe('websocketFrameBytes', () => {
  it('adds 2 bytes below 126, 4 below 65 536, 10 above, and a 4-byte mask from the client', () => {
    expect(websocketFrameBytes(1, false)).toBe(3);
    expect(websocketFrameBytes(125, true)).toBe(131);
    expect(websocketFrameBytes(126, false)).toBe(130);
    expect(websocketFrameBytes(65_535, false)).toBe(65_539);
    expect(websocketFrameBytes(65_536, true)).toBe(65_550);
  });
});

describe('utf8Bytes', () => {
  it('matches TextEncoder for ASCII, 2-, 3- and 4-byte characters', () => {
    for (const text of ['abc', 'é', '→', '🚀', 'a→é🚀z']) {
      expect(utf8Bytes(text)).toBe(new TextEncoder().encode(text).length);
    }
  });
});
