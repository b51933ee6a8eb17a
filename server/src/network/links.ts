import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  LinkId,
  NETWORK_LINK_COOKIE,
  NETWORK_PRESETS,
  type NetworkPresetId,
  type NetworkProfile,
} from '@transport-lab/shared';
import { LinkShaper, type ShaperClock, systemClock } from './shaper.ts';

/** A link nobody has used (no connection open, none opened, not asked about) for this long is
 *  forgotten: its cookie then means no shaping. */
export const LINK_IDLE_MS = 3_600_000;
/** Links kept at most; past this the least recently used one without open connections goes. */
export const MAX_LINKS = 10_000;

/** One browser's chosen conditions, and the connections it opened under them. */
export interface Link {
  id: string;
  preset: NetworkPresetId | null;
  profile: NetworkProfile;
  /** Undefined when the profile changes nothing (`none`): its connections are handed over as they
   *  are, only tracked so that a later choice can close them. */
  shaper: LinkShaper | undefined;
  connections: Set<Duplex>;
  lastUsedAt: number;
  /** The client (address) whose page load, choice or cookie made it; undefined for this machine,
   *  which is not bounded (access/clientLimits.ts). */
  client: string | undefined;
}

/** A profile that adds nothing: its connections need no shaping at all. */
export function isTransparent(profile: NetworkProfile): boolean {
  return (
    profile.latencyMs === 0 &&
    profile.jitterMs === 0 &&
    profile.downKbps === undefined &&
    profile.upKbps === undefined &&
    (profile.dropout === undefined || profile.dropout.chancePerSecond === 0)
  );
}

/**
 * The `lab-link` cookie's value in a Cookie header (or several, joined), if any: the first one, as
 * browsers send the most specific first. Undefined when absent.
 */
export function linkIdFromCookies(cookies: string | readonly string[] | undefined): string | undefined {
  if (cookies === undefined) return undefined;
  for (const header of typeof cookies === 'string' ? [cookies] : cookies) {
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      if (pair.slice(0, eq).trim() !== NETWORK_LINK_COOKIE) continue;
      return pair.slice(eq + 1).trim();
    }
  }
  return undefined;
}

/**
 * Every browser's link. Bounded in total (`maxLinks`, least recently used first out) and per client
 * (`maxPerClient`, MAX_NETWORK_LINKS_PER_CLIENT): without the second, one address making links (page
 * loads without a cookie, choices, made-up cookies) would push everyone else's out of the first, and
 * their chosen conditions with them.
 */
export class LinkRegistry {
  /** In order of last use, least recent first. */
  private readonly links = new Map<string, Link>();
  /** Client → how many links it holds. */
  private readonly held = new Map<string, number>();

  constructor(
    private readonly clock: ShaperClock = systemClock,
    private readonly idleMs = LINK_IDLE_MS,
    private readonly maxLinks = MAX_LINKS,
    private readonly maxPerClient = Number.POSITIVE_INFINITY,
    /** Starts every id this registry makes (NETWORK_LINK_PREFIX): behind `npm run start:cluster`'s
     *  nginx it names the instance that holds the link, and routes the browser back to it. */
    private readonly idPrefix = '',
  ) {}

  /** Whether `client` may hold one more link now; a link of its own that the new one replaces
   *  (`replacing`, its browser's current one) does not count. */
  admits(client: string | undefined, replacing?: string): boolean {
    if (client === undefined) return true;
    this.sweep();
    const replaced = replacing !== undefined && this.links.get(replacing)?.client === client ? 1 : 0;
    return (this.held.get(client) ?? 0) - replaced < this.maxPerClient;
  }

  /** Ms until the least recently used link of `client` would be forgotten unused, at least 1. */
  msUntilFreed(client: string): number {
    for (const link of this.links.values())
      if (link.client === client) return Math.max(1, link.lastUsedAt + this.idleMs - this.clock.now());
    return 1;
  }

  /** A new link (the prefix, then 128 random bits, base64url) with these conditions, for `client`;
   *  the caller has asked `admits`. */
  create(preset: NetworkPresetId | null, profile: NetworkProfile, client?: string): Link {
    this.sweep();
    return this.add({
      id: `${this.idPrefix}${randomBytes(16).toString('base64url')}`,
      preset,
      profile,
      shaper: isTransparent(profile) ? undefined : new LinkShaper(profile, this.clock),
      connections: new Set(),
      lastUsedAt: this.clock.now(),
      client,
    });
  }

  /** The link with this id, marked as used now; undefined for an unknown or expired one. */
  get(id: string | undefined): Link | undefined {
    if (id === undefined) return undefined;
    const link = this.links.get(id);
    if (!link) return undefined;
    if (this.expired(link)) {
      this.forget(link);
      return undefined;
    }
    link.lastUsedAt = this.clock.now();
    this.links.delete(id);
    this.links.set(id, link);
    return link;
  }

  /** Counts a connection as the link's until it closes. */
  track(link: Link, connection: Duplex): void {
    link.connections.add(connection);
    connection.once('close', () => {
      link.connections.delete(connection);
      link.lastUsedAt = this.clock.now();
    });
  }

  /**
   * The link a cookie names, made anew with no shaping when this server does not know it (it was
   * chosen before a restart, or expired): its connections are then still this browser's, so a later
   * choice can close them. Undefined for a value that is not a link id, and for an unknown one when
   * `client` holds its links already (its connection is then simply not tracked).
   */
  adopt(id: string, client?: string): Link | undefined {
    const known = this.get(id);
    if (known) return known;
    if (!LinkId.safeParse(id).success || !this.admits(client)) return undefined;
    return this.add({
      id,
      preset: 'none',
      profile: NETWORK_PRESETS.none.profile,
      shaper: undefined,
      connections: new Set(),
      lastUsedAt: this.clock.now(),
      client,
    });
  }

  /** Forgets the link and closes its connections, but `keep` (the one asking). */
  retire(id: string, keep?: Duplex): void {
    const link = this.links.get(id);
    if (!link) return;
    this.forget(link);
    for (const connection of link.connections) if (connection !== keep) connection.destroy();
  }

  get size(): number {
    return this.links.size;
  }

  /** Closes every link's connections (server shutdown). */
  close(): void {
    for (const link of this.links.values()) for (const connection of link.connections) connection.destroy();
    this.links.clear();
    this.held.clear();
  }

  private add(link: Link): Link {
    this.links.set(link.id, link);
    if (link.client !== undefined) this.held.set(link.client, (this.held.get(link.client) ?? 0) + 1);
    this.evict();
    return link;
  }

  private forget(link: Link): void {
    if (!this.links.delete(link.id) || link.client === undefined) return;
    const left = (this.held.get(link.client) ?? 1) - 1;
    if (left > 0) this.held.set(link.client, left);
    else this.held.delete(link.client);
  }

  private expired(link: Link): boolean {
    return link.connections.size === 0 && this.clock.now() - link.lastUsedAt > this.idleMs;
  }

  private sweep(): void {
    for (const link of this.links.values()) {
      if (this.clock.now() - link.lastUsedAt <= this.idleMs) break; // the rest are more recent
      if (link.connections.size === 0) this.forget(link);
    }
  }

  private evict(): void {
    if (this.links.size <= this.maxLinks) return;
    for (const link of this.links.values()) {
      if (this.links.size <= this.maxLinks) break;
      if (link.connections.size === 0) this.forget(link);
    }
  }
}
