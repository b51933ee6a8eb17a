import ipaddr from 'ipaddr.js';

/** What the access checks need to know of a peer's address, worked out once. */
interface AddressFacts {
  /** One spelling per address: a dual-stack socket sees an IPv4 peer as ::ffff:a.b.c.d. */
  normalized: string;
  loopback: boolean;
}

/**
 * Addresses seen recently, parsed once each. Every request asks who its peer is two or three times
 * (the operator's loopback check, the client's scope, its limits), and ipaddr.js parses the string
 * again each time: 1–3 % of the server's busy time in a hall of 100 phones (docs/benchmarks.md). A
 * hall has a few hundred addresses; past this many the cache starts again, so a scan of spoofed
 * addresses cannot grow it.
 */
const MAX_REMEMBERED = 4_096;
const facts = new Map<string, AddressFacts>();

function factsOf(address: string): AddressFacts {
  let known = facts.get(address);
  if (known === undefined) {
    const valid = ipaddr.isValid(address);
    // `process` turns an IPv4-mapped IPv6 address into the IPv4 one.
    const parsed = valid ? ipaddr.process(address) : undefined;
    known = { normalized: parsed?.toString() ?? address, loopback: parsed?.range() === 'loopback' };
    if (facts.size >= MAX_REMEMBERED) facts.clear();
    facts.set(address, known);
  }
  return known;
}

/** The address in one spelling (IPv4-mapped IPv6 as IPv4); a string that is no address, as it is. */
export function normalizedAddress(address: string): string {
  return factsOf(address).normalized;
}

export function isLoopbackAddress(address: string | undefined): boolean {
  return address !== undefined && factsOf(address).loopback;
}
