import {
  type FaultKind,
  LANES,
  type LaneId,
  type LaneSettings,
  type RaceFaultTemplate,
  type SetLinkRequest,
  type TaskSpec,
} from '@transport-lab/shared';

/**
 * Guided scenarios (issue 5): each sets up one trade-off in one click, says what to notice and why,
 * states its expected outcome, and checks it against what this page measured. The checks read only
 * the page's own figures (the ones its metrics table shows), never a model.
 */

export interface ScenarioStep {
  /** "Interval 500 ms": shown while it runs and on the plot. */
  label: string;
  spec: TaskSpec;
  lanes: LaneId[];
  laneSettings: Partial<LaneSettings>;
  /** Each fault `afterMs` after the race's action; the race's run id is filled in then. */
  faults?: Array<{ afterMs: number; fault: RaceFaultTemplate }>;
  /** The x of this step on the scenario's plot (the interval sweep). */
  x?: number;
}

/** What one lane of one step measured, from the page's own figures. */
export interface LaneOutcome {
  status: 'succeeded' | 'failed' | 'cancelled' | 'error' | 'idle' | 'running';
  firstFeedbackMs?: number;
  totalPerceivedMs?: number;
  completionLagMs?: number;
  stalenessMeanMs?: number;
  /** The typical age of a progress value on screen (nearest-rank median), ms. */
  stalenessMedianMs?: number;
  stalenessMaxMs?: number;
  /** The screen's mean age of information while the task ran (shared `meanInformationAgeMs`). */
  informationAgeMs?: number;
  requests: number;
  wastedPolls?: number;
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
}

export interface StepOutcome {
  label: string;
  x?: number;
  spec: TaskSpec;
  lanes: Partial<Record<LaneId, LaneOutcome>>;
  /** Faults as the server applied them (kind, summary). */
  faults: Array<{ kind: FaultKind; summary: string }>;
}

export interface Verdict {
  ok: boolean;
  /** "As expected: …" or "Not this time, because …". */
  because: string;
}

export interface Scenario {
  id: string;
  title: string;
  /** What to notice, and why: for training. */
  lesson: string;
  /** The outcome the scenario states before it runs. */
  expectation: string;
  network: SetLinkRequest;
  steps: ScenarioStep[];
  /** Draw the steps as a plot (x = step.x): the interval sweep. */
  plot?: { xLabel: string };
  check(outcomes: StepOutcome[]): Verdict;
}

/** Events a task of `steps` steps emits when it succeeds: queued, started, each step, succeeded. */
export const eventsOf = (spec: TaskSpec) => spec.steps + 3;

const name = (id: LaneId) => LANES[id].name;
const ms = (value: number | undefined) => (value === undefined ? 'not measured' : `${Math.round(value)} ms`);

function laneOf(step: StepOutcome | undefined, id: LaneId): LaneOutcome | undefined {
  return step?.lanes[id];
}

function notAll(problems: string[], success: string): Verdict {
  return problems.length === 0
    ? { ok: true, because: `As expected: ${success}` }
    : { ok: false, because: `Not this time, because ${problems.join('; ')}.` };
}

/** When the flaky-network scenario drops every lane's connections, ms after Start. */
const FLAKY_DROP_AT_MS = 2_000;

const DEFAULT_LANE_SETTINGS: LaneSettings = {
  longPollWaitMs: 25_000,
  hybridWaitS: 10,
  hybridPushLane: 'sse',
};
export const laneSettingsOf = (step: ScenarioStep): LaneSettings => ({
  ...DEFAULT_LANE_SETTINGS,
  ...step.laneSettings,
});

export const SCENARIOS: Scenario[] = [
  {
    id: 'blocking-wins',
    title: 'A 50 ms operation: the blocking call wins',
    lesson:
      'When the work is over before a person could notice, one request that waits for the answer is the ' +
      'simplest lane and just as fast: polling needs a second request, a stream or a socket needs setting up, ' +
      'and none of them can show anything sooner than the answer itself.',
    expectation:
      'Request/response shows the result within 15 ms of the fastest lane, with a single request; every polling or streaming lane makes two or more.',
    network: { preset: 'none' },
    steps: [
      {
        label: '50 ms task',
        spec: { durationMs: 50, steps: 1 },
        lanes: ['request-response', 'short-polling', 'long-polling', 'sse', 'websocket'],
        laneSettings: { pollIntervalMs: 100 },
      },
    ],
    check([step]) {
      const rr = laneOf(step, 'request-response');
      const problems: string[] = [];
      if (rr?.status !== 'succeeded' || rr.totalPerceivedMs === undefined) {
        return { ok: false, because: 'Not this time, because request/response did not finish.' };
      }
      const others = (['short-polling', 'long-polling', 'sse', 'websocket'] as const)
        .map((id) => [id, laneOf(step, id)] as const)
        .filter(([, o]) => o?.status === 'succeeded');
      const fastest = Math.min(
        rr.totalPerceivedMs,
        ...others.map(([, o]) => o?.totalPerceivedMs ?? Infinity),
      );
      if (rr.totalPerceivedMs > fastest + 15)
        problems.push(`request/response took ${ms(rr.totalPerceivedMs)}, the fastest lane ${ms(fastest)}`);
      if (rr.requests !== 1) problems.push(`request/response made ${rr.requests} requests`);
      for (const [id, o] of others)
        if (id !== 'websocket' && (o?.requests ?? 0) < 2)
          problems.push(`${name(id)} made only ${o?.requests} request`);
      return notAll(
        problems,
        `request/response finished in ${ms(rr.totalPerceivedMs)} (fastest ${ms(fastest)}) with one request.`,
      );
    },
  },
  {
    id: 'push-wins',
    title: 'A 20 s report: push wins, polling wastes requests',
    lesson:
      'For long work the server knows first. Server-Sent Events and the websocket tell the page the moment ' +
      'something happens, on one connection; short polling asks every second and mostly hears "nothing new", ' +
      'paying a request (headers and all) each time, and still learns of the end up to a whole interval late.',
    expectation:
      'SSE and the websocket show the end sooner than short polling (lower completion lag), with at most 2 requests each; short polling wastes at least 10 polls.',
    network: { preset: 'none' },
    steps: [
      {
        label: '20 s report, 4 steps',
        spec: { durationMs: 20_000, steps: 4 },
        lanes: ['short-polling', 'long-polling', 'sse', 'websocket'],
        laneSettings: { pollIntervalMs: 1_000 },
      },
    ],
    check([step]) {
      const sp = laneOf(step, 'short-polling');
      const problems: string[] = [];
      if (sp?.status !== 'succeeded')
        return { ok: false, because: 'Not this time, because short polling did not finish.' };
      for (const id of ['sse', 'websocket'] as const) {
        const o = laneOf(step, id);
        if (o?.status !== 'succeeded') {
          problems.push(`${name(id)} did not finish`);
          continue;
        }
        if ((o.completionLagMs ?? Infinity) >= (sp.completionLagMs ?? -Infinity))
          problems.push(
            `${name(id)}'s completion lag ${ms(o.completionLagMs)} is not below short polling's ${ms(sp.completionLagMs)}`,
          );
        if (o.requests > 2) problems.push(`${name(id)} made ${o.requests} requests`);
      }
      if ((sp.wastedPolls ?? 0) < 10) problems.push(`short polling wasted only ${sp.wastedPolls ?? 0} polls`);
      return notAll(
        problems,
        `short polling made ${sp.requests} requests, ${sp.wastedPolls} of them wasted, and lagged ${ms(sp.completionLagMs)}; ` +
          `SSE lagged ${ms(laneOf(step, 'sse')?.completionLagMs)}, the websocket ${ms(laneOf(step, 'websocket')?.completionLagMs)}.`,
      );
    },
  },
  {
    id: 'interval-sweep',
    title: 'The polling interval sweep: freshness against requests',
    lesson:
      'A polling interval trades freshness for requests: halve it and the page hears of each step sooner, ' +
      'for twice the requests. No interval gets both; only a push lane does. The plot shows, for each ' +
      'interval, the requests it cost and how far behind the screen stood on average (the mean age of what ' +
      'it showed, over the whole task).',
    expectation:
      "As the interval grows from 250 ms to 2 s, requests fall at every step and the screen's mean age ends higher than it began.",
    network: { preset: 'none' },
    plot: { xLabel: 'poll interval (ms)' },
    steps: [250, 500, 1_000, 2_000].map((interval) => ({
      label: `Interval ${interval} ms`,
      x: interval,
      spec: { durationMs: 4_000, steps: 8 },
      lanes: ['short-polling'],
      laneSettings: { pollIntervalMs: interval },
    })),
    check(steps) {
      const figures = steps.map((s) => laneOf(s, 'short-polling'));
      if (figures.some((f) => f?.status !== 'succeeded'))
        return { ok: false, because: 'Not this time, because a run of the sweep did not finish.' };
      const requests = figures.map((f) => f?.requests ?? 0);
      const ages = figures.map((f) => f?.informationAgeMs);
      const problems: string[] = [];
      for (let k = 1; k < requests.length; k++)
        if ((requests[k] ?? 0) >= (requests[k - 1] ?? 0))
          problems.push(`${steps[k]?.label} made ${requests[k]} requests, not fewer than ${requests[k - 1]}`);
      const first = ages[0];
      const last = ages.at(-1);
      if (first === undefined || last === undefined || last <= first)
        problems.push(`the screen's mean age went from ${ms(first)} to ${ms(last)}`);
      return notAll(
        problems,
        `requests ${requests.join(' → ')}, the screen's mean age ${ages.map(ms).join(' → ')}.`,
      );
    },
  },
  {
    id: 'flaky-network',
    title: 'A flaky network: who resumes and who starts over',
    lesson:
      'Connections break. A stream or a poll that knows the last event it saw asks for what came after it ' +
      "(Last-Event-ID, a cursor, socket.io's recovery) and misses nothing; a blocking request that loses its " +
      'connection loses its answer, and the page has no task id to ask again with: it fails, or (when the ' +
      'browser silently re-sends the request on a new connection, as Chromium does for a reused one) the ' +
      'work starts over from the beginning.',
    expectation:
      "After every lane's connections are dropped mid-task, long polling, SSE and the websocket resume in order up to the task's last event and succeed; request/response either fails or starts the task over and finishes a whole task after the drop.",
    network: { custom: { latencyMs: 30, jitterMs: 10 } },
    steps: [
      {
        label: `6 s task, connections dropped at ${FLAKY_DROP_AT_MS / 1000} s`,
        spec: { durationMs: 6_000, steps: 12 },
        lanes: ['request-response', 'long-polling', 'sse', 'websocket'],
        laneSettings: {},
        faults: (['request-response', 'long-polling', 'sse', 'websocket'] as const).map((lane) => ({
          afterMs: FLAKY_DROP_AT_MS,
          fault: { kind: 'drop-connections' as const, lane },
        })),
      },
    ],
    check([step]) {
      const problems: string[] = [];
      const expected = step ? eventsOf(step.spec) : 0;
      for (const id of ['long-polling', 'sse', 'websocket'] as const) {
        const o = laneOf(step, id);
        if (o?.status !== 'succeeded') problems.push(`${name(id)} ended ${o?.status ?? 'without a status'}`);
        else if (o.lastSeq !== expected)
          problems.push(`${name(id)} reached event ${o.lastSeq} of ${expected}`);
      }
      const rr = laneOf(step, 'request-response');
      const drop = step?.spec ? FLAKY_DROP_AT_MS : 0;
      // Started over: the answer can only have come from a whole new task begun after the drop.
      const startedOver =
        rr?.status === 'succeeded' && (rr.totalPerceivedMs ?? 0) >= drop + (step?.spec.durationMs ?? 0);
      if (rr?.status === 'succeeded' && !startedOver)
        problems.push(
          `request/response got its answer after ${ms(rr.totalPerceivedMs)}, as if its connection had not been dropped`,
        );
      return notAll(
        problems,
        `the resuming lanes reached event ${expected} in order; request/response ` +
          (startedOver
            ? `started over: the browser re-sent the request on a new connection, and the answer came ${ms(rr?.totalPerceivedMs)} after Start, a whole task after the drop.`
            : `lost its answer (${rr?.status}).`),
      );
    },
  },
  {
    id: 'receiver-down',
    title: 'The receiver is down: webhooks retry, nothing is lost',
    lesson:
      'A webhook is a request the server makes to you. When your receiver is down the server keeps each ' +
      'event and tries again on a schedule (here honouring Retry-After), so the events arrive late but all ' +
      'arrive; the delivery log shows each refused attempt.',
    expectation:
      'With the receiver answering 503 to the first 3 deliveries, the webhook lane still shows every event and succeeds, and the log shows at least 3 failed attempts.',
    network: { preset: 'none' },
    steps: [
      {
        label: '3 s task, receiver down at first',
        spec: { durationMs: 3_000, steps: 3 },
        lanes: ['webhook', 'sse'],
        laneSettings: {},
        faults: [
          { afterMs: 0, fault: { kind: 'receiver', mode: 'unavailable-503', retryAfterS: 1, count: 3 } },
        ],
      },
    ],
    check([step]) {
      const wh = laneOf(step, 'webhook');
      const expected = step ? eventsOf(step.spec) : 0;
      const problems: string[] = [];
      if (wh?.status !== 'succeeded')
        problems.push(`the webhook lane ended ${wh?.status ?? 'without a status'}`);
      else if (wh.eventsApplied !== expected)
        problems.push(`the webhook lane showed ${wh.eventsApplied} of ${expected} events`);
      if ((wh?.failedDeliveries ?? 0) < 3)
        problems.push(`the delivery log shows ${wh?.failedDeliveries ?? 0} failed attempts`);
      return notAll(
        problems,
        `all ${expected} events arrived after ${wh?.failedDeliveries} refused attempts; total ${ms(wh?.totalPerceivedMs)} against SSE's ${ms(laneOf(step, 'sse')?.totalPerceivedMs)}.`,
      );
    },
  },
  {
    id: '3g-phone',
    title: 'A 3G phone: headers and round trips dominate',
    lesson:
      'On a slow mobile link each round trip costs seconds and every request carries its headers again. ' +
      'Lanes that ask often pay both over and over; a lane that opens one stream pays the round trip once.',
    expectation:
      'Under DevTools\' "3G" (2 s round trip, 400 kbps), no lane shows anything in under 2 s, and short polling finishes later than SSE.',
    network: { preset: '3g' },
    steps: [
      {
        label: '4 s task on 3G',
        spec: { durationMs: 4_000, steps: 4 },
        lanes: ['request-response', 'short-polling', 'sse', 'websocket'],
        laneSettings: { pollIntervalMs: 1_000 },
      },
    ],
    check([step]) {
      const problems: string[] = [];
      for (const id of ['request-response', 'short-polling', 'sse', 'websocket'] as const) {
        const o = laneOf(step, id);
        if ((o?.firstFeedbackMs ?? Infinity) < 2_000)
          problems.push(`${name(id)} showed something after ${ms(o?.firstFeedbackMs)}`);
      }
      const sp = laneOf(step, 'short-polling');
      const sse = laneOf(step, 'sse');
      if ((sp?.totalPerceivedMs ?? -Infinity) <= (sse?.totalPerceivedMs ?? Infinity))
        problems.push(
          `short polling finished in ${ms(sp?.totalPerceivedMs)}, SSE in ${ms(sse?.totalPerceivedMs)}`,
        );
      return notAll(
        problems,
        `first feedback took at least 2 s everywhere; short polling finished in ${ms(sp?.totalPerceivedMs)} against SSE's ${ms(sse?.totalPerceivedMs)}.`,
      );
    },
  },
  {
    id: 'buffering-proxy',
    title: 'A proxy that buffers: why SSE needs X-Accel-Buffering: no',
    lesson:
      'A reverse proxy that buffers answers (nginx does by default) holds an event stream until its buffer ' +
      'fills or the stream ends: the page sees nothing, then everything at once. The server says ' +
      '"X-Accel-Buffering: no" to turn that off; a websocket is not buffered this way. Watch the SSE card\'s ' +
      'progress bar stand still, then jump: the values it skipped were never on screen at all.',
    expectation:
      "With a buffering proxy in front of the streams, SSE's progress bar first moves at least 2 s after Start and shows at most 3 of the 20 steps, while the websocket shows at least 10, their median age on screen at most one step (250 ms) after the server made them.",
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
    check([step]) {
      const sse = laneOf(step, 'sse');
      const ws = laneOf(step, 'websocket');
      const problems: string[] = [];
      if (sse?.status !== 'succeeded') problems.push(`SSE ended ${sse?.status ?? 'without a status'}`);
      if ((sse?.firstProgressMs ?? Infinity) < 2_000)
        problems.push(`SSE's progress first moved after ${ms(sse?.firstProgressMs)}`);
      if ((sse?.progressUpdates ?? 0) > 3)
        problems.push(`SSE showed ${sse?.progressUpdates} progress updates`);
      // The websocket is judged by the age of the values it showed, not by when its bar first moved:
      // that also counts the socket's own connect (TCP, upgrade, socket.io connect, start ack: four
      // round trips, each waiting for the page's main thread), which no buffering proxy causes.
      const stepMs = step ? step.spec.durationMs / step.spec.steps : 0;
      if (ws?.status !== 'succeeded')
        problems.push(`the websocket ended ${ws?.status ?? 'without a status'}`);
      if ((ws?.progressUpdates ?? 0) < 10)
        problems.push(`the websocket showed ${ws?.progressUpdates ?? 0} progress updates`);
      if ((ws?.stalenessMedianMs ?? Infinity) > stepMs)
        problems.push(
          `the websocket's progress values were ${ms(ws?.stalenessMedianMs)} old on screen (median)`,
        );
      return notAll(
        problems,
        `SSE's progress first moved after ${ms(sse?.firstProgressMs)} and showed ${sse?.progressUpdates} updates; ` +
          `the websocket showed ${ws?.progressUpdates}, ${ms(ws?.stalenessMedianMs)} old on screen (median).`,
      );
    },
  },
];
