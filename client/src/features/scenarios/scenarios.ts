import {
  type LaneId,
  type LaneSettings,
  NETWORK_PRESETS,
  type NetworkProfile,
  type RaceFaultTemplate,
  type SetLinkRequest,
  type TaskSpec,
} from '@transport-lab/shared';
import {
  checkBlockingWins,
  checkBufferingProxy,
  checkBusyBackend,
  checkFlakyNetwork,
  checkIntervalSweep,
  checkPushWins,
  checkReceiverDown,
  checkSlowLink,
  type StepOutcome,
  type Verdict,
} from './checks.ts';
import { LEARN_MORE } from './learn-more.ts';
import { LESSON_SCENARIOS } from './lessons.ts';
import { PRODUCTION_SCENARIOS, type ProductionProbe } from './production.ts';
import { SCENE_SCENARIOS } from './scenes.ts';

export {
  type CardFigure,
  eventsOf,
  type FigureRef,
  type LaneOutcome,
  type StepOutcome,
  type Verdict,
} from './checks.ts';

/**
 * Guided scenarios (issue 5, corrected in issue 12): each sets up one trade-off in one click, says what
 * to notice and why, states its expected outcome, and checks it against what this page measured. The
 * task and the network are chosen so that the mechanism, not an accident of timing, decides the outcome:
 * no poll interval divides the step time, and the networks are real ones (packet round trips from
 * published measurements, `NETWORK_PRESETS`). The checks are pure functions of the page's own figures
 * (`checks.ts`), tested against deliberately wrong mechanisms.
 */

export interface ScenarioStep {
  /** "Interval 500 ms": shown while it runs and on the plot. */
  label: string;
  spec: TaskSpec;
  lanes: LaneId[];
  laneSettings: Partial<LaneSettings>;
  /**
   * Each fault `afterMs` after the race's action (the race's run id is filled in then), or, with
   * `whenReady`, once those lanes have given their first feedback (a 202, an acknowledgement) and
   * `marginMs` more, never before `afterMs`: a page its own work slows opens its connections late, and a
   * drop timed from Start alone could come before them and reach nothing.
   */
  faults?: Array<{
    afterMs: number;
    fault: RaceFaultTemplate;
    whenReady?: { lanes: LaneId[]; marginMs: number };
  }>;
  /**
   * Faults applied before the race starts, under the run id the race will carry (the runner names it
   * first): for a fault its tasks must meet from their creation on (a busy backend of the run's own).
   */
  before?: RaceFaultTemplate[];
  /** The x of this step on the scenario's plot (the interval sweep). */
  x?: number;
  /**
   * Instead of a race, an experiment of the page's own requests (`probes.ts`): for a lesson that
   * happens between a request and its retry, which no lane's card shows. `lanes` is then empty.
   */
  probe?: 'retried-post' | 'attack-webhooks' | 'expiring-token' | ProductionProbe;
  /** A production scene's figures to read from the race's timeline log after it (`scene-figures.ts`). */
  observe?: 'dead-socket' | 'background-tab';
  /** The scenario presses Cancel, timed as a fault is (`afterMs`, `whenReady`). */
  cancel?: { afterMs: number; whenReady?: { lanes: LaneId[]; marginMs: number } };
  /**
   * A step whose check reads margins smaller than a stall of the page's own main thread: when the
   * race's longest frame (the page-busy monitor) was longer than this, ms, the race is run again, at
   * most `MAX_RETAKES` more times, and the verdict says so. On a loaded machine the page once showed a
   * blocking call's answer 770 ms after Chromium received it, which ate the half round trip the
   * check asks: the page's stall, not the transports.
   */
  retakeWhenPageBusyMs?: number;
}

/** Races a step runs again at most, when the page itself was too busy to measure it. */
export const MAX_RETAKES = 2;

/** Whether a step's race is run again: its page was busier than the step allows, retakes remain. */
export function shouldRetake(
  step: Pick<ScenarioStep, 'retakeWhenPageBusyMs'>,
  longestFrameMs: number | undefined,
  retakes: number,
): boolean {
  if (step.retakeWhenPageBusyMs === undefined || retakes >= MAX_RETAKES) return false;
  return (longestFrameMs ?? 0) > step.retakeWhenPageBusyMs;
}

/** The why-line's note on a step's retakes, each the longest frame that spoiled a race, ms. */
export function retakeNote(label: string, spoiled: readonly number[]): string {
  if (spoiled.length === 0) return '';
  const frames = spoiled.map((ms) => `${Math.round(ms)} ms`).join(', then ');
  const times = spoiled.length === 1 ? 'once' : `${spoiled.length} times`;
  return ` "${label}" was raced again ${times}: the page itself was busy (a frame of ${frames}), which is not the transports' doing.`;
}

/** What a check may need beyond the figures: the server's own settings. */
export interface CheckEnv {
  /** WEBHOOK_SCHEDULE_SCALE, from `GET /api/settings`. */
  webhookScheduleScale?: number;
  /** socket.io's heartbeat (SOCKET_PING_INTERVAL_MS, SOCKET_PING_TIMEOUT_MS), from `GET /api/settings`. */
  socketHeartbeat?: { pingIntervalMs: number; pingTimeoutMs: number };
  /** SYNC_TIMEOUT_MS, from `GET /api/settings`: how long the blocking call's request is held. */
  syncTimeoutMs?: number;
}

export interface Source {
  label: string;
  url: string;
}

export interface Scenario {
  id: string;
  title: string;
  /** What to notice, and why: for training. */
  lesson: string;
  /** The outcome the scenario states before it runs. */
  expectation: string;
  /** Where its claims come from: shown as a "Sources" line. */
  sources: Source[];
  /**
   * For a learner without a presenter: where to read on (MDN, the RFCs, WHATWG, nginx, socket.io,
   * Standard Webhooks), shown as a "Learn more" list beside the sources.
   */
  learnMore?: Source[];
  network: SetLinkRequest;
  steps: ScenarioStep[];
  /** Draw the steps as a plot (x = step.x): the interval sweep. */
  plot?: { xLabel: string };
  /**
   * Every lane connects at Start, as on a first visit: the websocket this page opens ahead of a race
   * (as an application opens its socket when its page loads) is not used. For the lessons that count
   * the websocket's own connect in round trips.
   */
  coldStart?: boolean;
  check(outcomes: StepOutcome[], env: CheckEnv): Verdict;
}

/** The profile a scenario's network applies. */
export function profileOf(network: SetLinkRequest): NetworkProfile {
  return 'preset' in network ? NETWORK_PRESETS[network.preset].profile : network.custom;
}

const DEFAULT_LANE_SETTINGS: LaneSettings = {
  longPollWaitMs: 25_000,
  hybridWaitS: 10,
  hybridPushLane: 'sse',
};
export const laneSettingsOf = (step: ScenarioStep): LaneSettings => ({
  ...DEFAULT_LANE_SETTINGS,
  ...step.laneSettings,
});

const SOURCES = {
  rfc9110Idempotent: {
    label: 'RFC 9110 §9.2.2 (idempotent methods, automatic retries)',
    url: 'https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2',
  },
  rfc9110Accepted: {
    label: 'RFC 9110 §15.3.3 (202 Accepted)',
    url: 'https://www.rfc-editor.org/rfc/rfc9110#section-15.3.3',
  },
  rfc9110RetryAfter: {
    label: 'RFC 9110 §10.2.3 (Retry-After)',
    url: 'https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3',
  },
  rfc9112: { label: 'RFC 9112 (HTTP/1.1 messages)', url: 'https://www.rfc-editor.org/rfc/rfc9112' },
  rfc7541: { label: 'RFC 7541 (HPACK)', url: 'https://www.rfc-editor.org/rfc/rfc7541' },
  rfc9204: { label: 'RFC 9204 (QPACK)', url: 'https://www.rfc-editor.org/rfc/rfc9204' },
  rfc6455: {
    label: 'RFC 6455 §4 (WebSocket opening handshake)',
    url: 'https://www.rfc-editor.org/rfc/rfc6455#section-4',
  },
  mdnSse: {
    label: 'MDN: Using server-sent events',
    url: 'https://developer.mozilla.org/en-US/docs/Web/API/Server-sent_events/Using_server-sent_events',
  },
  socketIoHow: { label: 'socket.io: How it works', url: 'https://socket.io/docs/v4/how-it-works/' },
  socketIoRecovery: {
    label: 'socket.io: Connection state recovery',
    url: 'https://socket.io/docs/v4/connection-state-recovery',
  },
  idempotencyKey: {
    label: 'IETF draft: The Idempotency-Key HTTP header',
    url: 'https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/',
  },
  standardWebhooks: {
    label: 'Standard Webhooks specification',
    url: 'https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md',
  },
  nginxBuffering: {
    label: 'nginx: proxy_buffering, X-Accel-Buffering, proxy_ignore_headers',
    url: 'https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffering',
  },
  nginxWebSocket: {
    label: 'nginx: WebSocket proxying',
    url: 'https://nginx.org/en/docs/http/websocket.html',
  },
  ageOfInformation: {
    label: 'Kaul, Yates, Gruteser: Real-time status: how often should one update? (INFOCOM 2012)',
    url: 'https://doi.org/10.1109/INFCOM.2012.6195689',
  },
  rfc9110GatewayTimeout: {
    label: 'RFC 9110 §15.6.5 (504 Gateway Timeout)',
    url: 'https://www.rfc-editor.org/rfc/rfc9110#section-15.6.5',
  },
  lighthouseThrottling: {
    label: 'Lighthouse: network throttling (packet- vs request-level)',
    url: 'https://github.com/GoogleChrome/lighthouse/blob/main/docs/throttling.md',
  },
} satisfies Record<string, Source>;

/**
 * When the flaky-network scenario drops every lane's connections, ms after Start: two seconds before its
 * task's first step (at 4 s), when every lane has a request or a stream open (long polling's poll is held
 * until that step), so the drop reaches each of them, not an idle moment between two polls. On a page
 * its own work slows, the drop waits until the following lanes have had their first feedback, and half a
 * second more (`whenReady`). The first step is that far off so that a late first feedback cannot push
 * the drop past it: on a machine at a load of 14–24, the websocket's first answer came at 2.7 s, the
 * drop at 3.2 s, after a first step at 3 s, and it found long polling between two polls (no sign of it).
 */
export const FLAKY_DROP_AT_MS = 2_000;
/** The poll interval of the 20 s report. */
const REPORT_POLL_MS = 1_000;
/** The receiver-down scenario's fault: 503 with Retry-After: 1, to this many deliveries. */
const RECEIVER_REFUSALS = 3;
const RECEIVER_RETRY_AFTER_S = 1;
/** Intervals of the sweep: each double the one before. */
export const SWEEP_INTERVALS_MS = [250, 500, 1_000, 2_000] as const;
/** The sweep's task: 13 steps in 10 s, one every 769 ms, which no interval of the sweep divides. */
export const SWEEP_TASK: TaskSpec = { durationMs: 10_000, steps: 13 };
/**
 * The busy backend: four workers of the race's own, sixteen tasks of 9 s ahead of it (four rounds of
 * 9 s, 36 s in all), so that the race's four tasks, twenty in all, wait past the server's default
 * SYNC_TIMEOUT_MS (30 s) with 6 s to spare for a slow start, then run 2 s.
 */
export const BUSY_BACKEND = { workers: 4, backlog: 16, backlogTaskMs: 9_000 } as const;
const BUSY_BACKEND_ASYNC_LANES = ['short-polling', 'sse', 'websocket'] as const;

export const SCENARIOS: Scenario[] = [
  {
    id: 'blocking-wins',
    title: 'A 50 ms operation: the blocking call wins',
    lesson:
      'When the work is quicker than a round trip, what a person waits for is counted in round trips, and the ' +
      'blocking call spends the fewest: one request carries the question and comes back with the result. The ' +
      'other lanes answer sooner with something, a 202 Accepted or an open socket, but not with the result: ' +
      'the polling lanes and SSE must then ask again (a poll, a held request, a stream), and the websocket ' +
      'first upgrades its connection and joins socket.io before it can ask at all. Every lane here starts ' +
      "cold, as on a first visit, so each also pays TCP's handshake. Over a connection or a socket that is " +
      'already open those setup round trips cost nothing: an open websocket would answer in one round trip ' +
      'too (this page opens one ahead of an ordinary race, as an application opens its socket when it loads; ' +
      'not in this scenario).',
    expectation:
      'On "3G" (300 ms packet round trip), request/response shows the result first, with one request, at least half a round trip (150 ms) before every other lane.',
    sources: [SOURCES.rfc9110Accepted, SOURCES.socketIoHow, SOURCES.lighthouseThrottling],
    learnMore: [LEARN_MORE.mdnHttpOverview, LEARN_MORE.mdn202, LEARN_MORE.rfc9110, LEARN_MORE.mdnWebSockets],
    network: { preset: '3g' },
    coldStart: true,
    steps: [
      {
        label: '50 ms task on 3G',
        spec: { durationMs: 50, steps: 1 },
        lanes: ['request-response', 'short-polling', 'long-polling', 'sse', 'websocket'],
        laneSettings: { pollIntervalMs: 100 },
        // Its margin is half a round trip (150 ms): a longer stall of the page's own could eat it.
        retakeWhenPageBusyMs: 100,
      },
    ],
    check: ([step]) => checkBlockingWins(step, 2 * NETWORK_PRESETS['3g'].profile.latencyMs),
  },
  {
    id: 'push-wins',
    title: 'A 20 s report: push shows each step at once, polling wastes requests',
    lesson:
      'For long work the server knows first. SSE and the websocket push each step the moment it happens, over ' +
      'one connection; long polling hears as soon, because the server holds its request until there is news, ' +
      'at the price of one request per answer. Short polling asks every second and mostly hears "nothing new"; ' +
      'it learns of a step at its next poll, on average half an interval late, anything from 0 to a whole ' +
      'interval by chance of timing (the 7 steps come every 2.9 s, so they fall at every moment of the ' +
      "polls' cycle). Each poll is a whole HTTP request: over HTTP/1.1, as here, its headers travel in full " +
      'every time; HTTP/2 and HTTP/3 compress repeated headers (HPACK, QPACK), but the server still answers ' +
      'every request. Pages polling every second send one request a second each: 10 000 of them, 10 000 a second.',
    expectation:
      'On "Fast 4G" (60 ms packet round trip), SSE, the websocket and long polling each show the steps at least a quarter interval (250 ms) sooner on average than short polling (delay per update), SSE and the websocket with at most 2 requests; at least a third of short polling\'s polls are wasted (about two in three at its full rate).',
    sources: [SOURCES.mdnSse, SOURCES.rfc9112, SOURCES.rfc7541, SOURCES.rfc9204],
    learnMore: [
      LEARN_MORE.rfc6202,
      LEARN_MORE.whatwgSse,
      LEARN_MORE.mdnEventSource,
      LEARN_MORE.rfc6455,
      LEARN_MORE.socketIoDocs,
    ],
    network: { preset: 'fast-4g' },
    steps: [
      {
        label: '20 s report, 7 steps',
        spec: { durationMs: 20_000, steps: 7 },
        lanes: ['short-polling', 'long-polling', 'sse', 'websocket'],
        laneSettings: { pollIntervalMs: REPORT_POLL_MS },
      },
    ],
    check: ([step]) => checkPushWins(step, REPORT_POLL_MS),
  },
  {
    id: 'interval-sweep',
    title: 'The polling interval sweep: freshness against requests',
    lesson:
      'A polling interval trades freshness for requests: double it and the page sends half the requests, and ' +
      'what it shows is on average half an interval older. No interval gets both; a push lane does (SSE races ' +
      'beside each poll here as the yardstick, on the same link and the same page). Two ages tell this apart. The age of information, ' +
      'time-averaged, is how old the value on screen was, averaged over every moment of the task: it grows ' +
      'with the interval. The delay per update is how old each value was when it reached the screen: it ' +
      'grows only until the interval reaches the step time, then stops, because a slower poll skips values ' +
      "rather than showing them later (the updates shown fall instead). The task's 13 steps come every " +
      '769 ms, which no interval divides nor is a multiple of, so the polls meet the ' +
      'steps at every moment of their cycle, as real ones would; with a step every 500 ms, intervals of 500, ' +
      '1 000 and 2 000 ms would catch each step at the same moment, and the plot would show that accident ' +
      '(aliasing), not the mechanism.',
    expectation:
      "As the interval doubles from 250 ms to 2 s, requests fall (never rise, and to a third or less from the shortest to the longest); the polls meet the steps at many moments of their cycle (their delays per update spread); polling's age of information stays above that of SSE racing beside it, by about half the interval (0.35 to 0.65 ms per ms of interval, over the four); SSE uses at most 2 requests.",
    sources: [SOURCES.ageOfInformation, SOURCES.mdnSse],
    learnMore: [LEARN_MORE.rfc6202, LEARN_MORE.mdnRetryAfter, LEARN_MORE.whatwgSse],
    network: { preset: 'fast-4g' },
    plot: { xLabel: 'poll interval (ms)' },
    steps: SWEEP_INTERVALS_MS.map((interval) => ({
      label: `Interval ${interval} ms`,
      x: interval,
      spec: SWEEP_TASK,
      lanes: ['short-polling', 'sse'],
      laneSettings: { pollIntervalMs: interval },
    })),
    check: (steps) => checkIntervalSweep(steps),
  },
  {
    id: 'flaky-network',
    title: 'A flaky network: who resumes and who starts over',
    lesson:
      'Connections break. A lane that knows the last event it saw asks for what came after it and misses ' +
      "nothing: SSE's Last-Event-ID (the browser sends it by itself when it reconnects), long polling's " +
      "cursor, the websocket's re-subscribe from its last seq. socket.io can replay what a dropped socket " +
      'missed (connection state recovery), but its documentation warns that recovery "will not always be ' +
      'successful", so the lane asks again by seq when it is not. A blocking request that loses its ' +
      'connection loses its answer, and the page has no task id to ask again with. And a browser may re-send ' +
      'a request by itself when a kept-alive connection drops before any answer: Chromium does, a POST ' +
      'included, taking the server to have closed the idle connection before reading it (RFC 9110 §9.2.2 ' +
      "allows such a retry only when the client can tell the request was never applied); only the server's " +
      'count shows it. Here the server cancels a blocking task whose client went ' +
      'away, so the work starts over; a server that does not would run it twice. That is why a POST that must ' +
      'not run twice carries an Idempotency-Key, or answers 202 with a Location to ask again, as the other ' +
      "lanes' POSTs here do.",
    expectation:
      "After every lane's connections are dropped 2 s into an 8 s task, two seconds before its first step (60 ms round trip, ± 10 ms jitter), long polling, SSE and the websocket each show a sign of the drop, then every event once, in order, and succeed; request/response either fails or starts the task over and answers a whole task after the drop.",
    sources: [SOURCES.mdnSse, SOURCES.socketIoRecovery, SOURCES.rfc9110Idempotent, SOURCES.idempotencyKey],
    learnMore: [
      LEARN_MORE.whatwgSse,
      LEARN_MORE.mdnIdempotent,
      LEARN_MORE.rfc9110,
      LEARN_MORE.socketIoDelivery,
    ],
    network: { custom: { latencyMs: 30, jitterMs: 10 } },
    steps: [
      {
        label: `8 s task, connections dropped at ${FLAKY_DROP_AT_MS / 1000} s`,
        spec: { durationMs: 8_000, steps: 2 },
        lanes: ['request-response', 'long-polling', 'sse', 'websocket'],
        laneSettings: {},
        faults: (['request-response', 'long-polling', 'sse', 'websocket'] as const).map((lane) => ({
          afterMs: FLAKY_DROP_AT_MS,
          fault: { kind: 'drop-connections' as const, lane },
          // Long polling's poll, SSE's stream and the websocket follow their first feedback at once.
          whenReady: { lanes: ['long-polling', 'sse', 'websocket'], marginMs: 500 },
        })),
      },
    ],
    check: ([step]) => checkFlakyNetwork(step, FLAKY_DROP_AT_MS),
  },
  {
    id: 'receiver-down',
    title: 'The receiver is down: webhooks retry, in order, within a window',
    lesson:
      'A webhook is a request the server makes to your backend. When the backend refuses, the server keeps ' +
      'the event (it was stored before it was sent) and tries again on a schedule, the Standard Webhooks example: ' +
      'immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h. This lab runs that ' +
      'schedule 100 times faster (WEBHOOK_SCHEDULE_SCALE, 0.01 by default), so the fourth attempt, 35 min ' +
      "after the first in real time, comes here after about 21 s. A 503's Retry-After is a floor: it can " +
      'lengthen a wait (the 50 ms second wait becomes 1 s), never shorten one. Deliveries of one task go in ' +
      'order, one at a time, so while one event is refused the later ones wait behind it ' +
      '(head-of-line blocking), then follow at once. Nothing is lost within the retry window; after the tenth ' +
      'attempt, or on a 410 Gone, the event is dropped. Delivery is at least once: a receiver whose 200 was ' +
      'lost gets the same webhook-id again, and must de-duplicate by it (the built-in receiver does).',
    expectation:
      'With the receiver answering 503 (Retry-After: 1) to the next 3 deliveries, the event they refuse is retried no sooner than the schedule and Retry-After allow and delivered on its 4th attempt, the events after it only then and in order, and the webhook lane shows every event and succeeds.',
    sources: [SOURCES.standardWebhooks, SOURCES.rfc9110RetryAfter],
    learnMore: [LEARN_MORE.standardWebhooks, LEARN_MORE.mdnRetryAfter, LEARN_MORE.rfc9110],
    network: { preset: 'none' },
    steps: [
      {
        label: '3 s task, receiver down at first',
        spec: { durationMs: 3_000, steps: 3 },
        lanes: ['webhook', 'sse'],
        laneSettings: {},
        faults: [
          {
            afterMs: 0,
            fault: {
              kind: 'receiver',
              mode: 'unavailable-503',
              retryAfterS: RECEIVER_RETRY_AFTER_S,
              count: RECEIVER_REFUSALS,
            },
          },
        ],
      },
    ],
    check: ([step], env) =>
      checkReceiverDown(step, {
        refused: RECEIVER_REFUSALS,
        retryAfterMs: RECEIVER_RETRY_AFTER_S * 1000,
        scheduleScale: env.webhookScheduleScale,
      }),
  },
  {
    id: '3g-phone',
    title: 'A 3G phone: round trips set the time, headers the bytes',
    lesson:
      'On a 3G link every packet round trip costs about 300 ms, so what a lane waits for is counted in round ' +
      "trips. Before its first word, request/response, short polling and SSE need two: TCP's handshake, then " +
      "the request. The websocket, cold as on a first visit, needs about four: TCP, the HTTP upgrade, socket.io's connect, then the " +
      'task:start and its acknowledgement. Headers are another cost: every poll repeats its request line and ' +
      "headers, most of what short polling sends, yet at 700 kbps a request's headers take a few " +
      'milliseconds against a 300 ms round trip. They weigh on the bytes (and a metered data plan), not on the ' +
      'time; HTTP/2 would compress the repeats, this lab speaks HTTP/1.1. This "3G" is a packet-level 300 ms ' +
      "round trip and 700 kbps (Lighthouse's Regular 3G, after the Chrome UX Report's 3G class), not DevTools' " +
      '"3G", which adds 2 000 ms to each request.',
    expectation:
      "On \"3G\" (300 ms packet round trip, 700 kbps), no lane shows anything sooner than two round trips, the websocket's first feedback comes at least a round trip after SSE's and short polling's, and short polling's bytes up are at least 90 % request lines and headers, each request's taking under a tenth of a round trip to send.",
    sources: [SOURCES.lighthouseThrottling, SOURCES.socketIoHow, SOURCES.rfc6455, SOURCES.rfc7541],
    learnMore: [LEARN_MORE.mdnHttpOverview, LEARN_MORE.rfc6455, LEARN_MORE.rfc8441, LEARN_MORE.socketIoDocs],
    network: { preset: '3g' },
    coldStart: true,
    steps: [
      {
        label: '4 s task on 3G',
        spec: { durationMs: 4_000, steps: 5 },
        lanes: ['request-response', 'short-polling', 'sse', 'websocket'],
        laneSettings: { pollIntervalMs: 1_000 },
      },
    ],
    check: ([step]) => checkSlowLink(step, NETWORK_PRESETS['3g'].profile),
  },
  {
    id: 'buffering-proxy',
    title: 'A proxy that buffers: why SSE needs X-Accel-Buffering: no',
    lesson:
      'A reverse proxy that buffers answers holds an event stream until its buffer fills or the stream ends: ' +
      'the page sees nothing, then everything at once. nginx buffers proxied answers by default ' +
      '(proxy_buffering on) and stops for an answer that says "X-Accel-Buffering: no", unless its ' +
      "configuration ignores that header (proxy_ignore_headers). This lab's SSE answers do say it; the " +
      'proxy simulated here ignores it, as intermediaries other than nginx may (a CDN, a corporate proxy, an ' +
      'antivirus scanning downloads), where the fix is their own setting for text/event-stream. A websocket ' +
      'is not buffered this way: once upgraded, a proxy relays its frames both ways as a tunnel. Watch the ' +
      "SSE card's bar stand still, then jump: the steps it skipped never reached the screen, so its delay per " +
      'update, counting only what it showed, looks small; "updates shown" tells the truth.',
    expectation:
      "With a buffering proxy in front of the streams, SSE's progress bar first moves at least 2 s after Start and shows at most 3 of the 20 steps, while the websocket's moves at least a second sooner and shows at least 5 of them, and 3 times as many as SSE.",
    sources: [SOURCES.nginxBuffering, SOURCES.nginxWebSocket, SOURCES.mdnSse],
    learnMore: [
      LEARN_MORE.nginxProxyBuffering,
      LEARN_MORE.whatwgSse,
      LEARN_MORE.rfc6202,
      LEARN_MORE.mdnEventSource,
    ],
    network: { preset: 'none' },
    steps: [
      {
        label: '5 s task behind a buffering proxy',
        spec: { durationMs: 5_000, steps: 20 },
        lanes: ['sse', 'websocket'],
        laneSettings: {},
        faults: [{ afterMs: 0, fault: { kind: 'buffer-streams', on: true } }],
      },
    ],
    check: ([step]) => checkBufferingProxy(step, 2_000),
  },
  ...LESSON_SCENARIOS,
  ...PRODUCTION_SCENARIOS,
  ...SCENE_SCENARIOS,
  {
    id: 'busy-backend',
    title: 'A busy backend: the blocking call times out while the others queue',
    lesson:
      'A server runs a few tasks at once, as many as it has workers; the rest wait their turn in a queue, ' +
      'first in, first out. Here the race has four workers of its own, and sixteen tasks, other people’s ' +
      'work, reach them first: the race’s four tasks, twenty in all, wait about 36 s before a worker is ' +
      'free. The blocking call holds its request open all that time and shows nothing; at the server’s sync ' +
      'timeout (SYNC_TIMEOUT_MS, 30 s) the server gives up waiting and answers 504 with a Location, while ' +
      'the task goes on waiting, as a proxy in front of a slow backend does (nginx’s proxy_read_timeout, a ' +
      'load balancer’s idle timeout). The asynchronous lanes answer at once (202 Accepted, an ' +
      'acknowledgement) and can say where the task stands: "queued, position 14". The queue time, from ' +
      'acceptance to start, is the server’s own figure, shown on every card, and every figure after it ' +
      'includes it: not the transport’s doing. A queue has a bound: past MAX_QUEUED_TASKS a new task is ' +
      'refused at once with 503 and Retry-After, rather than accepted and left to wait for ever.',
    expectation:
      'With twenty tasks on four workers (sixteen of 9 s ahead of the race), request/response is answered 504 at the server’s 30 s sync timeout while its task still waits; short polling, SSE and the websocket each show their place in the queue, then succeed, their queue time longer than the blocking call waited.',
    sources: [SOURCES.rfc9110GatewayTimeout, SOURCES.rfc9110Accepted, SOURCES.rfc9110RetryAfter],
    learnMore: [LEARN_MORE.azureAsyncRequestReply, LEARN_MORE.azureQueueLoadLeveling, LEARN_MORE.mdn504],
    network: { preset: 'none' },
    steps: [
      {
        label: '20 tasks on 4 workers',
        spec: { durationMs: 2_000, steps: 4 },
        lanes: ['request-response', ...BUSY_BACKEND_ASYNC_LANES],
        laneSettings: { pollIntervalMs: 1_000 },
        before: [{ kind: 'busy-backend', ...BUSY_BACKEND }],
      },
    ],
    check: ([step], env) =>
      checkBusyBackend(step, { asyncLanes: BUSY_BACKEND_ASYNC_LANES, syncTimeoutMs: env.syncTimeoutMs }),
  },
];
