import type { LaneId, StormResponse, WebhookAttack } from '@transport-lab/shared';
import { eventsOf, Judgement, ms, SAY, type StepOutcome, seconds, type Verdict } from './checks.ts';
import type { StreamsTrial } from './checks-production.ts';

const laneOf = (step: StepOutcome | undefined, id: keyof StepOutcome['lanes']) => step?.lanes[id];

/**
 * The checks of the lessons issue 12 found missing, as pure functions of what the page measured, each
 * beside the existing ones' shape (`checks.ts`): a verdict, a one-line "why" naming the figures read, and
 * unit tests in which a deliberately wrong mechanism fails.
 */

/** One try of a create whose answer the server was told to lose, and its retry. */
export interface RetryTrial {
  /** Whether every attempt carried the same Idempotency-Key. */
  withKey: boolean;
  /** `POST /api/tasks` requests the page sent (its first, and its retry after a network error). */
  pageRequests: number;
  /** How the page's last attempt ended: the server's answer, or a network error. */
  answer: { status: number; taskId?: string; replayed: boolean } | { error: string };
  /** POSTs the server received for the trial's run, its own count (`GET /api/wire/{runId}`). */
  serverRequests?: number;
  /** Tasks the server created for the trial's run. */
  tasksCreated?: number;
}

/** The expiring-token experiment (`probes.ts`): one stream token outlived by its stream. */
export interface TokenTrial {
  ttlMs: number;
  /** From the token's issue to the first stream's end, ms; absent if it never ended before the task. */
  firstStreamEndedMs?: number;
  /** The browser's own reconnection, with the same expired token, was refused (EventSource closed). */
  reconnectRefused: boolean;
  /** EventSources the page opened: the first, and the one with a fresh token. */
  streamsOpened: number;
  /** Every event seq the page received, in order of arrival. */
  seqs: number[];
  /** Events the task emits: queued, started, each step, its end. */
  expectedEvents: number;
  /** The type of the terminal event received, if any. */
  terminal?: string;
  /** Stream requests the server received for the run (its lane count less the create). */
  serverStreamRequests?: number;
}

/** What an experiment step measured (`probes.ts`). */
export interface ProbeOutcome {
  token?: TokenTrial;
  retries?: RetryTrial[];
  /** The attack-webhooks fault's record: how the receiver answered each copy an attacker sent. */
  attacks?: WebhookAttack[];
  /** The reconnect storms, without and with jitter (checks-production.ts). */
  storms?: StormResponse[];
  /** The seven streams over HTTP/1.1 and over HTTP/2 (checks-production.ts). */
  streams?: StreamsTrial[];
}

const times = (n: number | undefined) => (n === undefined ? 'not counted' : `${n}×`);
const tasks = (n: number | undefined) =>
  n === undefined ? 'an uncounted number of tasks' : `${n} ${n === 1 ? 'task' : 'tasks'}`;

function answerSaid(answer: RetryTrial['answer']): string {
  if ('error' in answer) return `no answer (${answer.error})`;
  return `${answer.status}${answer.replayed ? ' replayed from the key' : ''}`;
}

/**
 * A retried POST runs twice, unless it carries an Idempotency-Key. In each trial the first answer was
 * lost after the task was created, so the server must have received the POST at least twice (the
 * page's retry, or the browser's own); without a key it must have created a task per arrival (at least
 * 2: the work ran twice), with a key exactly one, the retry answered from the stored first answer
 * (`Idempotent-Replayed: true`). A trial whose POST arrived once lost no answer, and proves nothing.
 */
export function checkRetriedPost(step: StepOutcome | undefined): Verdict {
  const j = new Judgement();
  const trials = step?.probe?.retries ?? [];
  const bare = trials.find((t) => !t.withKey);
  const keyed = trials.find((t) => t.withKey);
  const said: string[] = [];
  for (const [trial, name] of [
    [bare, 'without a key'],
    [keyed, 'with an Idempotency-Key'],
  ] as const) {
    if (!trial) {
      j.fail(`the trial ${name} did not run`);
      continue;
    }
    const resentByBrowser =
      trial.serverRequests !== undefined && trial.serverRequests > trial.pageRequests
        ? ` (${trial.serverRequests - trial.pageRequests} re-sent by the browser itself)`
        : '';
    said.push(
      `${name}: the page sent ${trial.pageRequests}, the server received ${times(trial.serverRequests)}${resentByBrowser} and created ${tasks(trial.tasksCreated)}, the last answer ${answerSaid(trial.answer)}`,
    );
    if ('error' in trial.answer) j.fail(`${name}, the retry got no answer either (${trial.answer.error})`);
    if ((trial.serverRequests ?? 0) < 2)
      j.fail(`${name}, the server received the POST ${times(trial.serverRequests)}: no answer was lost`);
  }
  if (bare && (bare.tasksCreated ?? 0) < 2)
    j.fail(`without a key the retry created ${tasks(bare.tasksCreated)} in all, not one per arrival`);
  if (keyed && keyed.tasksCreated !== 1)
    j.fail(`with an Idempotency-Key the server created ${tasks(keyed.tasksCreated)}, not 1`);
  if (keyed && !('error' in keyed.answer) && !keyed.answer.replayed)
    j.fail('with an Idempotency-Key the retry was not answered from the stored first answer');
  return j.verdict(
    `without a key the retried POST created ${tasks(bare?.tasksCreated)}, the work ran twice; with an Idempotency-Key it created ${tasks(keyed?.tasksCreated)} and the retry got the first answer back.`,
    `${said.join('; ')}.`,
  );
}

const ATTACK_SAID: Record<WebhookAttack['kind'], string> = {
  'tampered-body': 'the body altered under the captured signature',
  'wrong-secret': 'a message signed with a made-up secret',
  replayed: 'the captured delivery re-sent as it was',
  'stale-timestamp': 'a delivery signed 6 min ago',
};

function attackAnswer(a: WebhookAttack | undefined): string {
  if (!a) return 'not sent';
  if (a.httpStatus === undefined) return `no answer (${a.message ?? '?'})`;
  if (a.duplicate)
    return `${a.httpStatus}, acknowledged as a duplicate of ${a.webhookId}, not processed again`;
  return `${a.httpStatus}${a.message ? ` (${a.message})` : ''}`;
}

/**
 * A forged or replayed webhook is refused. The race's webhook lane must show each of its task's events
 * once; then, of the copies an attacker sent the receiver, the tampered body and the made-up secret
 * must be refused for their signature (401), the delivery signed over 5 minutes ago for its timestamp
 * (401, naming the timestamp: the signature was genuine), and the captured delivery re-sent as it was,
 * which passes both, must be acknowledged as a duplicate of its webhook-id, not processed again.
 */
export function checkForgedWebhook(race: StepOutcome | undefined, attack: StepOutcome | undefined): Verdict {
  const j = new Judgement();
  j.uses('webhook', 'progress');
  const expected = race ? eventsOf(race.spec) : 0;
  const wh = j.succeeded(race, 'webhook');
  if (wh && (wh.eventsApplied !== expected || wh.lastSeq !== expected))
    j.fail(`the webhook lane showed ${wh.eventsApplied} of ${expected} events`);
  const attacks = attack?.probe?.attacks ?? [];
  const of = (kind: WebhookAttack['kind']) => attacks.find((a) => a.kind === kind);
  for (const kind of ['tampered-body', 'wrong-secret', 'stale-timestamp'] as const) {
    const a = of(kind);
    if (a?.httpStatus !== 401)
      j.fail(`${ATTACK_SAID[kind]} was answered ${attackAnswer(a)}, not refused (401)`);
  }
  const stale = of('stale-timestamp');
  if (stale?.httpStatus === 401 && !/timestamp/i.test(stale.message ?? ''))
    j.fail(
      `the delivery signed 6 min ago was refused, but not for its timestamp (${stale.message ?? 'no reason'})`,
    );
  const replay = of('replayed');
  if (replay?.httpStatus !== 200 || !replay.duplicate)
    j.fail(`${ATTACK_SAID.replayed} was answered ${attackAnswer(replay)}: not recognised by its webhook-id`);
  return j.verdict(
    'the receiver refused the altered body, the made-up secret and the stale timestamp (401), and acknowledged the replay by its webhook-id without processing it again; the page showed each event once.',
    `${(['tampered-body', 'wrong-secret', 'replayed', 'stale-timestamp'] as const)
      .map((kind) => `${ATTACK_SAID[kind]}: ${attackAnswer(of(kind))}`)
      .join('; ')}; the webhook lane showed ${wh?.eventsApplied ?? 0} of ${expected} events.`,
  );
}

/**
 * The hybrid: one request that asks for the answer itself if it comes within the wait (RFC 7240
 * `Prefer: respond-async, wait=N`), else a 202 and push. The same lane, with the same settings, must
 * answer the quick task in its one request (path "answered": the server saw it end within the wait;
 * 1 request; what the page measured, a busy page's stalls included, is said, not judged) and hand
 * the slow one to push (path "pushed": the 202 no sooner than the wait, then the steps shown as they
 * come, every event reached); beside it, request/response shows nothing of the slow task before its end.
 */
export function checkHybrid(
  quick: StepOutcome | undefined,
  slow: StepOutcome | undefined,
  waitMs: number,
): Verdict {
  const j = new Judgement();
  j.uses('hybrid', 'requests', 'totalPerceived', 'firstFeedback', 'progress');
  const q = j.succeeded(quick, 'hybrid');
  if (q && q.path !== 'answered') j.fail(`the quick task took the path "${q.path ?? 'none'}", not answered`);
  if (q && q.requests !== 1) j.fail(`the quick task took ${q.requests} requests, not 1`);
  const s = j.succeeded(slow, 'hybrid');
  const expected = slow ? eventsOf(slow.spec) : 0;
  if (s && s.path !== 'pushed')
    j.fail(`the slow task took the path "${s.path ?? 'none'}", not a 202 and push`);
  // The 202 is the first feedback: the server holds the request for the wait before it (less a 25 ms reading).
  if (s && (s.firstFeedbackMs ?? 0) < waitMs - 25)
    j.fail(
      `the slow task's first answer came after ${ms(s.firstFeedbackMs)}, before the ${ms(waitMs)} wait ended`,
    );
  if (s && s.lastSeq !== expected) j.fail(`the slow task reached event ${s.lastSeq} of ${expected}`);
  const pushedSteps = slow ? slow.spec.steps : 0;
  if (s && s.progressUpdates < Math.min(3, pushedSteps))
    j.fail(`the slow task showed ${s.progressUpdates} progress updates: push did not carry the steps`);
  j.uses('request-response', 'progress');
  const rr = laneOf(slow, 'request-response');
  if (rr && rr.progressUpdates > 1)
    j.fail(`request/response showed ${rr.progressUpdates} progress updates of a task it cannot follow`);
  return j.verdict(
    `the same hybrid lane answered the quick task in its one request and handed the slow one to push after the ${ms(waitMs)} wait.`,
    `quick task: path ${q?.path ?? 'none'}, ${q?.requests ?? 0} ${q?.requests === 1 ? 'request' : 'requests'}, answer after ${ms(q?.totalPerceivedMs)}; slow task: path ${s?.path ?? 'none'}, first answer (the 202) after ${ms(s?.firstFeedbackMs)}, ${s?.requests ?? 0} requests, ${s?.progressUpdates ?? 0} of ${pushedSteps} steps shown, event ${s?.lastSeq ?? 0} of ${expected}; request/response showed ${rr?.progressUpdates ?? 0} updates of the slow task; the wait is ${ms(waitMs)}.`,
  );
}

/** How a lane sends Cancel to the server, said in the why line: the asynchronous task resource's
 *  `POST …/cancel` unless listed. */
const CANCEL_HOW: Partial<Record<LaneId, string>> = {
  'request-response': 'its request aborted',
  websocket: 'task:cancel',
};
const cancelHow = (id: LaneId) => CANCEL_HOW[id] ?? 'POST …/cancel';

/**
 * Cancel reaches the task on every lane. After the page pressed Cancel mid-task, each lane's card must
 * say cancelled, and the server's own state of each lane's task (`GET /api/runs/{runId}/tasks`) must be
 * cancelled too, stopped before its end: at most one step past those due when Cancel was pressed (one
 * may fall due while the cancel travels). A lane that only stops listening leaves its task running to
 * its end on the server, and fails.
 */
export function checkCancel(step: StepOutcome | undefined, lanes: readonly LaneId[]): Verdict {
  const j = new Judgement();
  const cancelledAt = step?.cancelledAtMs;
  const stepMs = step ? step.spec.durationMs / step.spec.steps : 0;
  const due = cancelledAt === undefined || stepMs === 0 ? undefined : Math.floor(cancelledAt / stepMs);
  if (cancelledAt === undefined) j.fail('Cancel was never pressed');
  if (!step?.serverTasks) j.fail("the server's list of the run's tasks could not be read");
  const said: string[] = [];
  for (const id of lanes) {
    j.uses(id, 'progress');
    const page = laneOf(step, id);
    if (page?.status !== 'cancelled') j.fail(`${SAY[id]}'s card ended ${page?.status ?? 'without a status'}`);
    const held = step?.serverTasks?.filter((t) => t.lane === id) ?? [];
    const task = held.at(-1)?.task;
    if (!task) {
      if (step?.serverTasks) j.fail(`the server holds no task of ${SAY[id]}`);
      continue;
    }
    said.push(`${SAY[id]} (${cancelHow(id)}) ${task.status} at step ${task.step} of ${task.steps}`);
    if (task.status !== 'cancelled')
      j.fail(
        `${SAY[id]}'s task is ${task.status} on the server (step ${task.step} of ${task.steps}): the cancel did not reach it`,
      );
    else if (due !== undefined && task.step > due + 1)
      j.fail(
        `${SAY[id]}'s task ran to step ${task.step}, more than one past the ${due} due when Cancel was pressed`,
      );
  }
  return j.verdict(
    `Cancel, pressed after ${seconds(cancelledAt)}, reached the task of every lane: each card and each task on the server says cancelled, none ran on.`,
    `Cancel at ${seconds(cancelledAt)}, when ${due ?? '?'} of ${step?.spec.steps ?? '?'} steps were due; on the server: ${said.join('; ')}.`,
  );
}

/**
 * A proxy's idle timeout: behind a proxy that cuts an answer quiet for `idleMs`, through a task whose
 * one step comes later than that, SSE (a comment line every `heartbeatMs`, shorter) keeps its one
 * stream: no reconnection, every event; long polling, whose held request says nothing until the step,
 * is cut (a failed poll, or a poll the browser re-sent by itself, which only the server's count shows)
 * and resumes by its cursor to every event.
 */
export function checkIdleTimeout(
  step: StepOutcome | undefined,
  idleMs: number,
  heartbeatMs: number,
): Verdict {
  const j = new Judgement();
  const expected = step ? eventsOf(step.spec) : 0;
  j.uses('sse', 'requests', 'progress');
  j.uses('long-polling', 'requests', 'progress');
  if (heartbeatMs >= idleMs)
    j.fail(
      `the heartbeat (every ${ms(heartbeatMs)}) is not more often than the proxy's ${ms(idleMs)} timeout`,
    );
  const sse = j.succeeded(step, 'sse');
  if (sse && (sse.reconnects ?? 0) > 0) j.fail(`SSE's stream was cut: it reconnected ${sse.reconnects}×`);
  if (sse && sse.lastSeq !== expected) j.fail(`SSE reached event ${sse.lastSeq} of ${expected}`);
  const lp = j.succeeded(step, 'long-polling');
  // A cut GET on a kept-alive connection is often re-sent by Chromium itself, unseen by the page: only
  // the server's count of the lane's requests shows it.
  const resent = lp?.serverRequests !== undefined ? Math.max(0, lp.serverRequests - lp.requests) : 0;
  const cuts = (lp?.pollErrors ?? 0) + (lp?.reconnects ?? 0) + resent;
  if (lp && cuts === 0) j.fail('long polling was never cut: its held request outlived the quiet time');
  if (lp && lp.lastSeq !== expected) j.fail(`long polling reached event ${lp.lastSeq} of ${expected}`);
  return j.verdict(
    `SSE's heartbeat kept its one stream open through the quiet time; long polling's held request was cut and asked again, and both showed every event.`,
    `proxy idle timeout ${ms(idleMs)}, SSE heartbeat every ${ms(heartbeatMs)}; SSE reconnected ${sse?.reconnects ?? 0}× with ${sse?.requests ?? 0} requests, event ${sse?.lastSeq ?? 0} of ${expected}; long polling: ${lp?.pollErrors ?? 0} polls failed and asked again by the page, ${resent} re-sent by the browser itself (page ${lp?.requests ?? 0} requests, server ${lp?.serverRequests ?? '?'}), event ${lp?.lastSeq ?? 0} of ${expected}.`,
  );
}

/**
 * A token that expires during a long-lived stream. The stream must end at the token's expiry (not
 * sooner, at most 1.5 s later, and before the task's end: access ends with the token, not with the
 * connection); the browser's own reconnection with the expired token must be refused (EventSource then
 * stops for good); and the page, with a fresh token and the last seq it saw, must receive every event
 * exactly once, in order, to the task's success. The server must have been asked for at least three
 * streams: the first, the refused reconnection, the fresh one.
 */
export function checkExpiringToken(step: StepOutcome | undefined): Verdict {
  const j = new Judgement();
  const t = step?.probe?.token;
  if (!t) {
    j.fail('the experiment did not run');
    return j.verdict('', 'no figures.');
  }
  const ended = t.firstStreamEndedMs;
  if (ended === undefined) j.fail('the first stream never ended before the task did: it outlived its token');
  else if (ended < t.ttlMs - 100 || ended > t.ttlMs + 1_500)
    j.fail(
      `the first stream ended ${ms(ended)} after the token was issued, not at its ${ms(t.ttlMs)} expiry`,
    );
  if (!t.reconnectRefused) j.fail("the browser's reconnection with the expired token was not refused");
  const inOrder = t.seqs.every((seq, k) => seq === k + 1);
  if (!inOrder || t.seqs.length !== t.expectedEvents)
    j.fail(
      `the page received events ${t.seqs.join(', ') || 'none'}, not 1 to ${t.expectedEvents} once each in order`,
    );
  if (t.terminal !== 'succeeded') j.fail(`the task's end was ${t.terminal ?? 'never received'}`);
  if ((t.serverStreamRequests ?? 0) < 3)
    j.fail(
      `the server was asked for ${t.serverStreamRequests ?? 'an uncounted number of'} streams, not at least 3`,
    );
  return j.verdict(
    `the stream ended when its ${ms(t.ttlMs)} token expired, the browser's own reconnection with it was refused, and a fresh token resumed after the last seq: every event once, in order.`,
    `token life ${ms(t.ttlMs)}; first stream ended ${ms(ended)} after it was issued; the browser's reconnection ${t.reconnectRefused ? 'refused (401, EventSource closed)' : 'not refused'}; ${t.streamsOpened} EventSources opened by the page, ${t.serverStreamRequests ?? '?'} stream requests at the server; events received ${t.seqs.join(', ')} of ${t.expectedEvents}; ended ${t.terminal ?? 'never'}.`,
  );
}
