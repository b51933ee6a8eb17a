import { promises as dns, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError } from '../errors.ts';

/**
 * The SSRF guard. A webhook makes this server send requests to a URL a stranger chose, from inside
 * the operator's network; so by default it may reach only:
 * - the built-in receiver, by its exact origin (scheme, host, port); or
 * - a host the operator put in WEBHOOK_ALLOWED_HOSTS (`host` = any port, `host:port` = that port).
 *   An entry that is an IP literal is the operator's explicit permission, even for loopback.
 *   An entry that is a *name* must resolve to public unicast addresses only: checked when the
 *   subscription is made (a clear 422), and again on the address actually connected to, through the
 *   request's own `lookup` (so a DNS answer that changes in between, "DNS rebinding", is caught).
 * Everything else is refused, as are non-http(s) schemes and credentials in the URL. Hosts are
 * judged after WHATWG URL parsing, which normalises `0x7f000001`, `2130706433` and `127.1` to
 * `127.0.0.1` and `[::ffff:127.0.0.1]` to `[::ffff:7f00:1]`, so numeric tricks meet the same rules.
 * Redirects are never followed (see send.ts).
 */

/** Resolves a host name to every address it has (the default is the system resolver). */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolve: Resolve = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export interface UrlGuardOptions {
  /** Normalised WEBHOOK_ALLOWED_HOSTS entries (config.ts lower-cases and trims them). */
  allowedHosts: readonly string[];
  /** Where the built-in receiver listens now (`http://127.0.0.1:3001/webhooks`), if it does. */
  builtInReceiverUrl: () => string | undefined;
  resolve?: Resolve;
}

/** What the guard let through, and how a delivery must connect to it. */
export interface WebhookTarget {
  url: URL;
  /** builtin: the receiver's origin; address: an allow-listed IP literal; name: an allow-listed
   *  name whose every resolved address must be public, checked again at connect time. */
  kind: 'builtin' | 'address' | 'name';
}

/** Why an address is off limits (ipaddr.js range name), or undefined for public unicast. */
export function forbiddenRange(address: string): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() turns an IPv4-mapped IPv6 address (::ffff:7f00:1) into the IPv4 it carries.
    parsed = ipaddr.process(address);
  } catch {
    return 'unparseable';
  }
  // Only 'unicast' is public. Everything else is refused: private (10/8, 172.16/12, 192.168/16),
  // loopback, linkLocal (169.254/16: cloud metadata at 169.254.169.254), carrierGradeNat
  // (100.64/10: Alibaba's metadata at 100.100.100.200), uniqueLocal (fc00::/7: AWS's fd00:ec2::254),
  // unspecified, multicast, broadcast, reserved, and the IPv6 ranges that embed an IPv4 address
  // (6to4, teredo, NAT64 rfc6052) which could smuggle a private one.
  const range = parsed.range();
  return range === 'unicast' ? undefined : range;
}

function refuse(url: string, reason: string, message: string): AppError {
  return new AppError('WEBHOOK_URL_REFUSED', `Webhook URL refused: ${message}`, { url, reason });
}

interface AllowEntry {
  hostname: string;
  port?: number;
}

/** `host` or `host:port` → the hostname as WHATWG URL normalises it, so `127.1` means 127.0.0.1. */
function parseAllowEntry(entry: string): AllowEntry | undefined {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(entry);
  if (!match?.[1]) return undefined;
  try {
    const { hostname } = new URL(`http://${match[1]}`);
    return match[2] === undefined ? { hostname } : { hostname, port: Number(match[2]) };
  } catch {
    return undefined;
  }
}

const effectivePort = (url: URL) => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);

/** True when a URL's hostname (as WHATWG URL gives it) is an IP literal rather than a name. */
export function isIpLiteral(hostname: string): boolean {
  return hostname.startsWith('[') || ipaddr.IPv4.isValidFourPartDecimal(hostname);
}

/** ipaddr.js and net want IPv6 without the URL's brackets. */
const bare = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1');

export class UrlGuard {
  private readonly allow: AllowEntry[];
  private readonly resolve: Resolve;

  constructor(private readonly options: UrlGuardOptions) {
    this.allow = options.allowedHosts.flatMap((entry) => parseAllowEntry(entry) ?? []);
    this.resolve = options.resolve ?? systemResolve;
  }

  /**
   * Static rules only (scheme, credentials, built-in origin, allow-list), no DNS: what a delivery
   * re-checks before each attempt. Throws AppError WEBHOOK_URL_REFUSED.
   */
  classify(raw: string): WebhookTarget {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw refuse(raw, 'invalid-url', 'not a valid absolute URL.');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw refuse(raw, 'scheme', `only http and https are allowed, not ${url.protocol.slice(0, -1)}.`);
    }
    if (url.username !== '' || url.password !== '') {
      throw refuse(
        raw,
        'credentials',
        'credentials in the URL are not allowed; the signature authenticates.',
      );
    }
    const builtin = this.options.builtInReceiverUrl();
    if (builtin !== undefined && new URL(builtin).origin === url.origin) return { url, kind: 'builtin' };

    const port = effectivePort(url);
    const allowed = this.allow.some(
      (entry) => entry.hostname === url.hostname && (entry.port === undefined || entry.port === port),
    );
    if (!allowed) {
      const range = isIpLiteral(url.hostname) ? forbiddenRange(bare(url.hostname)) : undefined;
      throw refuse(
        raw,
        range ? `address-${range}` : 'not-allowed',
        `${url.host} is neither the built-in receiver (${builtin ?? 'not listening'}) nor in WEBHOOK_ALLOWED_HOSTS` +
          (range ? ` (and it is a ${range} address)` : '') +
          '.',
      );
    }
    return { url, kind: isIpLiteral(url.hostname) ? 'address' : 'name' };
  }

  /** Everything `classify` checks, and for an allow-listed name, that it resolves to public
   *  addresses only. What `subscribe` calls: a refusal here creates nothing. */
  async check(raw: string): Promise<WebhookTarget> {
    const target = this.classify(raw);
    if (target.kind === 'name') {
      try {
        await this.publicAddresses(target.url.hostname);
      } catch (error) {
        if (error instanceof SsrfRefusal) throw refuse(raw, error.reason, error.message);
        throw refuse(raw, 'unresolvable', `${target.url.hostname} does not resolve.`);
      }
    }
    return target;
  }

  /** A `lookup` for http.request: resolves, and fails the connection if any address is not
   *  public. Node connects to what this returns, so the check is on the address actually used. */
  connectLookup(): LookupFunction {
    return (hostname, options, callback) => {
      this.publicAddresses(hostname).then(
        (addresses) => {
          const family = options.family === 4 || options.family === 6 ? options.family : undefined;
          const fitting = family ? addresses.filter((a) => a.family === family) : addresses;
          const first = fitting[0];
          if (options.all) callback(null, fitting);
          else if (first) callback(null, first.address, first.family);
          else
            callback(
              Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND' }),
              '',
            );
        },
        (error: NodeJS.ErrnoException) => callback(error, ''),
      );
    };
  }

  private async publicAddresses(hostname: string): Promise<LookupAddress[]> {
    const addresses = await this.resolve(hostname);
    if (addresses.length === 0)
      throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
    for (const { address } of addresses) {
      const range = forbiddenRange(address);
      if (range) {
        throw new SsrfRefusal(
          `address-${range}`,
          `${hostname} resolves to ${address}, a ${range} address, which webhooks may not reach.`,
        );
      }
    }
    return addresses;
  }
}

/** A connection refused by the guard at connect time (logged as the attempt's error). */
export class SsrfRefusal extends Error {
  override name = 'SsrfRefusal';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}
