import { formatRoomCode, ROOM_QUERY_PARAM, RoomCode } from '@transport-lab/shared';

/**
 * `?room=CODE` from a query string, shown as people read it (`ABCD-EFGH`) when it is a code; a value
 * that is not one is kept as typed, so that the join form shows it and says what is wrong.
 */
export function roomCodeFromSearch(search: string): string | undefined {
  const raw = new URLSearchParams(search).get(ROOM_QUERY_PARAM);
  if (raw === null || raw.trim() === '') return undefined;
  const parsed = RoomCode.safeParse(raw);
  return parsed.success ? formatRoomCode(parsed.data) : raw.slice(0, 32);
}

/** The link that joins a room: this page with `?room=CODE` and nothing else, short enough for a QR code. */
export function roomJoinLink(href: string, code: string): string {
  const url = new URL(href);
  url.search = `?${ROOM_QUERY_PARAM}=${encodeURIComponent(code)}`;
  url.hash = '';
  return url.href;
}

/** A page link with the room's code added (or removed when `code` is undefined), other parameters kept. */
export function withRoomParam(link: string, code: string | undefined): string {
  const url = new URL(link);
  const query = new URLSearchParams(url.search);
  if (code) query.set(ROOM_QUERY_PARAM, code);
  else query.delete(ROOM_QUERY_PARAM);
  const text = query.toString().replaceAll('%2C', ',');
  url.search = text ? `?${text}` : '';
  return url.href;
}

/** Loopback names: a link to one of these opens the phone's own address, not the presenter's machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\./.test(host);
}
