import { MAX_PREFER_WAIT_S } from '@transport-lab/shared';

export interface Preferences {
  respondAsync: boolean;
  /** Seconds the client is willing to wait for the answer itself, capped at MAX_PREFER_WAIT_S. */
  waitS?: number;
}

/**
 * Parses `Prefer` (RFC 7240 §2): comma-separated preferences, each `token [= value]` with optional
 * `; parameters`, names case-insensitive, values possibly quoted; several headers combine. An
 * unknown or malformed preference is ignored, as §2 asks, never an error.
 */
export function parsePrefer(header: string | string[] | undefined): Preferences {
  const out: Preferences = { respondAsync: false };
  const joined = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const item of joined.split(',')) {
    const [head] = item.split(';');
    const [rawName, ...rawValue] = (head ?? '').split('=');
    const name = rawName?.trim().toLowerCase();
    const value = rawValue
      .join('=')
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (name === 'respond-async') out.respondAsync = true;
    if (name === 'wait' && /^\d{1,9}$/.test(value) && out.waitS === undefined) {
      out.waitS = Math.min(Number(value), MAX_PREFER_WAIT_S);
    }
  }
  return out;
}
