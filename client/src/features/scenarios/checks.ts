import {
  type Delivery,
  LANE_IDS,
  LANES,
  type LaneId,
  type NetworkProfile,
  type TaskSpec,
  type TaskState,
  utf8Bytes,
  WEBHOOK_RETRY_SCHEDULE_MS,
} from '@transport-lab/shared';
import { WS_RECOVERED_NOTE_PREFIX, WS_RESUBSCRIBED_NOTE_PREFIX } from '../../transports/lane-notes.ts';
import type { ProbeOutcome } from './checks-lessons.ts';
import type { SceneFigures } from './scene-figures.ts';

/**
 * The guided scenarios' checks, as pure functions of what the page measured (issue 12): each tests the
 * scenario's lesson itself, so that a deliberately wrong mechanism (a poll interval that divides the
 * step time, a held-back websocket, a stale stream) fails it; each says, in one line, which figures it
 * used, and names them so that the cards can outline them. No check models the lane it judges: the
 * margins below come from the mechanism (a round trip, an interval), not from a fitted curve.
 */

/** A figure on a lane's card, as the check names it for outlining. */
export type CardFigure =
  | 'firstFeedback'
  | 'totalPerceived'
  | 'completionLag'
  | 'staleness'
  | 'requests'
  | 'wastedPolls'
  | 'bytesUp'
  | 'bytesDown'
  | 'queueTime'
  | 'progress';

export interface FigureRef {
  lane: LaneId;
  figure: CardFigure;
}

/** What one lane of one step measured, from the page's own figures (and the server's count beside them). */
export interface LaneOutcome {
  status: 'succeeded' | 'failed' | 'cancelled' | 'error' | 'idle' | 'running';
  /** What ended a lane in error: its code and message ("UNAVAILABLE: …"). */
  error?: string;
  firstFeedbackMs?: number;
  totalPerceivedMs?: number;
  completionLagMs?: number;
  /** Delay per update shown: how old each progress value was when it reached the screen, mean. */
  stalenessMeanMs?: number;
  /** The same, nearest-rank median. */
  stalenessMedianMs?: number;
  stalenessMaxMs?: number;
  /**
   * Age of information, time-averaged: how old the value on screen was, averaged over every moment from
   * the first value shown to the finish (`meanInformationAgeMs`).
   */
  informationAgeMs?: number;
  /** Requests the page sent (its own count). */
  requests: number;
  /** Requests the server received for this lane (`GET /api/wire/{runId}`), when it answered. */
  serverRequests?: number;
  wastedPolls?: number;
  /** Polls that failed (network or a retryable status) and were asked again. */
  pollErrors?: number;
  reconnects?: number;
  bytesDown?: number;
  bytesUp?: number;
  /** Task events the page applied (each seq once: a resumed stream repeats none). */
  eventsApplied: number;
  /** The newest seq the page applied: applied in order, so every seq up to it was seen. */
  lastSeq: number;
  /** Progress values that reached the screen (the last one of each frame). */
  progressUpdates: number;
  /** Action → the first progress value on screen, ms. */
  firstProgressMs?: number;
  /** Failed delivery attempts in the webhook log. */
  failedDeliveries?: number;
  /** The webhook delivery log, as last fetched. */
  deliveries?: Delivery[];
  /** The card's measurement notes. */
  notes?: string[];
  /** The hybrid's path: answered in its one request, or a 202 handed to push. */
  path?: 'answered' | 'pushed';
  /** What ended a lane in error, its code alone (SYNC_TIMEOUT, NETWORK, …). */
  errorCode?: string;
  /** How long its task waited for a worker, ms, on the server's clock (queued → started). */
  queueMs?: number;
  /** The first place in the queue the card showed ("Queued, position N"), if it showed one. */
  queuePosition?: number;
}

export interface StepOutcome {
  label: string;
  x?: number;
  spec: TaskSpec;
  lanes: Partial<Record<LaneId, LaneOutcome>>;
  /** Faults as the server applied them (kind, summary). */
  faults: Array<{ kind: string; summary: string }>;
  /** What a step that is an experiment of the page's own requests, not a race, measured. */
  probe?: ProbeOutcome /** When the scenario pressed Cancel, ms after the race's action. */;
  cancelledAtMs?: number;
  /** A cancelled race's tasks as the server holds them after it (`GET /api/runs/{runId}/tasks`). */
  serverTasks?: Array<{ lane: LaneId; task: TaskState }>;
  /** What a production scene read from the race's timeline log (`scene-figures.ts`). */
  scene?: SceneFigures;
}

export interface Verdict {
  ok: boolean;
  /** "As expected: …" or "Not this time, because …". */
  because: string;
  /** One line: the figures the check used, with their values. */
  why: string;
  /** The same figures, to outline on the cards. */
  figures: FigureRef[];
}

/** Events a task of `steps` steps emits when it succeeds: queued, started, each step, succeeded. */
export const eventsOf = (spec: TaskSpec) => spec.steps + 3;

/** Lane names as a sentence says them. */
export const SAY: Record<LaneId, string> = Object.fromEntries(
  LANE_IDS.map((id) => [id, LANES[id].said]),
) as Record<LaneId, string>;

/** A number said with spaces between thousands: "10 090". */
const count = (n: number) => Math.round(n).toLocaleString('en-US').replaceAll(',', ' ');

export const ms = (value: number | undefined) =>
  value === undefined ? 'not measured' : `${count(value).replace('-', '−')} ms`;
export const seconds = (value: number | undefined) =>
  value === undefined ? 'not measured' : `${(value / 1000).toFixed(1)} s`;
const requestsSaid = (n: number) => `${n} ${n === 1 ? 'request' : 'requests'}`;
const percent = (share: number) => `${Math.round(share * 100)} %`;

function laneOf(step: StepOutcome | undefined, id: LaneId): LaneOutcome | undefined {
  return step?.lanes[id];
}

/** Collects problems and the figures read, and says the verdict. */
export class Judgement {
  readonly problems: string[] = [];
  readonly figures: FigureRef[] = [];
  uses(lane: LaneId, ...figures: CardFigure[]) {
    for (const figure of figures)
      if (!this.figures.some((f) => f.lane === lane && f.figure === figure))
        this.figures.push({ lane, figure });
    return this;
  }
  fail(problem: string) {
    this.problems.push(problem);
  }
  /** The lane, when it ran the task to success; else a problem. */
  succeeded(step: StepOutcome | undefined, id: LaneId): LaneOutcome | undefined {
    const o = laneOf(step, id);
    if (o?.status === 'succeeded') return o;
    this.fail(`${SAY[id]} ended ${o?.status ?? 'without a status'}${o?.error ? ` (${o.error})` : ''}`);
    return undefined;
  }
  verdict(success: string, why: string): Verdict {
    const ok = this.problems.length === 0;
    return {
      ok,
      because: ok ? `As expected: ${success}` : `Not this time, because ${this.problems.join('; ')}.`,
      why: `Why: ${why}`,
      figures: this.figures,
    };
  }
}

/**
 * How far a polling lane's delays per update spread (max − mean), and whether that rules out aliasing:
 * locked to the steps' phase (an interval that divides the step time or is a multiple of it), a poll
 * catches every step at the same moment of its cycle and its delays are all alike; spread over the
 * phases they range over the interval or the step, whichever is shorter (max − mean about half of it).
 * A sixth of it is asked: enough with 4 polls, whatever moment they started at.
 */
export function pollSpread(
  o: LaneOutcome | undefined,
  intervalMs: number,
  stepMs: number,
): { spreadMs: number | undefined; aliased: boolean } {
  const spreadMs =
    o?.stalenessMaxMs !== undefined && o.stalenessMeanMs !== undefined
      ? o.stalenessMaxMs - o.stalenessMeanMs
      : undefined;
  return { spreadMs, aliased: spreadMs === undefined || spreadMs < Math.min(intervalMs, stepMs) / 6 };
}

/** One packet round trip of a profile, ms. */
export const rttOf = (profile: NetworkProfile) => 2 * profile.latencyMs;

/**
 * 1. A quick operation: the blocking call has the result first because it needs the fewest round trips.
 * Every other lane must finish at least half a round trip after it (each needs one more, at least), and
 * it must have made one request.
 */
export function checkBlockingWins(step: StepOutcome | undefined, rttMs: number): Verdict {
  const j = new Judgement();
  const others = (['long-polling', 'sse', 'short-polling', 'websocket'] as const).filter(
    (id) => laneOf(step, id) !== undefined,
  );
  j.uses('request-response', 'totalPerceived', 'requests');
  for (const id of others) j.uses(id, 'totalPerceived');
  const rr = j.succeeded(step, 'request-response');
  const rrMs = rr?.totalPerceivedMs;
  if (rr && rr.requests !== 1) j.fail(`request/response made ${rr.requests} requests`);
  const leads: string[] = [];
  for (const id of others) {
    const o = j.succeeded(step, id);
    if (!o || rrMs === undefined || o.totalPerceivedMs === undefined) continue;
    const lead = o.totalPerceivedMs - rrMs;
    leads.push(`${SAY[id]} ${ms(o.totalPerceivedMs)} (+${ms(lead)})`);
    if (lead < rttMs / 2)
      j.fail(
        `${SAY[id]} finished ${ms(o.totalPerceivedMs)}, only ${ms(lead)} after request/response: less than half a round trip`,
      );
  }
  return j.verdict(
    `request/response had the result first, with one request, at least half a round trip ahead of every other lane.`,
    `request/response ${ms(rrMs)} with ${requestsSaid(rr?.requests ?? 0)}; ${leads.join(', ')}; one round trip is ${ms(rttMs)}.`,
  );
}

/**
 * 2. Long work: the lanes the server tells at once (SSE, the websocket, a held long poll) show each step
 * a one-way trip after it happened (plus the page's frame); short polling shows it up to an interval
 * later, half an interval on average when
 * the steps fall at every phase of the polls. Each of those lanes' delay per update must be below short
 * polling's by at least a quarter of the interval; SSE and the websocket use at most 2 requests; at least
 * a third of short polling's polls are wasted (about two in three when the page keeps its rate: the
 * steps come every 2.9 s; a page its own work slows polls less often, and wastes fewer).
 */
export function checkPushWins(step: StepOutcome | undefined, intervalMs: number): Verdict {
  const j = new Judgement();
  const prompt = ['long-polling', 'sse', 'websocket'] as const;
  j.uses('short-polling', 'staleness', 'requests', 'wastedPolls');
  for (const id of prompt) j.uses(id, 'staleness', 'requests');
  const sp = j.succeeded(step, 'short-polling');
  const spDelay = sp?.stalenessMeanMs;
  const said: string[] = [];
  for (const id of prompt) {
    const o = j.succeeded(step, id);
    if (!o) continue;
    said.push(`${SAY[id]} ${ms(o.stalenessMeanMs)} (${requestsSaid(o.requests)})`);
    if (spDelay === undefined || o.stalenessMeanMs === undefined) {
      j.fail(`the delay per update of ${SAY[id]} or short polling was not measured`);
      continue;
    }
    if (spDelay - o.stalenessMeanMs < intervalMs / 4)
      j.fail(
        `${SAY[id]}'s updates were ${ms(o.stalenessMeanMs)} late on average, short polling's ${ms(spDelay)}: less than a quarter interval apart`,
      );
    if (id !== 'long-polling' && o.requests > 2) j.fail(`${SAY[id]} made ${o.requests} requests`);
  }
  const stepMs = step ? step.spec.durationMs / step.spec.steps : 0;
  const { spreadMs, aliased } = pollSpread(sp, intervalMs, stepMs);
  if (sp && aliased)
    j.fail(
      `short polling's delays per update spread only ${ms(spreadMs)} (max − mean): its polls met the steps at one moment of their cycle (aliasing)`,
    );
  const polls = Math.max(0, (sp?.requests ?? 0) - 1);
  const wasted = sp?.wastedPolls ?? 0;
  if (sp && wasted < polls / 3) j.fail(`short polling wasted ${wasted} of its ${polls} polls, under a third`);
  const perSecond = sp?.totalPerceivedMs ? (sp.requests * 1000) / sp.totalPerceivedMs : undefined;
  const atScale =
    perSecond === undefined
      ? ''
      : ` At scale: 10 000 pages polling like this send ${count(perSecond * 10_000)} requests a second, ${percent(polls > 0 ? wasted / polls : 0)} of them for nothing new.`;
  return j.verdict(
    `SSE, the websocket and long polling showed each step as it happened, short polling ${ms(spDelay)} later on average, wasting ${wasted} of its ${polls} polls.`,
    `delay per update: short polling ${ms(spDelay)}, spread ${ms(spreadMs)} (max − mean; ${requestsSaid(sp?.requests ?? 0)}, ${wasted} wasted), ${said.join(', ')}; the poll interval is ${ms(intervalMs)}.${atScale}`,
  );
}

/**
 * 3. The interval sweep: with steps at every phase of the polls, polling every I shows what the server
 * knows about I/2 later on average than a push lane over the same link, whatever the step time
 * (the screen's age of information is (I + step) / 2 against push's step / 2, each plus the same trip).
 * Each run races short polling against SSE, so the age polling adds over push is read within one race,
 * where the page's own stalls and the link delay both lanes alike. That added age must be positive at
 * every interval and about half the interval overall: the least-squares slope of added age against
 * interval (through the origin, so the long intervals weigh most) between 0.35 and 0.65. (Not "more at
 * each doubling": a run the page's own stalls slowed can add more at 250 ms than the next at 500 ms,
 * while the slope over all four holds.) Locked to the steps' phase (an interval that divides the step time or is a multiple
 * of it), a poll catches every step at the same moment of its cycle and its delays per update are all
 * alike (aliasing), so their spread (max − mean) must reach a sixth of the interval or the step,
 * whichever is shorter. Requests never rise with the interval, and the longest interval makes at most a
 * third of the shortest's (an eighth at full rate); SSE stays at 2.
 */
export function checkIntervalSweep(steps: readonly StepOutcome[]): Verdict {
  const j = new Judgement();
  // The cards show the last run: its requests, delays per update and updates shown; the ages are plotted.
  j.uses('short-polling', 'requests', 'staleness', 'progress');
  j.uses('sse', 'requests', 'staleness', 'progress');
  const sp = steps.map((s) => laneOf(s, 'short-polling'));
  const push = steps.map((s) => laneOf(s, 'sse'));
  if (sp.some((o) => o?.status !== 'succeeded') || push.some((o) => o?.status !== 'succeeded'))
    j.fail('a run of the sweep did not finish');
  const xs = steps.map((s) => s.x ?? 0);
  const requests = sp.map((o) => o?.requests ?? 0);
  const ages = sp.map((o) => o?.informationAgeMs);
  const excess = steps.map((_, k) => {
    const polled = sp[k]?.informationAgeMs;
    const pushed = push[k]?.informationAgeMs;
    return polled === undefined || pushed === undefined ? undefined : polled - pushed;
  });
  const spreads: Array<number | undefined> = [];
  for (let k = 0; k < steps.length; k++) {
    const interval = xs[k] ?? 0;
    // Never more at a longer interval; a page its own work slows may not keep the shortest interval's
    // rate (22 polls at 250 ms in one loaded run), so the halving is judged end to end, below.
    if (k > 0 && (requests[k] ?? 0) > (requests[k - 1] ?? 0))
      j.fail(`polling every ${interval} ms made ${requests[k]} requests, more than ${requests[k - 1]}`);
    const added = excess[k];
    if (added === undefined) j.fail(`the ages of information at ${interval} ms were not measured`);
    else if (added <= 0) j.fail(`polling every ${interval} ms was ${ms(-added)} fresher than SSE`);
    const spec = steps[k]?.spec;
    const { spreadMs, aliased } = pollSpread(sp[k], interval, spec ? spec.durationMs / spec.steps : 0);
    spreads.push(spreadMs);
    if (aliased)
      j.fail(
        `polling every ${interval} ms, the delays per update spread only ${ms(spreadMs)} (max − mean): the polls met the steps at one moment of their cycle (aliasing)`,
      );
  }
  const measured = excess.flatMap((e, k) => (e === undefined ? [] : [{ x: xs[k] ?? 0, e }]));
  const slope =
    measured.length > 0
      ? measured.reduce((sum, p) => sum + p.x * p.e, 0) / measured.reduce((sum, p) => sum + p.x * p.x, 0)
      : undefined;
  if (slope === undefined || slope < 0.35 || slope > 0.65)
    j.fail(
      `the age polling added over SSE grew ${slope === undefined ? 'unmeasured' : slope.toFixed(2)} ms a millisecond of interval, not about half`,
    );
  const fewest = requests.at(-1) ?? 0;
  const most = requests[0] ?? 0;
  if (fewest > most / 3)
    j.fail(`the longest interval made ${fewest} requests, more than a third of the shortest's ${most}`);
  const pushRequests = Math.max(0, ...push.map((o) => o?.requests ?? 0));
  if (pushRequests > 2) j.fail(`SSE made ${pushRequests} requests`);
  const signed = (v: number | undefined) =>
    v === undefined ? 'not measured' : `${v >= 0 ? '+' : '−'}${ms(Math.abs(v))}`;
  return j.verdict(
    `each longer interval cost fewer requests and added about half of itself to the age of information over SSE, which used ${requestsSaid(pushRequests)}.`,
    `requests ${requests.join(' → ')} for intervals ${xs.join(' → ')} ms; age of information ${ages.map(ms).join(' → ')}, over SSE's in the same race ${excess.map(signed).join(' → ')}: ${slope === undefined ? '?' : slope.toFixed(2)} ms per ms of interval (half would be 0.50); delays per update spread ${spreads.map(ms).join(' → ')} (max − mean); SSE ${requestsSaid(pushRequests)}.`,
  );
}

/**
 * 4. A dropped connection: the lanes that know the last event they saw resume from it and show every
 * event exactly once, in order, and each shows that the drop reached it (a reconnection, a failed poll,
 * or a request the browser re-sent by itself, which only the server's count reveals). The blocking call
 * has nothing to resume from: it fails, or, re-sent by the browser, starts the task over and answers a
 * whole task after the drop.
 */
export function checkFlakyNetwork(step: StepOutcome | undefined, dropAtMs: number): Verdict {
  const j = new Judgement();
  const expected = step ? eventsOf(step.spec) : 0;
  const said: string[] = [];
  for (const id of ['long-polling', 'sse', 'websocket'] as const) {
    j.uses(id, 'progress', 'requests');
    const o = j.succeeded(step, id);
    if (!o) continue;
    // The seq orderer applies in order and holds gaps, so reaching the last seq means every event up to
    // it was seen (in the 202's state or as an event); more events applied than exist means one came twice.
    if (o.lastSeq !== expected) j.fail(`${SAY[id]} reached event ${o.lastSeq} of ${expected}`);
    if (o.eventsApplied > expected)
      j.fail(`${SAY[id]} applied ${o.eventsApplied} events of ${expected}: some twice`);
    const resent = o.serverRequests !== undefined ? o.serverRequests - o.requests : 0;
    const how: string[] = [];
    if ((o.reconnects ?? 0) > 0) how.push(`reconnected ${o.reconnects}×`);
    if ((o.pollErrors ?? 0) > 0)
      how.push(`${o.pollErrors} poll${o.pollErrors === 1 ? '' : 's'} failed and asked again`);
    if (resent > 0)
      how.push(
        `the browser re-sent ${resent} request${resent === 1 ? '' : 's'} by itself (page ${o.requests}, server ${o.serverRequests})`,
      );
    if (id === 'websocket') {
      if (o.notes?.some((n) => n.startsWith(WS_RECOVERED_NOTE_PREFIX)))
        how.push('socket.io recovered the session');
      if (o.notes?.some((n) => n.startsWith(WS_RESUBSCRIBED_NOTE_PREFIX)))
        how.push('socket.io could not recover, so the lane re-subscribed from its last seq');
    }
    if (how.length === 0) j.fail(`${SAY[id]} shows no sign that the drop reached it`);
    said.push(`${SAY[id]}: ${how.join(', ') || 'untouched'}`);
  }
  j.uses('request-response', 'totalPerceived', 'requests');
  const rr = laneOf(step, 'request-response');
  const durationMs = step?.spec.durationMs ?? 0;
  let rrSaid: string;
  if (rr?.status === 'succeeded') {
    const startedOver = (rr.totalPerceivedMs ?? 0) >= dropAtMs + durationMs;
    const resent = rr.serverRequests !== undefined && rr.serverRequests > rr.requests;
    rrSaid = `request/response answered after ${ms(rr.totalPerceivedMs)}, the server received its POST ${rr.serverRequests ?? '?'}× for the page's ${rr.requests}`;
    if (!startedOver)
      j.fail(
        `request/response got its answer after ${ms(rr.totalPerceivedMs)}, as if its connection had not been dropped`,
      );
    else if (rr.serverRequests !== undefined && !resent)
      j.fail('request/response finished late, yet the server received its POST only once');
  } else if (rr?.status === 'error') {
    rrSaid = 'request/response lost its answer (a network error: nothing to resume from)';
  } else {
    rrSaid = `request/response ended ${rr?.status ?? 'without a status'}`;
    j.fail(rrSaid);
  }
  const rrOutcome =
    rr?.status === 'succeeded'
      ? `the browser re-sent the blocking POST on a new connection and the task started over, answering ${ms(rr.totalPerceivedMs)} after Start, a whole ${seconds(durationMs)} task after the ${seconds(dropAtMs)} drop.`
      : 'request/response lost its answer.';
  return j.verdict(
    `long polling, SSE and the websocket came back after the drop and reached the last of the ${expected} events in order, none twice; ${rrOutcome}`,
    `${said.join('; ')}; ${rrSaid}.`,
  );
}

/**
 * 5. The receiver is down: the event the fault meets is refused, retried no sooner than both the
 * schedule's slot (× the server's scale, less its 10 % jitter) and the receiver's Retry-After, then
 * delivered; every later event of the task waits behind it (one at a time, in seq order), and all reach
 * the page.
 */
export function checkReceiverDown(
  step: StepOutcome | undefined,
  options: { refused: number; retryAfterMs: number; scheduleScale: number | undefined },
): Verdict {
  const j = new Judgement();
  j.uses('webhook', 'progress', 'totalPerceived');
  const expected = step ? eventsOf(step.spec) : 0;
  const wh = j.succeeded(step, 'webhook');
  if (wh && wh.eventsApplied !== expected)
    j.fail(`the webhook lane showed ${wh.eventsApplied} of ${expected} events`);
  const deliveries = [...(wh?.deliveries ?? [])].sort((a, b) => a.eventSeq - b.eventSeq);
  // The refused event is the first one the fault met: the task's first event may have gone already,
  // before the fault was injected in the same moment as Start.
  const blockedAt = deliveries.findIndex((d) => d.attempts.some((a) => a.outcome !== 'delivered'));
  const blocked = blockedAt >= 0 ? deliveries[blockedAt] : undefined;
  const attempts = blocked?.attempts ?? [];
  const refused = attempts.filter((a) => a.outcome === 'retry');
  const delivered = attempts.find((a) => a.outcome === 'delivered');
  if (!blocked || refused.length < options.refused || !delivered)
    j.fail(
      `the delivery log shows ${refused.length} refused attempts of one event and ${delivered ? 'a' : 'no'} success after them`,
    );
  const scale = options.scheduleScale ?? 0;
  const waits: string[] = [];
  for (let k = 1; k < attempts.length; k++) {
    const before = attempts[k - 1];
    const now = attempts[k];
    if (!before || !now) continue;
    const wait = now.startedAt - (before.startedAt + before.durationMs);
    const slot = (WEBHOOK_RETRY_SCHEDULE_MS[k] ?? 0) * scale;
    const asked = before.httpStatus === 503 || before.httpStatus === 429 ? options.retryAfterMs : 0;
    // The schedule's jitter takes off at most 10 %; timers are never early, but allow 25 ms of clock reading.
    const floor = Math.max(asked, slot * 0.9);
    waits.push(seconds(wait));
    if (wait < floor - 25)
      j.fail(`attempt ${k + 1} came ${ms(wait)} after attempt ${k}, sooner than its floor of ${ms(floor)}`);
  }
  const releasedAt = delivered?.startedAt;
  const later = blockedAt >= 0 ? deliveries.slice(blockedAt + 1) : [];
  const jumped = later.filter(
    (d) => releasedAt !== undefined && (d.attempts[0]?.startedAt ?? Infinity) < releasedAt,
  );
  if (jumped.length > 0)
    j.fail(
      `event ${jumped[0]?.eventSeq} was tried before event ${blocked?.eventSeq} was delivered: no head-of-line order`,
    );
  const deliveredAt = deliveries.map((d) => d.attempts.find((a) => a.outcome === 'delivered')?.startedAt);
  for (let k = 1; k < deliveredAt.length; k++)
    if ((deliveredAt[k] ?? Infinity) < (deliveredAt[k - 1] ?? -Infinity))
      j.fail(`event ${deliveries[k]?.eventSeq} was delivered before event ${deliveries[k - 1]?.eventSeq}`);
  // The log is the lab's last reading of it: the final delivery's attempt may be logged a moment after
  // its relay reached the page, so a delivery not yet logged as delivered is left out of the tail.
  const logged = deliveredAt.filter((at): at is number => at !== undefined);
  const lastAt = logged.length > 0 ? Math.max(...logged) : undefined;
  const tail = releasedAt !== undefined && lastAt !== undefined ? lastAt - releasedAt : undefined;
  const unlogged =
    logged.length < deliveries.length
      ? ` (the log, last read at the end, showed ${logged.length} of ${deliveries.length} delivered)`
      : '';
  const which = blocked ? `event ${blocked.eventSeq} (${blocked.eventType})` : 'no event';
  return j.verdict(
    `${which} was refused ${refused.length}×, retried no sooner than the schedule and Retry-After allowed, then delivered; the ${later.length} events after it waited behind it, and all ${expected} reached the page in order.`,
    `${which}: waits ${waits.join(', ')} between attempts (Retry-After ${seconds(options.retryAfterMs)}, the schedule × ${scale}); the ${later.length} events after it went within ${ms(tail)} of its delivery${unlogged}; the lane finished in ${seconds(wh?.totalPerceivedMs)} for a ${seconds(step?.spec.durationMs)} task.`,
  );
}

/**
 * 6. A slow mobile link: round trips set the time, headers the bytes. No lane says anything before two
 * round trips (TCP's handshake, then the request); the websocket's first word comes at least one round
 * trip after SSE's and short polling's (it needs two more: its upgrade and socket.io's connect); short
 * polling's bytes up are nearly all request lines and headers, yet each request's take under a tenth of
 * a round trip to send at the link's rate.
 */
export function checkSlowLink(step: StepOutcome | undefined, profile: NetworkProfile): Verdict {
  const j = new Judgement();
  const rtt = rttOf(profile);
  const lanes = (['request-response', 'short-polling', 'sse', 'websocket'] as const).filter(
    (id) => laneOf(step, id) !== undefined,
  );
  const firsts: string[] = [];
  for (const id of lanes) {
    j.uses(id, 'firstFeedback');
    const o = laneOf(step, id);
    const first = o?.firstFeedbackMs;
    firsts.push(
      `${SAY[id]} ${ms(first)} (${first === undefined ? '?' : (first / rtt).toFixed(1)} round trips)`,
    );
    if (first === undefined || first < 2 * rtt * 0.95)
      j.fail(`${SAY[id]} showed something after ${ms(first)}, sooner than two round trips`);
  }
  const ws = laneOf(step, 'websocket')?.firstFeedbackMs;
  const http = Math.max(
    laneOf(step, 'sse')?.firstFeedbackMs ?? Infinity,
    laneOf(step, 'short-polling')?.firstFeedbackMs ?? Infinity,
  );
  if (ws === undefined || !Number.isFinite(http) || ws - http < rtt)
    j.fail(
      `the websocket's first feedback ${ms(ws)} was not a round trip after the HTTP lanes' (${ms(http)})`,
    );
  const sp = laneOf(step, 'short-polling');
  j.uses('short-polling', 'bytesUp', 'requests');
  const body = step ? utf8Bytes(JSON.stringify({ spec: step.spec })) : 0;
  const headBytes = sp?.bytesUp !== undefined ? sp.bytesUp - body : undefined;
  const share = headBytes !== undefined && sp?.bytesUp ? headBytes / sp.bytesUp : undefined;
  const perRequest = headBytes !== undefined && sp?.requests ? headBytes / sp.requests : undefined;
  const sendMs = perRequest !== undefined && profile.upKbps ? (perRequest * 8) / profile.upKbps : undefined;
  if (share === undefined || share < 0.9)
    j.fail(
      `short polling's bytes up were ${share === undefined ? 'not measured' : `${percent(share)} headers`}`,
    );
  if (sendMs === undefined || sendMs >= rtt / 10)
    j.fail(
      `each poll's request line and headers took ${ms(sendMs)} to send, not under a tenth of a round trip`,
    );
  return j.verdict(
    `every lane waited at least two round trips for its first word, the websocket ${ws !== undefined && Number.isFinite(http) ? ((ws - http) / rtt).toFixed(1) : '?'} more; headers were ${share === undefined ? '?' : percent(share)} of short polling's bytes up but ${ms(sendMs)} of sending per request.`,
    `first feedback: ${firsts.join(', ')}; one round trip ${ms(rtt)}; short polling sent ${Math.round(perRequest ?? 0)} B of request line and headers per request (${share === undefined ? '?' : percent(share)} of its ${sp?.bytesUp ?? '?'} B up), ${ms(sendMs)} each at ${profile.upKbps ?? '∞'} kbps.`,
  );
}

/**
 * 7. A buffering proxy: SSE's stream is held, so its bar first moves late (at least `heldAtLeastMs`
 * after Start, and at least a second after the websocket's) and shows few of the steps (3 at most); the
 * websocket, relayed as a tunnel once upgraded, shows many (at least 5, and 3 times SSE's). The
 * websocket is not judged by how old its values were on screen, which counts the page's own frames (a
 * busy page shows every lane late), nor by when its bar first moved alone, which counts its own connect
 * (TCP, upgrade, socket.io connect, start ack): by the two lanes' difference in the same race.
 */
export function checkBufferingProxy(step: StepOutcome | undefined, heldAtLeastMs: number): Verdict {
  const j = new Judgement();
  j.uses('sse', 'progress', 'staleness');
  j.uses('websocket', 'progress', 'staleness');
  const steps = step?.spec.steps ?? 0;
  const stepMs = step ? step.spec.durationMs / step.spec.steps : 0;
  const sse = j.succeeded(step, 'sse');
  const ws = j.succeeded(step, 'websocket');
  const sseFirst = sse?.firstProgressMs;
  const wsFirst = ws?.firstProgressMs;
  if (sse && (sseFirst ?? Infinity) < heldAtLeastMs)
    j.fail(`SSE's progress first moved after ${ms(sseFirst)}`);
  if (sse && ws && (sseFirst ?? Infinity) - (wsFirst ?? Infinity) < 1_000)
    j.fail(`SSE's bar first moved ${ms(sseFirst)}, the websocket's ${ms(wsFirst)}: not a second apart`);
  if (sse && sse.progressUpdates > 3) j.fail(`SSE showed ${sse.progressUpdates} of ${steps} updates`);
  if (ws && ws.progressUpdates < Math.max(5, 3 * (sse?.progressUpdates ?? 0)))
    j.fail(
      `the websocket showed ${ws.progressUpdates} of ${steps} updates, SSE ${sse?.progressUpdates ?? 0}`,
    );
  return j.verdict(
    `SSE's bar stood still until ${seconds(sseFirst)} and showed ${sse?.progressUpdates ?? 0} of ${steps} updates; the websocket's moved from ${seconds(wsFirst)} and showed ${ws?.progressUpdates ?? 0}.`,
    `updates shown: SSE ${sse?.progressUpdates ?? 0} of ${steps}, first at ${seconds(sseFirst)} (its delay per update ${ms(sse?.stalenessMeanMs)} counts only what it showed); the websocket ${ws?.progressUpdates ?? 0} of ${steps}, first at ${seconds(wsFirst)}, ${ms(ws?.stalenessMedianMs)} old on screen (median) against a ${ms(stepMs)} step.`,
  );
}

/**
 * 8. A busy backend (issue 15): `backlog` tasks fill the run's `workers`, so that the race's tasks wait
 * in the queue. The blocking call's request is held while its task waits: it reaches the server's sync
 * timeout (504) before a worker takes the task. The asynchronous lanes answer at once and say where the
 * task stands: each shows its place in the queue, then runs the task to success once a worker frees,
 * its queue time longer than the blocking call's wait (the task had not started when the blocking call
 * gave up).
 */
export function checkBusyBackend(
  step: StepOutcome | undefined,
  options: { asyncLanes: readonly LaneId[]; syncTimeoutMs: number | undefined },
): Verdict {
  const j = new Judgement();
  const blocking = laneOf(step, 'request-response');
  if (blocking?.errorCode !== 'SYNC_TIMEOUT')
    j.fail(
      `${SAY['request-response']} ended ${blocking?.status ?? 'without a status'}${blocking?.error ? ` (${blocking.error})` : ''}, not at the server's sync timeout`,
    );
  const places: string[] = [];
  for (const id of options.asyncLanes) {
    j.uses(id, 'queueTime');
    const o = j.succeeded(step, id);
    if (!o) continue;
    if (o.queuePosition === undefined) j.fail(`${SAY[id]} never showed its place in the queue`);
    if (o.queueMs === undefined) j.fail(`${SAY[id]} never learnt when its task started`);
    else if (options.syncTimeoutMs !== undefined && o.queueMs < options.syncTimeoutMs)
      j.fail(
        `${SAY[id]}'s task waited ${seconds(o.queueMs)}, less than the blocking call's ${seconds(options.syncTimeoutMs)}: the blocking call gave up on a task that was running`,
      );
    places.push(`${SAY[id]} position ${o.queuePosition ?? '?'}, queued ${seconds(o.queueMs)}`);
  }
  const timeout = seconds(options.syncTimeoutMs);
  return j.verdict(
    `the blocking call was answered 504 at the server's ${timeout} sync timeout with its task still waiting, while ${options.asyncLanes.map((id) => SAY[id]).join(', ')} showed their place in the queue and then finished.`,
    `request/response ended ${blocking?.errorCode ?? blocking?.status ?? 'not run'} (the server's SYNC_TIMEOUT_MS: ${timeout}); ${places.join('; ')}.`,
  );
}
