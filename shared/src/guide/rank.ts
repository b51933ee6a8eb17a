import { LANE_IDS, type LaneId } from '../protocol/lanes.ts';
import { type GuideAnswers, parseGuideAnswers } from './answers.ts';
import { count, seconds } from './format.ts';
import {
  ASYNC,
  BLOCKING,
  CALLBACK,
  EVENT_STREAM,
  FETCH_STREAM,
  HELD,
  HELD_POLL,
  POLLING,
  PUSH,
  SOCKET,
  STREAMS,
  WAIT_PUSH,
} from './mechanisms.ts';
import { planFor } from './plan.ts';
import type { SafeguardId } from './safeguards.ts';

/**
 * The decision guide's ranking (issue 15, item 4): a pure function of the questionnaire's answers. Each
 * rule below is a rule of thumb with its reason said; "Prove it" (prove.ts) then races the lanes with the
 * team's own numbers and says where the measurement disagrees. A lane is judged on three levels:
 * `fits`, `workable` (it can serve, with a cost said in its reasons) and `unsuitable` (an answer rules it
 * out); within a level, by its score (the sum of the rules' weights, each ±1 to ±4).
 */

/** Nielsen's limits (Response Times: The 3 Important Limits, 1993), ms: flow kept, attention lost. */
export const FLOW_MS = 1_000;
export const ATTENTION_MS = 10_000;
/**
 * A held request longer than this is cut somewhere on a common path, ms: Amazon API Gateway's integration
 * timeout is 29 s, Heroku's router 30 s, nginx's proxy_read_timeout and AWS ALB's idle timeout 60 s.
 */
export const GATEWAY_CUT_MS = 29_000;
/** Tasks one browser may follow at once over HTTP/1.1 with a connection each: 6 per origin. */
export const HTTP1_CONNECTIONS_PER_ORIGIN = 6;
/** Polls per second, all clients together, past which polling needs back-pressure to be safe. */
export const HEAVY_POLLS_PER_S = 1_000;
/** Connections held at once past which holding them needs bounds and a plan to scale out. */
export const MANY_CONNECTIONS = 10_000;
/** Runs per hour of one client past which a connection kept open beats one set up per task. */
export const FREQUENT_RUNS_PER_HOUR = 60;

export type Fit = 'fits' | 'workable' | 'unsuitable';
const FIT_ORDER: Record<Fit, number> = { fits: 0, workable: 1, unsuitable: 2 };

export interface LaneAssessment {
  lane: LaneId;
  fit: Fit;
  score: number;
  /** Why it ranks where it does, for (weight > 0) and against, in the order the rules found them. */
  reasons: Reason[];
  /** How it goes wrong in production with these answers. */
  failureModes: string[];
  /** What a team must build to make it safe (safeguards.ts). */
  mustBuild: SafeguardId[];
}

export interface Reason {
  /** What the rule adds to the lane's score: + for, − against. */
  weight: number;
  text: string;
}

export interface PlanPart {
  lane: LaneId;
  /** "the quick cases", "the slow cases", "the partner's server". */
  role: string;
}

export interface GuidePlan {
  kind: 'single' | 'combination' | 'none';
  parts: PlanPart[];
  summary: string;
}

export interface GuideResult {
  answers: GuideAnswers;
  /** Every lane of `LANE_IDS` once, best first. */
  ranked: LaneAssessment[];
  plan: GuidePlan;
  /** The figures the rules derived from the answers, said in the reasons. */
  derived: GuideDerived;
}

export interface GuideDerived {
  /** Below this, ms, a blocking call's answer is in time: the feedback asked for, at most 10 s. */
  quickMs: number;
  /** Tasks in flight at once, all clients together (Little's law: arrival rate × typical duration). */
  inFlight: number;
  /** Polls per second, all clients, at an interval fit for the freshness asked. */
  pollsPerSecond: number;
  /** The poll interval that freshness asks for, ms. */
  pollIntervalMs: number;
  /** Tasks one client follows at once. */
  perClientInFlight: number;
}

export function deriveFigures(a: GuideAnswers): GuideDerived {
  const quickMs = Math.min(a.feedbackWithinMs ?? ATTENTION_MS, ATTENTION_MS);
  const perClientInFlight = (a.runsPerHour / 3_600) * (a.typicalMs / 1_000);
  const inFlight = a.concurrentClients * perClientInFlight;
  // Freshness asked: poll about as often as a person must see something, between 1 s and 1 min.
  const pollIntervalMs = Math.min(Math.max(a.feedbackWithinMs ?? 5_000, 1_000), 60_000);
  return {
    quickMs,
    inFlight,
    pollsPerSecond: inFlight / (pollIntervalMs / 1_000),
    pollIntervalMs,
    perClientInFlight,
  };
}

interface Draft {
  fit: Fit;
  score: number;
  reasons: Reason[];
  failureModes: Set<string>;
  mustBuild: Set<SafeguardId>;
}

/** Ranks every lane for the answers (parsed here: bad answers throw `GuideAnswersError`). */
export function rankLanes(input: unknown): GuideResult {
  const a = parseGuideAnswers(input);
  const d = deriveFigures(a);
  const drafts = Object.fromEntries(
    LANE_IDS.map((id) => [
      id,
      { fit: 'fits', score: 0, reasons: [], failureModes: new Set(), mustBuild: new Set() } satisfies Draft,
    ]),
  ) as unknown as Record<LaneId, Draft>;

  const add = (lanes: readonly LaneId[], weight: number, reason: string) => {
    for (const id of lanes) {
      drafts[id].score += weight;
      drafts[id].reasons.push({ weight, text: reason });
    }
  };
  /** An answer that makes the lane serve only at a cost: at best `workable`. */
  const weaken = (lanes: readonly LaneId[], weight: number, reason: string) => {
    add(lanes, weight, reason);
    for (const id of lanes) if (drafts[id].fit === 'fits') drafts[id].fit = 'workable';
  };
  /** An answer that rules the lane out. */
  const ruleOut = (lanes: readonly LaneId[], reason: string) => {
    add(lanes, -4, reason);
    for (const id of lanes) drafts[id].fit = 'unsuitable';
  };
  const fail = (lanes: readonly LaneId[], mode: string) => {
    for (const id of lanes) drafts[id].failureModes.add(mode);
  };
  const build = (lanes: readonly LaneId[], ...safeguards: SafeguardId[]) => {
    for (const id of lanes) for (const s of safeguards) drafts[id].mustBuild.add(s);
  };

  const hasPeople = a.consumers.includes('browser') || a.consumers.includes('mobile-app');
  const serverOnly = !hasPeople;
  const has = (m: GuideAnswers['between'][number]) => a.between.includes(m);
  const allQuick = a.worstMs <= d.quickMs;
  const typicalQuick = a.typicalMs <= d.quickMs;
  const mixed = typicalQuick && !allQuick;
  const person = a.feedbackWithinMs !== undefined;

  // What every lane needs, whatever the answers.
  build(ASYNC, 'idempotency-keys');
  build(BLOCKING, 'timeouts-and-recovery', 'idempotency-keys');
  build(HELD, 'resume-cursors');
  build([...STREAMS, ...SOCKET], 'heartbeats');
  build(SOCKET, 'reconnect-with-jitter');
  build(CALLBACK, 'signatures-and-retries', 'reconciliation');
  build(POLLING, 'back-pressure');
  fail(BLOCKING, 'A retry after a timeout or a dropped answer starts the operation again.');
  fail(POLLING, 'Most polls bring nothing new; every client polling on the same beat is a herd.');
  fail(HELD_POLL, 'A proxy’s idle timeout cuts a held poll; without a cursor the gap is lost.');
  fail(STREAMS, 'A proxy’s idle timeout cuts a quiet stream unless a heartbeat keeps it busy.');
  fail(SOCKET, 'A network switch can leave the socket “connected” but dead until a heartbeat notices.');
  fail(
    CALLBACK,
    'The receiver is down, slow or forged against: deliveries retry, arrive out of order or twice.',
  );
  fail(WAIT_PUSH, 'Two paths to test: the quick answer and the push that takes over after the wait.');

  // 1. How long it takes, against how soon a person must see something.
  if (allQuick) {
    add(
      BLOCKING,
      4,
      `Ends within ${seconds(a.worstMs)}, inside the ${seconds(d.quickMs)} asked: one request brings the answer itself, sooner than any lane that needs a second exchange.`,
    );
    add(
      ASYNC,
      -2,
      `At ${seconds(a.worstMs)} at worst, a 202 and then a second exchange (or a connection set up first) only adds round trips.`,
    );
    add(
      WAIT_PUSH,
      1,
      `Within its wait it answers in one request like a blocking call, but it is two paths to build for one.`,
    );
  } else if (a.worstMs > GATEWAY_CUT_MS) {
    if (typicalQuick)
      weaken(
        BLOCKING,
        -2,
        `Its slow cases (up to ${seconds(a.worstMs)}) outlast a gateway's timeout (≈ 30 s): a blocking call serves only the quick cases.`,
      );
    else
      ruleOut(
        BLOCKING,
        `A request held ${seconds(a.worstMs)} is cut by a gateway or proxy on the way (API Gateway 29 s, Heroku 30 s, nginx and ALB 60 s).`,
      );
    fail(
      BLOCKING,
      'The gateway answers 504 while the operation goes on: the client has no result and no address to find it.',
    );
  }
  if (person && !allQuick && a.feedbackWithinMs !== undefined) {
    const within = seconds(a.feedbackWithinMs);
    if (typicalQuick) {
      weaken(
        BLOCKING,
        -1,
        `Its slow cases (${seconds(a.worstMs)}) keep a person waiting past ${within} with nothing on screen.`,
      );
    } else {
      ruleOut(
        BLOCKING,
        `A person must see something within ${within}, but a blocking call shows nothing until the end (${seconds(a.typicalMs)} typically).`,
      );
    }
    add(
      ASYNC,
      1,
      `Its 202 or acknowledgement is on screen one round trip after the action, well within ${within}.`,
    );
  }
  if (mixed) {
    add(
      WAIT_PUSH,
      4,
      `Typically ${seconds(a.typicalMs)} but up to ${seconds(a.worstMs)}: Prefer: respond-async, wait=N answers the quick cases in one request and hands the slow ones to a push lane.`,
    );
  }

  // 2. Progress.
  if (a.progressMatters && a.typicalMs > FLOW_MS) {
    ruleOut(BLOCKING, 'Progress matters, and a blocking call shows none: one answer at the end.');
    add(PUSH, 3, 'Shows each step as it happens, one trip after the server emits it.');
    add(WAIT_PUSH, 2, 'After its wait, its push lane shows each step as it happens.');
    add(
      POLLING,
      -1,
      `Shows a step only at its next poll: each value is up to one interval old (${seconds(d.pollIntervalMs)} here) and most are skipped.`,
    );
    if (hasPeople)
      add(
        CALLBACK,
        -1,
        'Each step is a signed POST to your backend and then a relay to the page: two hops, and a failed one waits for its retry.',
      );
  } else if (a.progressMatters) {
    add(
      BLOCKING,
      -1,
      'Progress matters but the operation is over in a second: a blocking call shows none, which is short enough to pass.',
    );
  }

  // 3. Who consumes it.
  if (serverOnly) {
    add(
      CALLBACK,
      4,
      'Server to server: the producer calls you when something happens; nothing is held or polled on your side (the way Stripe and GitHub notify).',
    );
    const held = `A server can read a stream, but then it holds a connection (and a worker) per task in flight (${count(d.inFlight)} at once), and must resume each after its own restarts.`;
    if (allQuick) add(PUSH, -2, held);
    else weaken(PUSH, -2, held);
    const browserPath =
      'Its push path is a browser’s; a server does better with a blocking call and a webhook.';
    if (allQuick) add(WAIT_PUSH, -2, browserPath);
    else weaken(WAIT_PUSH, -2, browserPath);
    if (!allQuick)
      weaken(
        POLLING,
        -1,
        `A server can poll, but needs a scheduler for each task in flight (${count(d.inFlight)} at once) and learns the end up to an interval late.`,
      );
  } else if (a.consumers.includes('server')) {
    add(CALLBACK, 2, 'One of the consumers is a server: webhooks are how servers are told.');
  }
  if (hasPeople && !a.offlineForHours) {
    (a.consumers.includes('server') ? add : weaken)(
      CALLBACK,
      -2,
      'A browser or an app cannot receive a webhook: it needs your backend to receive it and a second hop (a relay) to the screen.',
    );
  }
  if (a.consumers.includes('browser') && !a.offlineForHours)
    add(EVENT_STREAM, 1, 'EventSource is built into browsers and reconnects by itself with Last-Event-ID.');
  if (a.consumers.includes('mobile-app') && a.typicalMs > FLOW_MS * 5) {
    add(
      [...EVENT_STREAM, ...FETCH_STREAM, ...SOCKET, ...HELD_POLL],
      -1,
      'A mobile app loses held connections when it goes to the background: it must resume on return.',
    );
    fail(
      [...EVENT_STREAM, ...FETCH_STREAM, ...SOCKET, ...HELD_POLL],
      'The app is backgrounded and its connection closed by the OS mid-task.',
    );
  }

  // 4. What sits between.
  if (has('serverless')) {
    ruleOut(
      HELD,
      'Serverless functions cannot hold a connection open while the task runs (and bill for the wait where they can).',
    );
    add(
      [...POLLING, ...CALLBACK],
      2,
      'Each exchange is one short request: what serverless functions do well.',
    );
    if (a.worstMs > GATEWAY_CUT_MS)
      fail(BLOCKING, 'The function’s own timeout ends the held call before the operation does.');
  }
  if (has('buffering-proxy')) {
    weaken(
      STREAMS,
      -3,
      'A proxy that buffers holds the stream’s events until its buffer fills or the stream ends: they arrive in one lump.',
    );
    weaken(
      WAIT_PUSH,
      -2,
      'Its push lane is a stream (SSE here), which a buffering proxy delivers in one lump.',
    );
    build([...STREAMS, ...WAIT_PUSH], 'no-buffering');
    fail([...STREAMS, ...WAIT_PUSH], 'Every event arrives at once at the end, behind the proxy’s buffer.');
    add([...HELD_POLL, ...POLLING], 1, 'Each answer is a complete response: buffering delays nothing.');
  }
  if (has('firewall')) {
    weaken(
      SOCKET,
      -3,
      'Firewalls and corporate proxies often strip the Upgrade: socket.io then falls back to long polling.',
    );
    add(
      [...POLLING, ...HELD_POLL, ...EVENT_STREAM, ...FETCH_STREAM],
      1,
      'Plain HTTP requests out: what every firewall lets pass.',
    );
    if (a.consumers.includes('server'))
      ruleOut(
        CALLBACK,
        'The firewall lets nothing call in: a webhook cannot reach the consuming server (poll from inside instead).',
      );
  }

  // 5. How often, how many.
  if (a.runsPerHour > FREQUENT_RUNS_PER_HOUR && hasPeople && !allQuick) {
    add(
      SOCKET,
      2,
      `Runs ${count(a.runsPerHour)} times an hour per client: one connection kept open serves every run, with no set-up per task.`,
    );
  }
  if (d.perClientInFlight > HTTP1_CONNECTIONS_PER_ORIGIN && hasPeople) {
    add(
      [...EVENT_STREAM, ...FETCH_STREAM, ...HELD_POLL],
      -2,
      `About ${count(d.perClientInFlight)} tasks at once per client, each holding a connection: over HTTP/1.1 a browser opens at most ${HTTP1_CONNECTIONS_PER_ORIGIN} per origin and the next waits (HTTP/2 multiplexes them).`,
    );
    fail(
      [...EVENT_STREAM, ...FETCH_STREAM, ...HELD_POLL],
      'The seventh stream waits for a free connection over HTTP/1.1.',
    );
  }
  if (d.pollsPerSecond > HEAVY_POLLS_PER_S) {
    add(
      POLLING,
      -2,
      `About ${count(d.pollsPerSecond)} polls a second across clients (${count(d.inFlight)} tasks in flight, polled every ${seconds(d.pollIntervalMs)}).`,
    );
    fail(POLLING, 'The polls themselves become the load: most answer “nothing new”.');
  }
  // A socket is held per client, the other held lanes per task in flight.
  const heldAtOnce = Math.max(d.inFlight, a.concurrentClients);
  if (heldAtOnce > MANY_CONNECTIONS) {
    build([...HELD, ...CALLBACK, ...BLOCKING], 'back-pressure');
    add(
      HELD,
      -1,
      `Holds a connection per task or client: ${count(heldAtOnce)} at once needs bounds and several instances.`,
    );
    fail(HELD, 'Connections pile up past what one instance holds; a restart reconnects them all at once.');
    fail(CALLBACK, 'A burst of deliveries overwhelms the receiver: it must queue them and answer fast.');
  }

  // 6. A client away for hours.
  if (a.offlineForHours) {
    ruleOut(
      LANE_IDS.filter((id) => !CALLBACK.includes(id)),
      'A client away for hours holds no connection and sends no poll: it is not there when the outcome comes.',
    );
    add(
      CALLBACK,
      4,
      'Your backend, always up, receives the outcome (retried for hours if it must) and keeps it; the client reads it from there when it is back.',
    );
    build(CALLBACK, 'back-pressure');
  }

  const ranked = LANE_IDS.map(
    (lane): LaneAssessment => ({
      lane,
      fit: drafts[lane].fit,
      score: drafts[lane].score,
      reasons: drafts[lane].reasons,
      failureModes: [...drafts[lane].failureModes],
      mustBuild: [...drafts[lane].mustBuild],
    }),
  ).sort(
    (x, y) =>
      FIT_ORDER[x.fit] - FIT_ORDER[y.fit] ||
      y.score - x.score ||
      LANE_IDS.indexOf(x.lane) - LANE_IDS.indexOf(y.lane),
  );
  return { answers: a, ranked, plan: planFor(a, ranked, { mixed, hasPeople }), derived: d };
}
