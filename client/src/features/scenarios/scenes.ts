import { checkBackgroundTab, checkDeadSocket } from './checks-scenes.ts';
import { LEARN_MORE } from './learn-more.ts';
import type { Scenario, Source } from './scenarios.ts';

/**
 * Scenes people hit in production (issue 15, item 5), as guided scenarios in the others' shape, after
 * them in the list. Each step that needs more than a lane's card says so (`observe`): the runner then
 * reads the race's timeline log (`scene-figures.ts`).
 */
const SCENE_SOURCES = {
  pageVisibility: {
    label: 'W3C HTML: Page visibility (document.hidden, visibilitychange)',
    url: 'https://html.spec.whatwg.org/multipage/interaction.html#page-visibility',
  },
  chromeTimers: {
    label: 'Chrome for Developers: Heavy throttling of chained JS timers (hidden pages: once a second)',
    url: 'https://developer.chrome.com/blog/timer-throttling-in-chrome-88',
  },
  engineIoHeartbeat: {
    label: 'socket.io: server options pingInterval, pingTimeout',
    url: 'https://socket.io/docs/v4/server-options/#pinginterval',
  },
  socketIoDisconnect: {
    label: 'socket.io: troubleshooting, disconnection reasons ("ping timeout")',
    url: 'https://socket.io/docs/v4/troubleshooting-connection-issues/#problem-the-socket-gets-disconnected',
  },
} satisfies Record<string, Source>;

/** The background tab's short-polling interval: well under a second, and no divisor of its step time. */
const HIDDEN_POLL_MS = 300;

export const SCENE_SCENARIOS: Scenario[] = [
  {
    id: 'background-tab',
    title: 'A background tab: timers slow, pushes still arrive, nothing is drawn',
    lesson:
      'People switch tabs. A hidden page (Page Visibility: document.hidden) keeps running, but the browser ' +
      "saves its work: Chromium wakes a hidden page's timers at most once a second (after five minutes hidden, " +
      'chained timers once a minute), and draws no frames at all. A lane that waits on a timer, as short polling ' +
      'waits for its next poll, slows to that pace. SSE and the websocket are not timers: their events still ' +
      'arrive as they happen, but this page, like most, puts what it received on screen in an animation frame, ' +
      'and a hidden page has none, so everything waits for the page to be seen again, then appears at once. ' +
      'An application that must act while hidden (a notification, a chat) must not hang it on a timer or a ' +
      'frame; one that only shows can pause while hidden (visibilitychange) and catch up when seen. ' +
      'To run it: press Run, switch to another tab within a few seconds, wait at least 5 s there, and come back ' +
      'before the 20 s task ends.',
    expectation:
      'With the page hidden for at least 4 s during a 20 s task, short polling (300 ms interval) polls at most once a second while hidden (median gap ≥ 0.9 s); SSE and the websocket still receive events while hidden, but put none on screen until the page is visible again; every lane ends with every event once.',
    sources: [SCENE_SOURCES.pageVisibility, SCENE_SOURCES.chromeTimers],
    learnMore: [LEARN_MORE.mdnPageVisibility, LEARN_MORE.chromeTimerThrottling, LEARN_MORE.mdnEventSource],
    network: { preset: 'none' },
    steps: [
      {
        label: '20 s task: switch away, then come back',
        spec: { durationMs: 20_000, steps: 23 },
        lanes: ['short-polling', 'sse', 'websocket'],
        laneSettings: { pollIntervalMs: HIDDEN_POLL_MS },
        observe: 'background-tab',
      },
    ],
    check: ([step]) => checkBackgroundTab(step, HIDDEN_POLL_MS),
  },
  {
    id: 'dead-socket',
    title: 'A network switch: the socket still says "connected", the heartbeat notices',
    lesson:
      'A phone moves from Wi-Fi to mobile data, a NAT forgets its mapping: the path under an open connection ' +
      'dies, and nothing tells either end. No FIN, no RST: TCP would wait for minutes. The socket still says ' +
      '"connected" while nothing arrives. Only a heartbeat notices: the socket.io server pings every ' +
      'pingInterval and closes a socket that has not answered within pingTimeout, and the browser closes ' +
      'its own end when it has heard no ping for pingInterval + pingTimeout (both figures come in the ' +
      'handshake). So a dead socket goes unnoticed for at least pingTimeout and at most pingInterval + ' +
      "pingTimeout (socket.io's defaults, 25 s and 20 s: up to 45 s). Then it reconnects, and recovers what " +
      'it missed (connection state recovery) or asks for it by seq. Here the server drops every byte of the ' +
      "websocket's connection both ways (blackhole-connections) while SSE, on its own connection, goes on. " +
      "The server here uses its SOCKET_PING_INTERVAL_MS and SOCKET_PING_TIMEOUT_MS settings (socket.io's " +
      'defaults unless changed): a shorter heartbeat notices sooner, at the price of a ping per interval per socket.',
    expectation:
      'After the websocket\'s path dies 2 s into an 8 s task, the page receives nothing on it while it still says "connected", until its heartbeat gives up ("ping timeout") no sooner than pingTimeout and no later than pingInterval + pingTimeout after; it then reconnects and shows every event once; SSE finishes on time.',
    sources: [SCENE_SOURCES.engineIoHeartbeat, SCENE_SOURCES.socketIoDisconnect],
    learnMore: [LEARN_MORE.socketIoHeartbeat, LEARN_MORE.socketIoRecovery, LEARN_MORE.socketIoDelivery],
    network: { preset: 'none' },
    steps: [
      {
        label: "8 s task, the websocket's path dead at 2 s",
        spec: { durationMs: 8_000, steps: 8 },
        lanes: ['sse', 'websocket'],
        laneSettings: {},
        faults: [
          {
            afterMs: 2_000,
            fault: { kind: 'blackhole-connections', lane: 'websocket' },
            whenReady: { lanes: ['websocket'], marginMs: 500 },
          },
        ],
        observe: 'dead-socket',
      },
    ],
    check: ([step], env) => checkDeadSocket(step, env.socketHeartbeat),
  },
];
