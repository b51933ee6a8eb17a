import { z } from 'zod';

/**
 * Network conditions, applied by the server where every lane's bytes pass: its own TCP sockets (see
 * docs/architecture.md, "Network conditions"). A page chooses a *link* (one profile) and carries it
 * in a cookie; every connection it opens (fetch, EventSource, WebSocket, the webhook relay on the
 * receiver's port: cookies ignore ports) is shaped by that link from its first byte, both ways.
 */

/** One way of a link: kilobits per second (1 kbps = 1 000 bit/s, as DevTools counts). */
const kbps = z.number().positive().max(10_000_000);

export const Dropout = z.strictObject({
  /** Chance, each second of link time, that the link stalls (0..1). */
  chancePerSecond: z.number().min(0).max(1),
  /** How long a stall lasts, ms: nothing moves either way until it ends, then what waited moves. */
  stallMs: z.int().min(1).max(60_000),
});
export type Dropout = z.infer<typeof Dropout>;

export const NetworkProfile = z.strictObject({
  /** Added to every byte's trip in each direction, ms: a round trip grows by twice this. */
  latencyMs: z.number().min(0).max(10_000),
  /** Each chunk's latency varies uniformly within ± this, ms, never below 0 and never reordering. */
  jitterMs: z.number().min(0).max(5_000),
  /** Server → page; absent: not limited. */
  downKbps: kbps.optional(),
  /** Page → server; absent: not limited. */
  upKbps: kbps.optional(),
  dropout: Dropout.optional(),
});
export type NetworkProfile = z.infer<typeof NetworkProfile>;

export const NETWORK_PRESET_IDS = ['none', '3g', 'slow-4g', 'fast-4g'] as const;
export const NetworkPresetId = z.enum(NETWORK_PRESET_IDS);
export type NetworkPresetId = z.infer<typeof NetworkPresetId>;

export interface NetworkPreset {
  id: NetworkPresetId;
  label: string;
  profile: NetworkProfile;
  /** What a newcomer should know about it. */
  summary: string;
}

/**
 * Chrome DevTools' current presets (SDK NetworkManager: "3G", "Slow 4G", "Fast 4G"). DevTools'
 * "latency" is a round trip added to each request; here it is split into its two ways, so that a
 * round trip grows by exactly DevTools' figure, and, unlike DevTools, every connection's handshake
 * and every websocket frame and stream chunk pays it too.
 */
export const NETWORK_PRESETS: Record<NetworkPresetId, NetworkPreset> = {
  none: {
    id: 'none',
    label: 'None',
    profile: { latencyMs: 0, jitterMs: 0 },
    summary: 'Loopback as it is: no latency added, no bandwidth limit.',
  },
  '3g': {
    id: '3g',
    label: '3G',
    profile: { latencyMs: 1_000, jitterMs: 0, downKbps: 400, upKbps: 400 },
    summary: '2 000 ms round trip, 400 kbps each way (DevTools "3G").',
  },
  'slow-4g': {
    id: 'slow-4g',
    label: 'Slow 4G',
    profile: { latencyMs: 281.25, jitterMs: 0, downKbps: 1_440, upKbps: 675 },
    summary: '562.5 ms round trip, 1 440 kbps down, 675 kbps up (DevTools "Slow 4G").',
  },
  'fast-4g': {
    id: 'fast-4g',
    label: 'Fast 4G',
    profile: { latencyMs: 82.5, jitterMs: 0, downKbps: 8_100, upKbps: 1_350 },
    summary: '165 ms round trip, 8 100 kbps down, 1 350 kbps up (DevTools "Fast 4G").',
  },
};

/** The cookie that names a page's link. HttpOnly: the page never needs to read it. */
export const NETWORK_LINK_COOKIE = 'lab-link';

export const LinkId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'not a link id');
export type LinkId = z.infer<typeof LinkId>;

/** `PUT /api/network/link`: choose a preset or a custom profile for this browser. */
export const SetLinkRequest = z.union([
  z.strictObject({ preset: NetworkPresetId }),
  z.strictObject({ custom: NetworkProfile }),
]);
export type SetLinkRequest = z.infer<typeof SetLinkRequest>;

/**
 * `GET`/`PUT /api/network/link` answer. After a PUT the server closes the browser's other
 * connections of its old link, so that none carries on under the old conditions; the PUT's own
 * answer comes with `Connection: close` for the same reason.
 */
export const LinkResponse = z.object({
  /** Null: this browser has no link (no shaping). */
  linkId: LinkId.nullable(),
  preset: NetworkPresetId.nullable(),
  profile: NetworkProfile,
});
export type LinkResponse = z.infer<typeof LinkResponse>;

export const NETWORK_PATHS = { link: '/api/network/link' } as const;
