import { LANE_IDS, type LaneId, SSE } from '@transport-lab/shared';
import {
  checkCancel,
  checkExpiringToken,
  checkForgedWebhook,
  checkHybrid,
  checkIdleTimeout,
  checkRetriedPost,
} from './checks-lessons.ts';
import { LEARN_MORE } from './learn-more.ts';
import { EXPIRING_TOKEN_TTL_MS } from './probes.ts';
import type { Scenario, Source } from './scenarios.ts';

/**
 * The lessons issue 12 found missing (its item 4), as guided scenarios beside the first seven and in
 * their shape. Their sources are listed here rather than in `scenarios.ts`' table, so that these
 * lessons and the corrections of the first seven can be changed apart.
 */
const LESSON_SOURCES = {
  rfc9110Idempotent: {
    label: 'RFC 9110 §9.2.2 (idempotent methods, automatic retries)',
    url: 'https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2',
  },
  idempotencyKey: {
    label: 'IETF draft: The Idempotency-Key HTTP Header Field',
    url: 'https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/',
  },
  standardWebhooks: {
    label: 'Standard Webhooks specification (signature, webhook-timestamp, webhook-id)',
    url: 'https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md',
  },
  rfc7240: {
    label: 'RFC 7240 §4.1, §4.3 (Prefer: respond-async, wait)',
    url: 'https://www.rfc-editor.org/rfc/rfc7240#section-4.1',
  },
  rfc9110Accepted: {
    label: 'RFC 9110 §15.3.3 (202 Accepted)',
    url: 'https://www.rfc-editor.org/rfc/rfc9110#section-15.3.3',
  },
  mdnSse: {
    label: 'MDN: Using server-sent events',
    url: 'https://developer.mozilla.org/en-US/docs/Web/API/Server-sent_events/Using_server-sent_events',
  },
  fetchAbort: {
    label: 'WHATWG Fetch: aborting a fetch (AbortSignal)',
    url: 'https://fetch.spec.whatwg.org/#abortcontroller-api-integration',
  },
  socketIoEmit: {
    label: 'socket.io: emitting events, acknowledgements',
    url: 'https://socket.io/docs/v4/emitting-events/',
  },
  nginxReadTimeout: {
    label: 'nginx: proxy_read_timeout',
    url: 'https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_read_timeout',
  },
  whatwgSse: {
    label: 'WHATWG HTML §9.2 Server-sent events (comment lines against proxy timeouts)',
    url: 'https://html.spec.whatwg.org/multipage/server-sent-events.html#authoring-notes',
  },
  rfc6750: {
    label: 'RFC 6750 §3.1 (Bearer tokens: invalid_token, 401)',
    url: 'https://www.rfc-editor.org/rfc/rfc6750#section-3.1',
  },
  whatwgEventSource: {
    label: 'WHATWG HTML §9.2.3 (EventSource: a non-200 answer fails the connection for good)',
    url: 'https://html.spec.whatwg.org/multipage/server-sent-events.html#the-eventsource-interface',
  },
} satisfies Record<string, Source>;

/**
 * The idle-timeout lesson's proxy: just longer than this server's SSE heartbeat (`SSE.heartbeatMs`,
 * 15 s), which keeps SSE's stream, and shorter than the task's quiet time, which a held long poll then
 * outlasts. nginx's own default is 60 s; the lesson scales it down to stay under half a minute.
 */
export const IDLE_TIMEOUT_MS = SSE.heartbeatMs + 1_000;

/** Every lane of the cancel lesson: the shared list, so that a new lane is in it (HTTP streaming was
 *  missing when the list was written out here). */
const ALL_LANES: LaneId[] = [...LANE_IDS];

/** The hybrid's wait: a task that ends within it is answered in its one request. */
export const HYBRID_WAIT_S = 3;

/** The task each retried create starts: short, so that the second one a retry runs ends soon. */
const RETRIED_TASK = { durationMs: 500, steps: 1 } as const;

export const LESSON_SCENARIOS: Scenario[] = [
  {
    id: 'retried-post',
    title: 'A retried POST runs twice: Idempotency-Key',
    lesson:
      'When the answer to a POST is lost (a proxy times out, a phone changes networks), the client cannot ' +
      'tell whether the request never arrived or the work was done and only the answer is gone. Retrying ' +
      'is how it finds out, but POST is not idempotent (RFC 9110 §9.2.2): the server cannot tell a retry ' +
      'from a new request, so it does the work again: a second task here, a second payment or email ' +
      'elsewhere. Clients retry on their own too: Chromium re-sends a request whose kept-alive connection ' +
      'closed before any answer, a POST included. The fix is a key the client chooses once per operation ' +
      'and sends with every attempt, Idempotency-Key (IETF draft): the server stores the first answer under ' +
      'it and gives a retry that answer back, creating nothing (this server marks it Idempotent-Replayed: ' +
      'true; the same key with another body is refused with 422, and a retry while the first is still ' +
      'being handled with 409). Here the server creates the task, then cuts the connection before its 202 ' +
      'leaves (a "lose answers" fault), once without a key and once with one; the page retries once after ' +
      "the network error, as a client library would. The server's own count of each try shows the POSTs " +
      'that arrived and the tasks they created.',
    expectation:
      'With the first answer lost each time, the server receives the POST at least twice in both tries; without a key it creates 2 tasks, with an Idempotency-Key 1, and answers the retry with the stored first answer (Idempotent-Replayed: true).',
    sources: [LESSON_SOURCES.rfc9110Idempotent, LESSON_SOURCES.idempotencyKey],
    learnMore: [LEARN_MORE.mdnIdempotent, LEARN_MORE.mdn202, LEARN_MORE.rfc9110],
    network: { preset: 'none' },
    steps: [
      {
        label: 'Two creates whose answers are lost, without and with a key',
        spec: RETRIED_TASK,
        lanes: [],
        laneSettings: {},
        probe: 'retried-post',
      },
    ],
    check: ([step]) => checkRetriedPost(step),
  },
  {
    id: 'forged-webhook',
    title: 'A forged or replayed webhook: signature, timestamp, webhook-id',
    lesson:
      'A webhook arrives at a URL anyone can POST to, so the receiver must check who sent it, and when. ' +
      'Standard Webhooks signs each delivery with an HMAC-SHA256, under a secret only the sender and the ' +
      'receiver hold, of its webhook-id, its webhook-timestamp and its body, sent as webhook-signature. ' +
      'The receiver computes it again over the raw bytes it received (not JSON parsed and serialised again) ' +
      'and compares: one changed byte, or a secret the sender does not have, and it fails. A genuine ' +
      'delivery can still be captured and sent again. The signature covers the timestamp, so nobody ' +
      'without the secret can make it newer, and the receiver refuses one more than 5 minutes from its own clock (the ' +
      "standardwebhooks library's tolerance); within those minutes it remembers each webhook-id it has " +
      'accepted and answers a repeat 200 without processing it again: the same de-duplication that makes ' +
      "at-least-once delivery safe when a receiver's 200 was lost and the sender tried again. Here the " +
      'webhook lane runs a task; then the server plays an attacker with one of its delivered webhooks (an ' +
      '"attack webhooks" fault) and sends this lab\'s receiver four copies: its body altered, a message ' +
      'signed with a made-up secret, the captured delivery as it was, and one signed 6 minutes ago under an ' +
      'id the receiver has not seen.',
    expectation:
      'The webhook lane shows each event once; the receiver answers 401 to the altered body and the made-up secret (their signatures) and to the delivery signed 6 minutes ago (its timestamp), and 200 to the replay, acknowledged as a duplicate of its webhook-id and not processed again.',
    sources: [LESSON_SOURCES.standardWebhooks],
    learnMore: [LEARN_MORE.standardWebhooks, LEARN_MORE.mdnRetryAfter],
    network: { preset: 'none' },
    steps: [
      {
        label: '2 s task, its webhooks delivered',
        spec: { durationMs: 2_000, steps: 2 },
        lanes: ['webhook'],
        laneSettings: {},
      },
      {
        label: 'An attacker sends the receiver four copies',
        spec: { durationMs: 2_000, steps: 2 },
        lanes: [],
        laneSettings: {},
        probe: 'attack-webhooks',
      },
    ],
    check: ([race, attack]) => checkForgedWebhook(race, attack),
  },
  {
    id: 'hybrid',
    title: 'The hybrid: a quick task in one request, a slow one handed to push',
    lesson:
      'Most work is quick, some is not, and a client rarely knows which in advance. The hybrid asks once, ' +
      '"answer me within N seconds if you can" (RFC 7240: Prefer: respond-async, wait=N): a task that ends ' +
      'within the wait comes back as the answer itself, 200 in one request, as cheap as a blocking call; ' +
      'one that does not is answered 202 Accepted with its Location when the wait ends, and the client ' +
      'follows it by push (SSE here), so a slow task shows its steps instead of a spinner and holds no ' +
      'request open for minutes. The same code, with the same setting, takes both paths: the server, which ' +
      'knows how long the work took, decides. That is why it is the recommended start: blocking ' +
      'simplicity for the common case, push for the long tail, one code path. Request/response races ' +
      'beside it: quick, it is as good; slow, it shows nothing until the end.',
    expectation: `With a ${HYBRID_WAIT_S} s wait, the hybrid answers a 400 ms task in one request (200, within the wait), and an 8 s task with a 202 no sooner than the wait, then shows its steps by SSE and succeeds; request/response shows no step of the slow task.`,
    sources: [LESSON_SOURCES.rfc7240, LESSON_SOURCES.rfc9110Accepted, LESSON_SOURCES.mdnSse],
    learnMore: [LEARN_MORE.mdn202, LEARN_MORE.mdnEventSource, LEARN_MORE.rfc6202],
    network: { preset: 'fast-4g' },
    steps: [
      {
        label: 'Quick: a 400 ms task',
        spec: { durationMs: 400, steps: 2 },
        lanes: ['hybrid', 'request-response'],
        laneSettings: { hybridWaitS: HYBRID_WAIT_S, hybridPushLane: 'sse' },
      },
      {
        label: 'Slow: an 8 s task, 5 steps',
        spec: { durationMs: 8_000, steps: 5 },
        lanes: ['hybrid', 'request-response'],
        laneSettings: { hybridWaitS: HYBRID_WAIT_S, hybridPushLane: 'sse' },
      },
    ],
    check: ([quick, slow]) => checkHybrid(quick, slow, HYBRID_WAIT_S * 1000),
  },
  {
    id: 'cancel',
    title: 'Cancel: from the page to the task, on every lane',
    lesson:
      'Closing a stream or a socket stops the page listening; it does not stop the work, which runs on, ' +
      'and costs, on the server. Cancel must reach the task, and each lane has its own way: a lane with a ' +
      "task id asks for it (POST /api/tasks/{id}/cancel, a request of the lane's own: short and long " +
      'polling, SSE, HTTP streaming, the webhook lane, the hybrid; a cancel pressed before the 202 came is sent when it ' +
      'does), the websocket sends task:cancel on its socket and hears the cancelled event, and the ' +
      'blocking call, which has no id to name, can only abort its request (an AbortSignal): this server ' +
      'cancels a blocking task whose client went away, which is a choice, not a rule of HTTP. Here every ' +
      "lane runs a 10 s task and the page presses Cancel once each has had its first answer; then the server's " +
      "own list of the race's tasks says what became of each.",
    expectation:
      "After Cancel, every lane's card says cancelled, and so does the server for every lane's task, stopped at most one step past those due when Cancel was pressed.",
    sources: [LESSON_SOURCES.fetchAbort, LESSON_SOURCES.socketIoEmit, LESSON_SOURCES.rfc9110Accepted],
    learnMore: [LEARN_MORE.mdnAbortController, LEARN_MORE.socketIoDocs, LEARN_MORE.mdn202],
    network: { preset: 'fast-4g' },
    steps: [
      {
        label: '10 s task on every lane, cancelled mid-way',
        spec: { durationMs: 10_000, steps: 10 },
        lanes: ALL_LANES,
        laneSettings: { pollIntervalMs: 700, hybridWaitS: 1, hybridPushLane: 'sse' },
        // Not before every lane that answers before the end has had its first answer (the blocking
        // call's first answer is its last), and half a second more.
        cancel: {
          afterMs: 2_500,
          whenReady: { lanes: ALL_LANES.filter((id) => id !== 'request-response'), marginMs: 500 },
        },
      },
    ],
    check: ([step]) => checkCancel(step, ALL_LANES),
  },
  {
    id: 'idle-timeout',
    title: "A proxy's idle timeout: the heartbeat that keeps a quiet stream",
    lesson:
      'Proxies and load balancers cut a connection that has been quiet too long: nginx closes a proxied ' +
      'answer when nothing was read from the server for proxy_read_timeout (60 s by default), counted ' +
      'between two reads, not over the whole answer. An event stream is quiet whenever the work is: ' +
      'a long step, a queue, a night. The WHATWG HTML standard says what to do: send a comment line ' +
      '(one starting with a colon, which EventSource ignores) every 15 seconds or so. This server does, ' +
      `every ${SSE.heartbeatMs / 1000} s, so a proxy that waits longer never sees the stream quiet. A long poll ` +
      'held with nothing to say writes nothing at all until its answer, so its wait must be shorter than ' +
      'every timeout on its path, or it is cut and asked again (Chromium often re-sends a cut GET by itself, ' +
      "unseen by the page: only the server's count of requests shows it). Here a proxy cuts any answer of the race " +
      `quiet for ${IDLE_TIMEOUT_MS / 1000} s (an "idle timeout" fault; nginx's 60 s scaled down), and the ` +
      'task says nothing for 22 s: SSE, with its heartbeat, against long polling holding its request for up to 25 s.',
    expectation: `Behind a ${IDLE_TIMEOUT_MS / 1000} s idle timeout, SSE keeps its one stream (no reconnection) through 22 s of silence thanks to its ${SSE.heartbeatMs / 1000} s heartbeat; long polling's held request is cut at least once and asked again (by the page or by the browser itself); both show every event and succeed.`,
    sources: [LESSON_SOURCES.nginxReadTimeout, LESSON_SOURCES.whatwgSse],
    learnMore: [LEARN_MORE.nginxProxyBuffering, LEARN_MORE.whatwgSse, LEARN_MORE.rfc6202],
    network: { preset: 'none' },
    steps: [
      {
        // 22 s of silence: a long poll opened up to 6 s late (a busy page) is still cut at 16 s, and
        // SSE's heartbeats (every 15 s) leave no 16 s gap in it.
        label: '22 s of silence behind the proxy',
        spec: { durationMs: 22_000, steps: 1 },
        lanes: ['sse', 'long-polling'],
        laneSettings: { longPollWaitMs: 25_000 },
        faults: [{ afterMs: 0, fault: { kind: 'idle-timeout', on: true, idleMs: IDLE_TIMEOUT_MS } }],
      },
    ],
    check: ([step]) => checkIdleTimeout(step, IDLE_TIMEOUT_MS, SSE.heartbeatMs),
  },
  {
    id: 'expiring-token',
    title: 'A token that expires during a long-lived stream',
    lesson:
      'A short-lived token is checked when a request arrives; a stream is one request that lasts, so a ' +
      'server that checks only then lets a stream outlive its token by hours. This server ends a stream ' +
      'when its token expires. An EventSource cannot send an Authorization header, so the token rides in ' +
      'its URL (or a cookie), and its automatic reconnection sends the same URL, the same expired token: ' +
      'the server refuses it with 401 (RFC 6750: invalid_token), and a non-200 answer makes EventSource ' +
      'give up for good (WHATWG HTML), with no status the page can read. So the page must notice the ' +
      'closed EventSource, get a fresh token, and open a new one after the last event it saw (here ' +
      '?after=seq: a new EventSource cannot be handed a Last-Event-ID). A websocket meets the same choice: ' +
      `its token is checked at the handshake only, unless the server cuts it at expiry. Here the token lives ` +
      `${EXPIRING_TOKEN_TTL_MS / 1000} s and the task 8 s.`,
    expectation: `The stream ends when its ${EXPIRING_TOKEN_TTL_MS / 1000} s token expires, before the task's end; the browser's own reconnection with the expired token is refused; with a fresh token the page receives the rest, every event once and in order, to the task's success.`,
    sources: [LESSON_SOURCES.rfc6750, LESSON_SOURCES.whatwgEventSource],
    learnMore: [LEARN_MORE.mdnEventSource, LEARN_MORE.whatwgSse],
    network: { preset: 'none' },
    steps: [
      {
        label: `An 8 s task followed with a ${EXPIRING_TOKEN_TTL_MS / 1000} s token`,
        spec: { durationMs: 8_000, steps: 4 },
        lanes: [],
        laneSettings: {},
        probe: 'expiring-token',
      },
    ],
    check: ([step]) => checkExpiringToken(step),
  },
];
