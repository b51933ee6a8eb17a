/**
 * The init of the lab's own observation requests (clock pings, the server's wire count, the public
 * settings, a webhook's delivery log): never cached, and sent without cookies. Without cookies they
 * carry no network link (`lab-link`), so the server does not shape them, and Chromium keeps them in a
 * connection pool of their own (credentials mode partitions it), away from the lanes' connections:
 * the clock offset stays as precise as loopback allows under any network profile, and no lane shares
 * a connection with the lab's bookkeeping.
 */
export const OBSERVATION: RequestInit = { cache: 'no-store', credentials: 'omit' };
