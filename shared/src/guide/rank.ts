import { LANE_IDS, LANES, type LaneId } from '../protocol/lanes.ts';
import { type GuideAnswers, parseGuideAnswers } from './answers.ts';
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

const seconds = (ms: number) =>
  ms >= 3_600_000
    ? `${+(ms / 3_600_000).toFixed(1)} h`
    : ms >= 60_000
      ? `${+(ms / 60_000).toFixed(1)} min`
      : ms >= 1_000
        ? `${+(ms / 1_000).toFixed(1)} s`
        : `${Math.round(ms)} ms`;
const count = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : `${+n.toFixed(1)}`);

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

  const add = (lanes: LaneId | readonly LaneId[], weight: number, reason: string) => {
    for (const id of typeof lanes === 'string' ? [lanes] : lanes) {
      drafts[id].score += weight;
      drafts[id].reasons.push({ weight, text: reason });
    }
  };
  /** An answer that makes the lane serve only at a cost: at best `workable`. */
  const weaken = (lanes: LaneId | readonly LaneId[], weight: number, reason: string) => {
    add(lanes, weight, reason);
    for (const id of typeof lanes === 'string' ? [lanes] : lanes)
      if (drafts[id].fit === 'fits') drafts[id].fit = 'workable';
  };
  /** An answer that rules the lane out. */
  const ruleOut = (lanes: LaneId | readonly LaneId[], reason: string) => {
    add(lanes, -4, reason);
    for (const id of typeof lanes === 'string' ? [lanes] : lanes) drafts[id].fit = 'unsuitable';
  };
  const fail = (lanes: LaneId | readonly LaneId[], mode: string) => {
    for (const id of typeof lanes === 'string' ? [lanes] : lanes) drafts[id].failureModes.add(mode);
  };
  const build = (lanes: LaneId | readonly LaneId[], ...safeguards: SafeguardId[]) => {
    for (const id of typeof lanes === 'string' ? [lanes] : lanes)
      for (const s of safeguards) drafts[id].mustBuild.add(s);
  };

  const hasPeople = a.consumers.includes('browser') || a.consumers.includes('mobile-app');
  const serverOnly = !hasPeople;
  const has = (m: GuideAnswers['between'][number]) => a.between.includes(m);
  const allQuick = a.worstMs <= d.quickMs;
  const typicalQuick = a.typicalMs <= d.quickMs;
  const mixed = typicalQuick && !allQuick;
  const person = a.feedbackWithinMs !== undefined;

  /** Lanes that hold a connection open while the task runs. */
  const HELD: LaneId[] = ['long-polling', 'sse', 'http-streaming', 'websocket', 'hybrid'];
  /** Lanes that start with a 202 (or an acknowledgement) and learn the end by another exchange. */
  const ASYNC: LaneId[] = LANE_IDS.filter((id) => id !== 'request-response');
  const STREAMS: LaneId[] = ['sse', 'http-streaming'];
  const PUSH: LaneId[] = ['long-polling', 'sse', 'http-streaming', 'websocket'];

  // What every lane needs, whatever the answers.
  build(ASYNC, 'idempotency-keys');
  build('request-response', 'timeouts-and-recovery', 'idempotency-keys');
  build(['long-polling', 'sse', 'http-streaming', 'websocket', 'hybrid'], 'resume-cursors');
  build(['sse', 'http-streaming', 'websocket'], 'heartbeats');
  build('websocket', 'reconnect-with-jitter');
  build('webhook', 'signatures-and-retries', 'reconciliation');
  build('short-polling', 'back-pressure');
  fail('request-response', 'A retry after a timeout or a dropped answer starts the operation again.');
  fail('short-polling', 'Most polls bring nothing new; every client polling on the same beat is a herd.');
  fail('long-polling', 'A proxy’s idle timeout cuts a held poll; without a cursor the gap is lost.');
  fail(STREAMS, 'A proxy’s idle timeout cuts a quiet stream unless a heartbeat keeps it busy.');
  fail('websocket', 'A network switch can leave the socket “connected” but dead until a heartbeat notices.');
  fail(
    'webhook',
    'The receiver is down, slow or forged against: deliveries retry, arrive out of order or twice.',
  );
  fail('hybrid', 'Two paths to test: the quick answer and the push that takes over after the wait.');

  // 1. How long it takes, against how soon a person must see something.
  if (allQuick) {
    add(
      'request-response',
      4,
      `Ends within ${seconds(a.worstMs)}, inside the ${seconds(d.quickMs)} asked: one request brings the answer itself, sooner than any lane that needs a second exchange.`,
    );
    add(
      ASYNC,
      -2,
      `At ${seconds(a.worstMs)} at worst, a 202 and then a second exchange (or a connection set up first) only adds round trips.`,
    );
    add(
      'hybrid',
      1,
      `Within its wait it answers in one request like a blocking call, but it is two paths to build for one.`,
    );
  } else if (a.worstMs > GATEWAY_CUT_MS) {
    if (typicalQuick)
      weaken(
        'request-response',
        -2,
        `Its slow cases (up to ${seconds(a.worstMs)}) outlast a gateway's timeout (≈ 30 s): a blocking call serves only the quick cases.`,
      );
    else
      ruleOut(
        'request-response',
        `A request held ${seconds(a.worstMs)} is cut by a gateway or proxy on the way (API Gateway 29 s, Heroku 30 s, nginx and ALB 60 s).`,
      );
    fail(
      'request-response',
      'The gateway answers 504 while the operation goes on: the client has no result and no address to find it.',
    );
  }
  if (person && !allQuick && a.feedbackWithinMs !== undefined) {
    const within = seconds(a.feedbackWithinMs);
    if (typicalQuick) {
      weaken(
        'request-response',
        -1,
        `Its slow cases (${seconds(a.worstMs)}) keep a person waiting past ${within} with nothing on screen.`,
      );
    } else {
      ruleOut(
        'request-response',
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
      'hybrid',
      4,
      `Typically ${seconds(a.typicalMs)} but up to ${seconds(a.worstMs)}: Prefer: respond-async, wait=N answers the quick cases in one request and hands the slow ones to a push lane.`,
    );
  }

  // 2. Progress.
  if (a.progressMatters && a.typicalMs > FLOW_MS) {
    ruleOut('request-response', 'Progress matters, and a blocking call shows none: one answer at the end.');
    add(PUSH, 3, 'Shows each step as it happens, one trip after the server emits it.');
    add('hybrid', 2, 'After its wait, its push lane shows each step as it happens.');
    add(
      'short-polling',
      -1,
      `Shows a step only at its next poll: each value is up to one interval old (${seconds(d.pollIntervalMs)} here) and most are skipped.`,
    );
    if (hasPeople)
      add(
        'webhook',
        -1,
        'Each step is a signed POST to your backend and then a relay to the page: two hops, and a failed one waits for its retry.',
      );
  } else if (a.progressMatters) {
    add(
      'request-response',
      -1,
      'Progress matters but the operation is over in a second: a blocking call shows none, which is short enough to pass.',
    );
  }

  // 3. Who consumes it.
  if (serverOnly) {
    add(
      'webhook',
      4,
      'Server to server: the producer calls you when something happens; nothing is held or polled on your side (the way Stripe and GitHub notify).',
    );
    const held = `A server can read a stream, but then it holds a connection (and a worker) per task in flight (${count(d.inFlight)} at once), and must resume each after its own restarts.`;
    if (allQuick) add(PUSH, -2, held);
    else weaken(PUSH, -2, held);
    const browserPath =
      'Its push path is a browser’s; a server does better with a blocking call and a webhook.';
    if (allQuick) add('hybrid', -2, browserPath);
    else weaken('hybrid', -2, browserPath);
    if (!allQuick)
      weaken(
        'short-polling',
        -1,
        `A server can poll, but needs a scheduler for each task in flight (${count(d.inFlight)} at once) and learns the end up to an interval late.`,
      );
  } else if (a.consumers.includes('server')) {
    add('webhook', 2, 'One of the consumers is a server: webhooks are how servers are told.');
  }
  if (hasPeople && !a.offlineForHours) {
    (a.consumers.includes('server') ? add : weaken)(
      'webhook',
      -2,
      'A browser or an app cannot receive a webhook: it needs your backend to receive it and a second hop (a relay) to the screen.',
    );
  }
  if (a.consumers.includes('browser') && !a.offlineForHours)
    add('sse', 1, 'EventSource is built into browsers and reconnects by itself with Last-Event-ID.');
  if (a.consumers.includes('mobile-app') && a.typicalMs > FLOW_MS * 5) {
    add(
      ['sse', 'http-streaming', 'websocket', 'long-polling'],
      -1,
      'A mobile app loses held connections when it goes to the background: it must resume on return.',
    );
    fail(
      ['sse', 'http-streaming', 'websocket', 'long-polling'],
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
      ['short-polling', 'webhook'],
      2,
      'Each exchange is one short request: what serverless functions do well.',
    );
    if (a.worstMs > GATEWAY_CUT_MS)
      fail('request-response', 'The function’s own timeout ends the held call before the operation does.');
  }
  if (has('buffering-proxy')) {
    weaken(
      STREAMS,
      -3,
      'A proxy that buffers holds the stream’s events until its buffer fills or the stream ends: they arrive in one lump.',
    );
    weaken(
      'hybrid',
      -2,
      'Its push lane is a stream (SSE here), which a buffering proxy delivers in one lump.',
    );
    build([...STREAMS, 'hybrid'], 'no-buffering');
    fail([...STREAMS, 'hybrid'], 'Every event arrives at once at the end, behind the proxy’s buffer.');
    add(
      ['long-polling', 'short-polling'],
      1,
      'Each answer is a complete response: buffering delays nothing.',
    );
  }
  if (has('firewall')) {
    weaken(
      'websocket',
      -3,
      'Firewalls and corporate proxies often strip the Upgrade: socket.io then falls back to long polling.',
    );
    add(
      ['short-polling', 'long-polling', 'sse', 'http-streaming'],
      1,
      'Plain HTTP requests out: what every firewall lets pass.',
    );
    if (a.consumers.includes('server'))
      ruleOut(
        'webhook',
        'The firewall lets nothing call in: a webhook cannot reach the consuming server (poll from inside instead).',
      );
  }

  // 5. How often, how many.
  if (a.runsPerHour > FREQUENT_RUNS_PER_HOUR && hasPeople && !allQuick) {
    add(
      'websocket',
      2,
      `Runs ${count(a.runsPerHour)} times an hour per client: one connection kept open serves every run, with no set-up per task.`,
    );
  }
  if (d.perClientInFlight > HTTP1_CONNECTIONS_PER_ORIGIN && hasPeople) {
    add(
      ['sse', 'http-streaming', 'long-polling'],
      -2,
      `About ${count(d.perClientInFlight)} tasks at once per client, each holding a connection: over HTTP/1.1 a browser opens at most ${HTTP1_CONNECTIONS_PER_ORIGIN} per origin and the next waits (HTTP/2 multiplexes them).`,
    );
    fail(
      ['sse', 'http-streaming', 'long-polling'],
      'The seventh stream waits for a free connection over HTTP/1.1.',
    );
  }
  if (d.pollsPerSecond > HEAVY_POLLS_PER_S) {
    add(
      'short-polling',
      -2,
      `About ${count(d.pollsPerSecond)} polls a second across clients (${count(d.inFlight)} tasks in flight, polled every ${seconds(d.pollIntervalMs)}).`,
    );
    fail('short-polling', 'The polls themselves become the load: most answer “nothing new”.');
  }
  const heldAtOnce = Math.max(d.inFlight, 0);
  if (heldAtOnce > MANY_CONNECTIONS || a.concurrentClients > MANY_CONNECTIONS) {
    build([...HELD, 'webhook', 'request-response'], 'back-pressure');
    add(
      HELD,
      -1,
      `Holds a connection per task or client: ${count(Math.max(heldAtOnce, a.concurrentClients))} at once needs bounds and several instances.`,
    );
    fail(HELD, 'Connections pile up past what one instance holds; a restart reconnects them all at once.');
    fail('webhook', 'A burst of deliveries overwhelms the receiver: it must queue them and answer fast.');
  }

  // 6. A client away for hours.
  if (a.offlineForHours) {
    ruleOut(
      LANE_IDS.filter((id) => id !== 'webhook'),
      'A client away for hours holds no connection and sends no poll: it is not there when the outcome comes.',
    );
    add(
      'webhook',
      4,
      'Your backend, always up, receives the outcome (retried for hours if it must) and keeps it; the client reads it from there when it is back.',
    );
    build('webhook', 'back-pressure');
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

/** The lane's strongest reason for: what a summary says of it. */
function strongest(assessment: LaneAssessment): string {
  const pros = assessment.reasons.filter((r) => r.weight > 0).sort((x, y) => y.weight - x.weight);
  return pros[0]?.text ?? LANES[assessment.lane].summary;
}

/** One lane, or a combination when the answers are mixed (quick and slow cases; people and servers). */
function planFor(
  a: GuideAnswers,
  ranked: LaneAssessment[],
  { mixed, hasPeople }: { mixed: boolean; hasPeople: boolean },
): GuidePlan {
  const fitOf = (id: LaneId) => ranked.find((r) => r.lane === id)?.fit ?? 'unsuitable';
  const usable = (id: LaneId) => fitOf(id) !== 'unsuitable';
  const best = ranked[0];
  if (!best || best.fit === 'unsuitable') {
    return {
      kind: 'none',
      parts: [],
      summary:
        'No lane serves these answers as they stand: two of them contradict each other (read each lane’s reasons) — change what sits between, or where the outcome is received.',
    };
  }
  const bestForPeople = ranked.find(
    (r) => r.lane !== 'webhook' && r.lane !== 'request-response' && usable(r.lane),
  );
  const serverToo = a.consumers.includes('server');
  if (mixed && serverToo && usable('webhook') && fitOf('request-response') !== 'unsuitable') {
    return {
      kind: 'combination',
      parts: [
        {
          lane: 'request-response',
          role: 'the quick cases: answer in the request when done within the wait',
        },
        { lane: 'webhook', role: 'the slow cases: 202 at once, then a signed webhook when done' },
      ],
      summary: `A quick blocking path and a webhook for the slow one: typically ${seconds(a.typicalMs)}, the answer comes in the request; past that (up to ${seconds(a.worstMs)}), the server answers 202 and calls back.`,
    };
  }
  if (
    mixed &&
    hasPeople &&
    usable('hybrid') &&
    ranked.indexOf(ranked.find((r) => r.lane === 'hybrid') as LaneAssessment) < 3
  ) {
    return {
      kind: 'single',
      parts: [{ lane: 'hybrid', role: 'quick cases answered in the request, slow ones pushed' }],
      summary: `The hybrid: Prefer: respond-async, wait=N with N a little above the typical ${seconds(a.typicalMs)}; the slow cases (up to ${seconds(a.worstMs)}) continue on a push lane.`,
    };
  }
  if (hasPeople && serverToo && !a.offlineForHours && usable('webhook') && bestForPeople) {
    return {
      kind: 'combination',
      parts: [
        { lane: bestForPeople.lane, role: 'the people: browser and app screens' },
        { lane: 'webhook', role: 'the servers: signed callbacks' },
      ],
      summary: `Two audiences, two lanes: ${LANES[bestForPeople.lane].said} for the screens, webhooks for the servers.`,
    };
  }
  return {
    kind: 'single',
    parts: [{ lane: best.lane, role: 'every case' }],
    summary: `${LANES[best.lane].name}: ${strongest(best)}`,
  };
}
