import { STORM, STREAM_DEMO } from '@transport-lab/shared';
import { checkReconnectStorm, checkSixStreams, STORM_PEAK_RATIO } from './checks-production.ts';
import { LEARN_MORE } from './learn-more.ts';
import type { Scenario, Source } from './scenarios.ts';

/**
 * Scenes people hit in production (issue 15, item 5), as guided scenarios after the lessons and in their
 * shape: each an experiment (`probes-production.ts`) rather than a race of lanes, checked by a pure
 * function (`checks-production.ts`). Their sources live here, apart from the other lists.
 */

/** The experiments these scenes run, in `ScenarioStep.probe`. */
export type ProductionProbe = 'reconnect-storm' | 'six-streams';
const PRODUCTION_PROBES: readonly string[] = ['reconnect-storm', 'six-streams'] satisfies ProductionProbe[];
export const isProductionProbe = (probe: string): probe is ProductionProbe =>
  PRODUCTION_PROBES.includes(probe);

const PRODUCTION_SOURCES = {
  socketIoReconnection: {
    label: 'socket.io client options: reconnectionDelay, randomizationFactor',
    url: 'https://socket.io/docs/v4/client-options/#reconnectiondelay',
  },
  awsBackoff: {
    label: 'AWS Architecture Blog: Exponential Backoff and Jitter',
    url: 'https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/',
  },
  mdnSixConnections: {
    label: 'MDN: EventSource (the limit of 6 connections per browser and domain without HTTP/2)',
    url: 'https://developer.mozilla.org/en-US/docs/Web/API/EventSource',
  },
  rfc9113Streams: {
    label: 'RFC 9113 §5 (HTTP/2: streams and multiplexing)',
    url: 'https://www.rfc-editor.org/rfc/rfc9113#section-5',
  },
} satisfies Record<string, Source>;

const JITTER_SPREAD_MS = STORM.reconnectionDelayMs * STORM.jitteredFactor;

export const PRODUCTION_SCENARIOS: Scenario[] = [
  {
    id: 'reconnect-storm',
    title: 'A reconnect storm after a restart: with and without jitter',
    lesson:
      'A server restarts (a deploy, a crash) and every client it held loses its connection at the same ' +
      'moment. Each one reconnects after its backoff delay, and if that delay is the same for all, they all ' +
      'come back in the same few milliseconds: the new server, still warming up, takes a spike of handshakes ' +
      '(TLS, authentication, session restore, subscriptions) that can knock it over again, and the clients ' +
      'retry together again, in waves. Jitter breaks the lock-step: socket.io draws each retry delay from ' +
      `reconnectionDelay × [1 − randomizationFactor, 1 + randomizationFactor] (its default factor is ${STORM.jitteredFactor}), so ` +
      'the same clients arrive spread over a whole delay. Here the server runs a storm of its own, so that ' +
      `nobody else's race is touched: ${STORM.clients} socket.io clients connected to a socket.io server on a ` +
      `loopback port; that server drops every connection at once, as a crashed process does, listens again ` +
      `${STORM.downtimeMs} ms later, and counts the connections it accepts every ${STORM.bucketMs} ms: once ` +
      `with randomizationFactor 0 (every client waits exactly ${STORM.reconnectionDelayMs} ms) and once with ` +
      `${STORM.jitteredFactor}. (Restarting this lab's own server would break every other person's race: it ` +
      "is the operator's restart-server fault for that reason.)",
    expectation: `Without jitter the ${STORM.clients} clients come back together, none before ${STORM.reconnectionDelayMs} ms: a peak connection rate at least ${STORM_PEAK_RATIO}× the jittered one, whose comebacks spread over at least ${JITTER_SPREAD_MS} ms. Every client comes back in both.`,
    sources: [PRODUCTION_SOURCES.socketIoReconnection, PRODUCTION_SOURCES.awsBackoff],
    learnMore: [LEARN_MORE.socketIoReconnection, LEARN_MORE.socketIoDocs],
    network: { preset: 'none' },
    steps: [
      {
        label: `Two storms of ${STORM.clients} clients: without jitter, then with`,
        spec: { durationMs: 1_000, steps: 1 },
        lanes: [],
        laneSettings: {},
        probe: 'reconnect-storm',
      },
    ],
    check: ([step]) => checkReconnectStorm(step),
  },
  {
    id: 'six-streams',
    title: 'Six event streams over HTTP/1.1, the seventh waits; over HTTP/2 it does not',
    lesson:
      'An event stream holds its request open, and over HTTP/1.1 a request holds its TCP connection: one ' +
      'answer at a time per connection. Browsers open at most 6 connections to one origin (scheme, host ' +
      'and port) over HTTP/1.1, so a page, or several tabs of the same site, with 6 streams open has none ' +
      'left: a seventh stream, and every fetch after it, waits until one closes. MDN warns of it on ' +
      "EventSource's page. HTTP/2 (RFC 9113) carries many streams over one connection, interleaved in " +
      'frames, so the same seven streams share one connection and none waits (the server sets how many at ' +
      'once, usually 100 or more). Browsers speak HTTP/2 only over TLS, so this server can listen on a ' +
      'second port with h2 and a certificate it makes at start (H2_PORT). Here the page opens 7 streams ' +
      `to one demo route, each answered with one event at once and then held, first on this page's own ` +
      'origin (HTTP/1.1), then on the HTTP/2 port; a second after they have opened it closes stream 1.',
    expectation: `Over HTTP/1.1 at most 6 of the ${STREAM_DEMO.streams} streams get their first event, and the seventh gets it only after stream 1 is closed; over HTTP/2 all ${STREAM_DEMO.streams} get theirs before the close, over one connection.`,
    sources: [PRODUCTION_SOURCES.mdnSixConnections, PRODUCTION_SOURCES.rfc9113Streams],
    learnMore: [LEARN_MORE.mdnEventSource, LEARN_MORE.rfc9113, LEARN_MORE.whatwgSse],
    network: { preset: 'none' },
    steps: [
      {
        label: `${STREAM_DEMO.streams} streams over HTTP/1.1, then over HTTP/2`,
        spec: { durationMs: 1_000, steps: 1 },
        lanes: [],
        laneSettings: {},
        probe: 'six-streams',
      },
    ],
    check: ([step]) => checkSixStreams(step),
  },
];
