import { LinkId, NETWORK_PRESETS } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { LinkRegistry } from './links.ts';

describe('LinkRegistry ids', () => {
  it('start with the instance prefix (NETWORK_LINK_PREFIX) and stay valid link ids', () => {
    const links = new LinkRegistry(undefined, undefined, undefined, undefined, 'i2-');
    const ids = new Set<string>();
    for (let i = 0; i < 50; i += 1) {
      const { id } = links.create('none', NETWORK_PRESETS.none.profile);
      expect(id).toMatch(/^i2-[A-Za-z0-9_-]{22}$/);
      expect(LinkId.safeParse(id).success).toBe(true);
      ids.add(id);
    }
    expect(ids.size).toBe(50);
    // Another instance's cookie (routed here after its instance went away) is adopted, not refused.
    expect(links.adopt('i1-AAAAAAAAAAAAAAAAAAAAAA')?.id).toBe('i1-AAAAAAAAAAAAAAAAAAAAAA');
  });

  it('are bare 128-bit base64url without a prefix', () => {
    const { id } = new LinkRegistry().create('none', NETWORK_PRESETS.none.profile);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
