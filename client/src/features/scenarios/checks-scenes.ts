import type { LaneId } from '@transport-lab/shared';
import { eventsOf, Judgement, ms, SAY, type StepOutcome, seconds, type Verdict } from './checks.ts';

/**
 * The checks of the scenes people hit in production (issue 15, item 5; `scenes.ts`), pure functions of
 * what the page measured, as the others in `checks.ts`. Their margins come from the mechanism: the
 * server's heartbeat settings, Chromium's one wake-up a second for a hidden page's timers.
 */

/** The median of some values; undefined for none. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Every event of the task once, in order, and the lane succeeded. */
function everyEventOnce(j: Judgement, step: StepOutcome | undefined, id: LaneId) {
  const o = j.succeeded(step, id);
  if (!o || !step) return o;
  const expected = eventsOf(step.spec);
  // As the flaky network's check reads it: the last seq reached (applied in order, so every seq up to
  // it was seen), and none applied twice (a lane may see its first event as the 202's state instead).
  if (o.lastSeq !== expected) j.fail(`${SAY[id]} reached event ${o.lastSeq} of ${expected}`);
  if (o.eventsApplied > expected)
    j.fail(`${SAY[id]} applied ${o.eventsApplied} events of ${expected}: some twice`);
  return o;
}

/** socket.io's heartbeat as the server says it (`GET /api/settings`), ms. */
export interface Heartbeat {
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

/**
 * How late a page's timer may fire on a loaded machine, ms: the upper bound of the dead time allows it
 * (a 2-core machine running other work showed main-thread stalls of 770 ms; scenarios.ts).
 */
export const TIMER_SLACK_MS = 1_000;

/**
 * A network switch leaves the websocket "connected" but dead. The page's socket.io client closes its
 * end when it hears no ping for pingInterval + pingTimeout (engine.io's rule, the figures from the
 * server's handshake); the last ping it heard came at most one interval before the path died, so it
 * notices no sooner than pingTimeout after and no later than pingInterval + pingTimeout (plus a late
 * timer). Until then the page saw no frame, yet the socket said it was connected; then it reconnects
 * and has every event once. SSE, on a connection of its own, is not touched.
 */
export function checkDeadSocket(step: StepOutcome | undefined, heartbeat: Heartbeat | undefined): Verdict {
  const j = new Judgement();
  j.uses('websocket', 'totalPerceived', 'progress');
  j.uses('sse', 'totalPerceived');
  const ws = everyEventOnce(j, step, 'websocket');
  const sse = everyEventOnce(j, step, 'sse');
  const dead = step?.scene?.deadSocket;
  const deadMs =
    dead?.noticedAtMs !== undefined && dead.deadFromMs !== undefined
      ? dead.noticedAtMs - dead.deadFromMs
      : undefined;
  if (!heartbeat) j.fail('the server did not say its heartbeat settings');
  if (dead?.deadFromMs === undefined) j.fail('the blackhole was not applied');
  else if (deadMs === undefined) j.fail('the websocket never said it lost its connection');
  if (dead?.reason !== undefined && dead.reason !== 'ping timeout')
    j.fail(`the websocket lost its connection by "${dead.reason}", not by its heartbeat ("ping timeout")`);
  const max = heartbeat ? heartbeat.pingIntervalMs + heartbeat.pingTimeoutMs : undefined;
  if (heartbeat && deadMs !== undefined) {
    if (deadMs < heartbeat.pingTimeoutMs - 100)
      j.fail(`it noticed after ${ms(deadMs)}, sooner than a ping timeout (${ms(heartbeat.pingTimeoutMs)})`);
    if (max !== undefined && deadMs > max + TIMER_SLACK_MS)
      j.fail(`it noticed after ${ms(deadMs)}, later than ping interval + timeout (${ms(max)})`);
  }
  if ((dead?.framesDownWhileDead ?? 0) > 0)
    j.fail(`the page received ${dead?.framesDownWhileDead} frames on the dead socket`);
  if (deadMs !== undefined && dead?.reconnectedAtMs === undefined) j.fail('the websocket never reconnected');
  const resumedBy = ws?.notes?.some((n) => n.includes('recovered the session'))
    ? 'socket.io recovered the session'
    : ws?.notes?.some((n) => n.includes('could not recover'))
      ? 'it re-subscribed from its last seq'
      : 'it resumed';
  return j.verdict(
    `the websocket looked connected for ${seconds(deadMs)} after its path died, receiving nothing, until its heartbeat noticed (ping timeout, within ping interval + timeout: ${seconds(max)}); it reconnected, ${resumedBy}, and showed every event once; SSE, on its own connection, finished in ${seconds(sse?.totalPerceivedMs)}.`,
    `path dead at ${seconds(dead?.deadFromMs)}, noticed at ${seconds(dead?.noticedAtMs)} (${dead?.reason ?? 'no reason'}): ${ms(deadMs)} dead while "connected", ${dead?.framesDownWhileDead ?? 0} frames received; reconnected at ${seconds(dead?.reconnectedAtMs)}; heartbeat: a ping every ${ms(heartbeat?.pingIntervalMs)}, ${ms(heartbeat?.pingTimeoutMs)} to answer; the websocket finished at ${seconds(ws?.totalPerceivedMs)}, SSE at ${seconds(sse?.totalPerceivedMs)}.`,
  );
}

/** How long the page must have been hidden during the race for the background-tab check to judge it, ms. */
export const MIN_HIDDEN_MS = 4_000;
/** Chromium runs a hidden page's timers at most once a second (aligned wake-ups), ms. */
export const HIDDEN_TIMER_ALIGNMENT_MS = 1_000;

/**
 * A background tab: while the page is hidden Chromium wakes its timers at most once a second and draws
 * no frames. Short polling, which waits for its next poll on a timer, polls at most once a second
 * (median gap ≥ 0.9 s, against its own interval while visible); SSE and the websocket still receive
 * each event as it happens (the network is not throttled), but nothing reaches the screen until the
 * page is visible again (the page applies what it received once per animation frame). Every lane ends
 * with every event once.
 */
export function checkBackgroundTab(step: StepOutcome | undefined, pollIntervalMs: number): Verdict {
  const j = new Judgement();
  j.uses('short-polling', 'requests', 'progress');
  j.uses('sse', 'progress');
  j.uses('websocket', 'progress');
  // Short polling reads whole task states, not events: it must succeed; the push lanes, every event once.
  j.succeeded(step, 'short-polling');
  for (const id of ['sse', 'websocket'] as const) everyEventOnce(j, step, id);
  const hidden = step?.scene?.hidden;
  const hiddenMs =
    hidden?.hiddenFromMs !== undefined && hidden.hiddenToMs !== undefined
      ? hidden.hiddenToMs - hidden.hiddenFromMs
      : 0;
  if (hiddenMs < MIN_HIDDEN_MS) {
    j.fail(
      `the page was not hidden for ${seconds(MIN_HIDDEN_MS)} during the race (${seconds(hiddenMs)}): switch to another tab while it runs, and come back`,
    );
    return j.verdict('', `hidden ${seconds(hiddenMs)} of the race.`);
  }
  const sp = hidden?.lanes['short-polling'];
  const hiddenGap = median(sp?.gapsHiddenMs ?? []);
  const visibleGap = median(sp?.gapsVisibleMs ?? []);
  if (hiddenGap === undefined || hiddenGap < HIDDEN_TIMER_ALIGNMENT_MS * 0.9)
    j.fail(`short polling polled every ${ms(hiddenGap)} while hidden (median), not once a second or less`);
  if (visibleGap !== undefined && visibleGap >= HIDDEN_TIMER_ALIGNMENT_MS * 0.9)
    j.fail(`short polling polled every ${ms(visibleGap)} while visible, not at its ${ms(pollIntervalMs)}`);
  const pushSaid: string[] = [];
  for (const id of ['sse', 'websocket'] as const) {
    const o = hidden?.lanes[id];
    pushSaid.push(
      `${SAY[id]} received ${o?.receivedHidden ?? 0} events while hidden, showed ${o?.shownHidden ?? 0} then, the first at ${seconds(o?.firstShownAfterMs)}`,
    );
    if (!o || o.receivedHidden === 0) j.fail(`${SAY[id]} received no event while the page was hidden`);
    else if (o.shownHidden > 0) j.fail(`${SAY[id]} put ${o.shownHidden} updates on screen while hidden`);
  }
  return j.verdict(
    `hidden for ${seconds(hiddenMs)}, short polling slowed from every ${ms(visibleGap)} to every ${ms(hiddenGap)} (Chromium's once-a-second timers); SSE and the websocket kept receiving, but nothing reached the screen until the page was visible again.`,
    `hidden from ${seconds(hidden?.hiddenFromMs)} to ${seconds(hidden?.hiddenToMs)}; short polling's gaps between polls (median): ${ms(visibleGap)} visible, ${ms(hiddenGap)} hidden (interval ${ms(pollIntervalMs)}); ${pushSaid.join('; ')}.`,
  );
}
