import { z } from 'zod';

/**
 * Network conditions, applied by the server where every lane's bytes pass: its own TCP sockets (see
 * server/src/network/README.md). A page chooses a *link* (one profile) and carries it
 * in a cookie; every connection it opens (fetch, EventSource, WebSocket, the webhook relay on the
 * receiver's port: cookies ignore ports) is shaped by that link from its first byte, both ways.
 */

/** One way of a link: kilobits per second (1 kbps = 1 000 bit/s). */
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
  /** Where its figures come from: a published measurement or a tool's documented, measured profile. */
  source?: { name: string; url: string; basis: string };
}

/**
 * The presets are **packet-level**: `latencyMs` is half a packet round trip, paid by every packet
 * each way, so a new connection's handshake, each request and answer, each stream chunk and websocket
 * frame pays it, as on a real link. Their figures are the round trips and rates published for real
 * networks, each source named. They are *not* Chrome DevTools' presets of the same names: DevTools
 * throttles per request (one fixed delay added to each request, none on a handshake or a websocket
 * frame) and multiplies its target round trip to make up for that: its "3G" adds 2 000 ms to each
 * request for a 400 ms packet round trip (× 5), its "Slow 4G" 562.5 ms for 150 ms (× 3.75, the
 * factor Lighthouse derived), its "Fast 4G" 165 ms for 60 ms (× 2.75). Applied per packet, those
 * request-level figures would make a link several times slower than the network they stand for.
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
    profile: { latencyMs: 150, jitterMs: 0, downKbps: 700, upKbps: 700 },
    summary: '300 ms packet round trip, 700 kbps each way.',
    source: {
      name: 'Lighthouse "Regular 3G" (mobileRegular3G), after the Chrome UX Report’s 3G class',
      url: 'https://github.com/GoogleChrome/lighthouse/blob/main/core/config/constants.js',
      basis:
        'Lighthouse defines it as a 300 ms round trip and 700 kbps to match the 3G class of the Chrome UX ' +
        'Report, Chrome’s field measurements of its users’ connections (HTTP round trip 300–1 400 ms, ' +
        'under 700 kbps); Grigorik, High Performance Browser Networking, table 7-2, gives 100–500 ms for 3G.',
    },
  },
  'slow-4g': {
    id: 'slow-4g',
    label: 'Slow 4G',
    profile: { latencyMs: 75, jitterMs: 0, downKbps: 1_600, upKbps: 750 },
    summary: '150 ms packet round trip, 1 600 kbps down, 750 kbps up.',
    source: {
      name: 'Lighthouse mobile throttling (mobileSlow4G) = WebPageTest "3G Fast"',
      url: 'https://github.com/GoogleChrome/lighthouse/blob/main/docs/throttling.md',
      basis:
        'Lighthouse’s default mobile network: 150 ms round trip, 1.6 Mbps down, 750 kbps up, “roughly the ' +
        'bottom 25 % of 4G connections and top 25 % of 3G connections”; the packet round trip DevTools’ ' +
        '“Slow 4G” also aims at.',
    },
  },
  'fast-4g': {
    id: 'fast-4g',
    label: 'Fast 4G',
    profile: { latencyMs: 30, jitterMs: 0, downKbps: 9_000, upKbps: 1_500 },
    summary: '60 ms packet round trip, 9 000 kbps down, 1 500 kbps up.',
    source: {
      name: 'Mehdi Daoudi (Catchpoint), Web Performance Calendar 2013; DevTools’ “Fast 4G” target',
      url: 'https://calendar.perfplanet.com/2013/network-latency-4g/',
      basis:
        'Catchpoint measured a median ping round trip of 55 ms over 4G LTE from Los Angeles and New York ' +
        '(21 ms over home broadband), over seven days; 60 ms, 9 Mbps down and 1.5 Mbps up are the packet-level ' +
        'targets of DevTools’ “Fast 4G” (its NetworkManager.ts, targetLatency 60).',
    },
  },
};

/** One packet round trip of a profile, ms: twice its one-way latency. */
export const roundTripMs = (profile: NetworkProfile): number => 2 * profile.latencyMs;

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
