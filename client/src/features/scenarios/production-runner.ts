import { appStore } from '../../store/index.ts';
import type { ProbeOutcome } from './checks-lessons.ts';
import type { StreamsTrial } from './checks-production.ts';
import { runReconnectStorms, runSevenStreams, type StreamsProbeDeps } from './probes-production.ts';
import type { ProductionProbe } from './production.ts';

/** The production scenes' experiments with the page's own fetch, EventSource and clock. */
const browser: StreamsProbeDeps = {
  openEventSource: (url) => new EventSource(url),
  now: () => performance.now(),
  setTimer(callback, ms) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};

/** The page's hostname as a URL writes it (an IPv6 literal in brackets). */
const hostOfPage = () =>
  window.location.hostname.includes(':') ? `[${window.location.hostname}]` : window.location.hostname;

/** Runs a production scene's experiment step (`production.ts`) for the scenario runner. */
export async function runProductionProbe(
  probe: ProductionProbe,
): Promise<{ probe: ProbeOutcome; faults: [] }> {
  if (probe === 'reconnect-storm') {
    const storms = await runReconnectStorms({ fetch: (input, init) => fetch(input, init) });
    return { probe: { storms }, faults: [] };
  }
  // HTTP/1.1 on the page's own origin, then HTTP/2 on the demo port of the host the page came from.
  const h1 = await runSevenStreams(browser, 'HTTP/1.1', window.location.origin);
  const h2Port = appStore.getState().server.settings?.h2Port;
  const h2: StreamsTrial =
    h2Port === undefined
      ? {
          protocol: 'HTTP/2',
          origin: '',
          streams: [],
          error: 'the HTTP/2 demo port is off on this server (start it with H2_PORT=0, or a port)',
        }
      : await runSevenStreams(browser, 'HTTP/2', `https://${hostOfPage()}:${h2Port}`);
  return { probe: { streams: [h1, h2] }, faults: [] };
}
