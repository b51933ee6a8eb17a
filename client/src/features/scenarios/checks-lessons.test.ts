import type { Fault, WebhookAttack, WireReport } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import type { LaneOutcome, StepOutcome } from './checks.ts';
import {
  checkCancel,
  checkExpiringToken,
  checkForgedWebhook,
  checkHybrid,
  checkIdleTimeout,
  checkRetriedPost,
  type RetryTrial,
  type TokenTrial,
} from './checks-lessons.ts';
import { LESSON_SCENARIOS } from './lessons.ts';
import { REPLAYED_HEADER, runRetriedPost } from './probes.ts';

const stepWith = (retries: RetryTrial[]): StepOutcome => ({
  label: 'retries',
  spec: { durationMs: 500, steps: 1 },
  lanes: {},
  faults: [],
  probe: { retries },
});
const answered = (replayed = false): RetryTrial['answer'] => ({ status: 202, taskId: 't', replayed });

describe('a retried POST runs twice, unless it carries an Idempotency-Key', () => {
  const asTaught: RetryTrial[] = [
    { withKey: false, pageRequests: 2, serverRequests: 2, tasksCreated: 2, answer: answered() },
    { withKey: true, pageRequests: 2, serverRequests: 2, tasksCreated: 1, answer: answered(true) },
  ];

  it('passes when the bare retry creates a second task and the keyed one is replayed; says why with the counts', () => {
    const verdict = checkRetriedPost(stepWith(asTaught));
    expect(verdict.ok).toBe(true);
    expect(verdict.because).toContain('without a key the retried POST created 2 tasks');
    expect(verdict.why).toContain(
      'without a key: the page sent 2, the server received 2× and created 2 tasks',
    );
    expect(verdict.why).toContain('202 replayed from the key');
  });

  it('passes when the browser re-sent the POST by itself (one request from the page, two at the server), and says so', () => {
    const byBrowser = asTaught.map((t) => ({ ...t, pageRequests: 1 }));
    const verdict = checkRetriedPost(stepWith(byBrowser));
    expect(verdict.ok).toBe(true);
    expect(verdict.why).toContain('received 2× (1 re-sent by the browser itself) and created 1 task');
  });

  it('fails a server that ignores the key (the keyed retry creates a second task)', () => {
    const ignored = [
      asTaught[0] as RetryTrial,
      { ...(asTaught[1] as RetryTrial), tasksCreated: 2, answer: answered() },
    ];
    const verdict = checkRetriedPost(stepWith(ignored));
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain('with an Idempotency-Key the server created 2 tasks, not 1');
    expect(verdict.because).toContain('not answered from the stored first answer');
  });

  it('fails when no answer was lost (one POST arrived): then nothing was retried, whatever the task count', () => {
    const notLost = asTaught.map((t) => ({ ...t, pageRequests: 1, serverRequests: 1, tasksCreated: 1 }));
    const verdict = checkRetriedPost(stepWith(notLost));
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain('without a key, the server received the POST 1×: no answer was lost');
    expect(verdict.because).toContain('without a key the retry created 1 task in all');
  });

  it('fails a retry that got no answer either, and a step with no trials', () => {
    const lost = asTaught.map((t) => ({ ...t, answer: { error: 'Failed to fetch' } }));
    expect(checkRetriedPost(stepWith(lost)).because).toContain(
      'the retry got no answer either (Failed to fetch)',
    );
    expect(checkRetriedPost(stepWith([])).because).toContain('the trial without a key did not run');
  });

  it('is a scenario of one experiment step whose texts cite RFC 9110 and the Idempotency-Key draft', () => {
    const scenario = LESSON_SCENARIOS.find((s) => s.id === 'retried-post');
    expect(scenario?.steps.map((s) => s.probe)).toEqual(['retried-post']);
    expect(scenario?.sources.map((s) => s.url)).toEqual([
      'https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2',
      'https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/',
    ]);
    expect(scenario?.check([stepWith(asTaught)], {}).ok).toBe(true);
  });
});

describe('the retried-POST experiment', () => {
  /** A server that loses its first answer to each run, and creates a task per POST unless the key was seen. */
  function fakeServer() {
    const sent: Array<{ runId: string; key: string | null }> = [];
    const created = new Map<string, number>();
    const keys = new Set<string>();
    const faults: Fault[] = [];
    const fetch = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      const runId = headers.get('x-lab-run') ?? '';
      const key = headers.get('idempotency-key');
      sent.push({ runId, key });
      const replay = key !== null && keys.has(key);
      if (!replay) created.set(runId, (created.get(runId) ?? 0) + 1);
      if (key !== null) keys.add(key);
      if (sent.filter((s) => s.runId === runId).length === 1) throw new TypeError('Failed to fetch');
      const task = {
        id: `task-${runId}`,
        status: 'queued',
        seq: 1,
        progress: 0,
        spec: { durationMs: 500, steps: 1 },
      };
      return new Response(JSON.stringify({ task }), {
        status: 202,
        headers: replay ? { [REPLAYED_HEADER]: 'true' } : {},
      });
    }) as typeof globalThis.fetch;
    let n = 0;
    const deps = {
      fetch,
      injectFault: async (fault: Fault) => {
        faults.push(fault);
        return { summary: 'lost' };
      },
      wireReport: async (runId: string): Promise<WireReport> => ({
        runId,
        openStreams: 0,
        lanes: {
          'short-polling': {
            requests: sent.filter((s) => s.runId === runId).length,
            bytesUp: 0,
            bytesDown: 0,
            connectionsOpened: 1,
            openConnections: 0,
            maxOpenConnections: 1,
            serverToReceiver: { requests: 0, bytesUp: 0, bytesDown: 0 },
            receiverToPage: {
              requests: 0,
              bytesUp: 0,
              bytesDown: 0,
              connectionsOpened: 0,
              openConnections: 0,
              maxOpenConnections: 0,
            },
            tasksCreated: created.get(runId) ?? 0,
          },
        },
      }),
      newRunId: () => `run-000000${++n}`,
      newKey: () => 'key-1',
    };
    return { deps, sent, faults };
  }

  it('loses one answer per try, retries once with the same key, and reads the server’s count of each run', async () => {
    const { deps, sent, faults } = fakeServer();
    const { trials } = await runRetriedPost(deps, { durationMs: 500, steps: 1 });
    expect(faults).toEqual([
      { kind: 'lose-answers', runId: 'run-0000001', count: 1 },
      { kind: 'lose-answers', runId: 'run-0000002', count: 1 },
    ]);
    expect(sent.map((s) => s.key)).toEqual([null, null, 'key-1', 'key-1']);
    expect(trials).toEqual([
      {
        withKey: false,
        pageRequests: 2,
        serverRequests: 2,
        tasksCreated: 2,
        answer: expect.objectContaining({ status: 202, replayed: false }),
      },
      {
        withKey: true,
        pageRequests: 2,
        serverRequests: 2,
        tasksCreated: 1,
        answer: expect.objectContaining({ status: 202, replayed: true }),
      },
    ]);
    expect(checkRetriedPost(stepWith(trials)).ok).toBe(true);
  });
});

describe('a forged or replayed webhook is refused by signature, timestamp and webhook-id', () => {
  const race: StepOutcome = {
    label: 'race',
    spec: { durationMs: 2_000, steps: 2 },
    lanes: {
      webhook: { status: 'succeeded', requests: 2, eventsApplied: 5, lastSeq: 5, progressUpdates: 2 },
    },
    faults: [],
  };
  const attack = (over: Partial<Record<WebhookAttack['kind'], Partial<WebhookAttack>>> = {}): StepOutcome => {
    const refused = (message: string) => ({
      httpStatus: 401,
      code: 'WEBHOOK_SIGNATURE_INVALID',
      message,
      duplicate: false,
    });
    const attacks: WebhookAttack[] = [
      {
        kind: 'tampered-body',
        webhookId: 'msg_1',
        timestampS: 100,
        ...refused('Signature verification failed: No matching signature found.'),
        ...over['tampered-body'],
      },
      {
        kind: 'wrong-secret',
        webhookId: 'msg_a',
        timestampS: 100,
        ...refused('Signature verification failed: No matching signature found.'),
        ...over['wrong-secret'],
      },
      {
        kind: 'replayed',
        webhookId: 'msg_1',
        timestampS: 100,
        httpStatus: 200,
        duplicate: true,
        ...over.replayed,
      },
      {
        kind: 'stale-timestamp',
        webhookId: 'msg_b',
        timestampS: -260,
        ...refused('Signature verification failed: Message timestamp too old.'),
        ...over['stale-timestamp'],
      },
    ];
    return { label: 'attack', spec: race.spec, lanes: {}, faults: [], probe: { attacks } };
  };
  const scenario = LESSON_SCENARIOS.find((s) => s.id === 'forged-webhook');

  it('passes when the three forgeries get 401 and the replay is acknowledged by its id; says each answer', () => {
    const verdict = checkForgedWebhook(race, attack());
    expect(verdict.ok).toBe(true);
    expect(verdict.why).toContain(
      'a delivery signed 6 min ago: 401 (Signature verification failed: Message timestamp too old.)',
    );
    expect(verdict.why).toContain(
      're-sent as it was: 200, acknowledged as a duplicate of msg_1, not processed again',
    );
    expect(verdict.why).toContain('the webhook lane showed 5 of 5 events');
    expect(scenario?.check([race, attack()], {}).ok).toBe(true);
  });

  it('fails a receiver that does not verify signatures (the altered body and the made-up secret accepted)', () => {
    const verdict = checkForgedWebhook(
      race,
      attack({
        'tampered-body': { httpStatus: 200, code: undefined, message: undefined },
        'wrong-secret': { httpStatus: 200, code: undefined, message: undefined },
      }),
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain(
      'the body altered under the captured signature was answered 200, not refused (401)',
    );
  });

  it('fails a receiver without a timestamp tolerance, and one that refuses the stale copy for another reason', () => {
    expect(
      checkForgedWebhook(
        race,
        attack({ 'stale-timestamp': { httpStatus: 200, code: undefined, message: undefined } }),
      ).because,
    ).toContain('a delivery signed 6 min ago was answered 200');
    expect(
      checkForgedWebhook(race, attack({ 'stale-timestamp': { message: 'No matching signature found.' } }))
        .because,
    ).toContain('not for its timestamp');
  });

  it('fails a receiver that does not de-duplicate by webhook-id (the replay processed again)', () => {
    const verdict = checkForgedWebhook(race, attack({ replayed: { duplicate: false } }));
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain('not recognised by its webhook-id');
  });

  it('fails when the webhook lane lost an event, and cites the Standard Webhooks spec', () => {
    const short = {
      ...race,
      lanes: {
        webhook: {
          ...(race.lanes.webhook as NonNullable<StepOutcome['lanes']['webhook']>),
          eventsApplied: 4,
          lastSeq: 4,
        },
      },
    };
    expect(checkForgedWebhook(short, attack()).because).toContain('the webhook lane showed 4 of 5 events');
    expect(scenario?.sources.map((s) => s.url)).toEqual([
      'https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md',
    ]);
  });
});

describe('the hybrid: a quick task in its one request, a slow one handed to push', () => {
  const lane = (figures: Partial<LaneOutcome>): LaneOutcome => ({
    status: 'succeeded',
    requests: 1,
    eventsApplied: 0,
    lastSeq: 0,
    progressUpdates: 0,
    ...figures,
  });
  const quick = (hybrid: Partial<LaneOutcome> = {}): StepOutcome => ({
    label: 'quick',
    spec: { durationMs: 400, steps: 2 },
    lanes: {
      hybrid: lane({ path: 'answered', requests: 1, totalPerceivedMs: 520, lastSeq: 5, ...hybrid }),
      'request-response': lane({ totalPerceivedMs: 510, progressUpdates: 1 }),
    },
    faults: [],
  });
  const slow = (hybrid: Partial<LaneOutcome> = {}, rr: Partial<LaneOutcome> = {}): StepOutcome => ({
    label: 'slow',
    spec: { durationMs: 6_000, steps: 5 },
    lanes: {
      hybrid: lane({
        path: 'pushed',
        requests: 2,
        firstFeedbackMs: 2_080,
        progressUpdates: 4,
        lastSeq: 8,
        ...hybrid,
      }),
      'request-response': lane({ totalPerceivedMs: 6_100, progressUpdates: 1, ...rr }),
    },
    faults: [],
  });
  const scenario = LESSON_SCENARIOS.find((s) => s.id === 'hybrid');

  it('passes when the same lane takes both paths; says each path with its figures', () => {
    const verdict = checkHybrid(quick(), slow(), 2_000);
    expect(verdict.ok).toBe(true);
    expect(verdict.why).toContain('quick task: path answered, 1 request, answer after 520 ms');
    expect(verdict.why).toContain('slow task: path pushed, first answer (the 202) after 2 080 ms');
    expect(scenario?.check([quick(), slow({ firstFeedbackMs: 3_080 })], {}).ok).toBe(true);
    expect(scenario?.steps.map((s) => s.laneSettings)).toEqual([
      { hybridWaitS: 3, hybridPushLane: 'sse' },
      { hybridWaitS: 3, hybridPushLane: 'sse' },
    ]);
  });

  it('fails a server that ignores Prefer and answers every create 202 at once (no answered path)', () => {
    const verdict = checkHybrid(quick({ path: 'pushed', requests: 2 }), slow({ firstFeedbackMs: 70 }), 2_000);
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain('the quick task took the path "pushed", not answered');
    expect(verdict.because).toContain('the quick task took 2 requests, not 1');
    expect(verdict.because).toContain(
      "the slow task's first answer came after 70 ms, before the 2 000 ms wait ended",
    );
  });

  it('fails a server that holds every create to its end (a blocking call with extra steps)', () => {
    const verdict = checkHybrid(
      quick(),
      slow({ path: 'answered', requests: 1, firstFeedbackMs: 6_090, progressUpdates: 1 }),
      2_000,
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain('the slow task took the path "answered", not a 202 and push');
    expect(verdict.because).toContain('push did not carry the steps');
  });

  it('fails a slow task that stopped short of its last event', () => {
    expect(checkHybrid(quick(), slow({ lastSeq: 6 }), 2_000).because).toContain('reached event 6 of 8');
  });
});

describe('cancel reaches the task on every lane', () => {
  const LANE_IDS = ['request-response', 'short-polling', 'websocket'] as const;
  const taskAt = (status: 'cancelled' | 'succeeded', step: number) => ({
    id: 't',
    spec: { durationMs: 10_000, steps: 10 },
    status,
    step,
    steps: 10,
    percent: step * 10,
    lastSeq: step + 2,
    createdAt: 0,
  });
  const cancelled = (
    over: Partial<Record<(typeof LANE_IDS)[number], ReturnType<typeof taskAt>>> = {},
  ): StepOutcome => ({
    label: 'cancel',
    spec: { durationMs: 10_000, steps: 10 },
    lanes: Object.fromEntries(
      LANE_IDS.map((id) => [
        id,
        { status: 'cancelled', requests: 2, eventsApplied: 4, lastSeq: 4, progressUpdates: 2 },
      ]),
    ),
    faults: [],
    cancelledAtMs: 3_200,
    serverTasks: LANE_IDS.map((lane) => ({ lane, task: over[lane] ?? taskAt('cancelled', 3) })),
  });

  it('passes when every card and every task on the server says cancelled, stopped where Cancel found it', () => {
    const verdict = checkCancel(cancelled(), LANE_IDS);
    expect(verdict.ok).toBe(true);
    expect(verdict.why).toContain('Cancel at 3.2 s, when 3 of 10 steps were due');
    expect(verdict.why).toContain('request/response (its request aborted) cancelled at step 3 of 10');
    expect(verdict.why).toContain('the websocket (task:cancel) cancelled at step 3 of 10');
  });

  it('fails a lane that only stops listening: its task runs to the end on the server', () => {
    const verdict = checkCancel(cancelled({ 'short-polling': taskAt('succeeded', 10) }), LANE_IDS);
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain(
      "short polling's task is succeeded on the server (step 10 of 10): the cancel did not reach it",
    );
  });

  it('fails a cancel that arrived late (the task ran on), a task the server does not hold, and a missing list', () => {
    expect(checkCancel(cancelled({ websocket: taskAt('cancelled', 7) }), LANE_IDS).because).toContain(
      "the websocket's task ran to step 7, more than one past the 3 due",
    );
    const missing = {
      ...cancelled(),
      serverTasks: cancelled().serverTasks?.filter((t) => t.lane !== 'request-response'),
    };
    expect(checkCancel(missing, LANE_IDS).because).toContain('the server holds no task of request/response');
    const { serverTasks: _, ...unread } = cancelled();
    expect(checkCancel(unread, LANE_IDS).because).toContain(
      "the server's list of the run's tasks could not be read",
    );
  });
});

describe("a proxy's idle timeout: the heartbeat keeps SSE, the held long poll is cut", () => {
  const lane = (figures: Partial<LaneOutcome>): LaneOutcome => ({
    status: 'succeeded',
    requests: 2,
    eventsApplied: 4,
    lastSeq: 4,
    progressUpdates: 1,
    ...figures,
  });
  const behindProxy = (sse: Partial<LaneOutcome> = {}, lp: Partial<LaneOutcome> = {}): StepOutcome => ({
    label: 'quiet',
    spec: { durationMs: 22_000, steps: 1 },
    lanes: {
      sse: lane({ reconnects: 0, ...sse }),
      'long-polling': lane({ requests: 4, pollErrors: 1, ...lp }),
    },
    faults: [],
  });
  const scenario = LESSON_SCENARIOS.find((s) => s.id === 'idle-timeout');

  it('passes when SSE keeps its stream and long polling is cut and resumes; says the timeout and the heartbeat', () => {
    const verdict = checkIdleTimeout(behindProxy(), 16_000, 15_000);
    expect(verdict.ok).toBe(true);
    expect(verdict.why).toContain(
      'proxy idle timeout 16 000 ms, SSE heartbeat every 15 000 ms; SSE reconnected 0×',
    );
    expect(verdict.why).toContain('long polling: 1 polls failed and asked again by the page, 0 re-sent');
    expect(scenario?.check([behindProxy()], {}).ok).toBe(true);
    expect(scenario?.sources.map((s) => s.url)).toEqual([
      'https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_read_timeout',
      'https://html.spec.whatwg.org/multipage/server-sent-events.html#authoring-notes',
    ]);
  });

  it('fails a heartbeat slower than the timeout: the stream is cut (it reconnects)', () => {
    const verdict = checkIdleTimeout(behindProxy({ reconnects: 1, requests: 3 }), 16_000, 30_000);
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain('the heartbeat (every 30 000 ms) is not more often than');
    expect(verdict.because).toContain("SSE's stream was cut: it reconnected 1×");
  });

  it('counts a held poll that Chromium re-sent by itself (the server saw one more request than the page sent)', () => {
    const verdict = checkIdleTimeout(
      behindProxy({}, { pollErrors: 0, requests: 3, serverRequests: 4 }),
      16_000,
      15_000,
    );
    expect(verdict.ok).toBe(true);
    expect(verdict.why).toContain('1 re-sent by the browser itself (page 3 requests, server 4)');
  });

  it('fails when no proxy timeout acted (the held poll was never cut), and a lane that lost the end', () => {
    expect(
      checkIdleTimeout(behindProxy({}, { pollErrors: 0, serverRequests: 4 }), 16_000, 15_000).because,
    ).toContain('long polling was never cut');
    expect(checkIdleTimeout(behindProxy({ lastSeq: 3 }), 16_000, 15_000).because).toContain(
      'SSE reached event 3 of 4',
    );
  });
});

describe('a token that expires during a long-lived stream', () => {
  const trial = (over: Partial<TokenTrial> = {}): StepOutcome => ({
    label: 'token',
    spec: { durationMs: 8_000, steps: 4 },
    lanes: {},
    faults: [],
    probe: {
      token: {
        ttlMs: 3_000,
        firstStreamEndedMs: 3_040,
        reconnectRefused: true,
        streamsOpened: 2,
        seqs: [1, 2, 3, 4, 5, 6, 7],
        expectedEvents: 7,
        terminal: 'succeeded',
        serverStreamRequests: 3,
        ...over,
      },
    },
  });
  const scenario = LESSON_SCENARIOS.find((s) => s.id === 'expiring-token');

  it('passes when the stream ends at expiry, the reconnection is refused and a fresh token resumes; says why', () => {
    const verdict = checkExpiringToken(trial());
    expect(verdict.ok).toBe(true);
    expect(verdict.why).toContain('first stream ended 3 040 ms after it was issued');
    expect(verdict.why).toContain('refused (401, EventSource closed)');
    expect(scenario?.check([trial()], {}).ok).toBe(true);
    expect(scenario?.sources.map((s) => s.url)).toContain(
      'https://www.rfc-editor.org/rfc/rfc6750#section-3.1',
    );
  });

  it('fails a server that checks the token only when the stream opens (the stream outlives it)', () => {
    const verdict = checkExpiringToken(
      trial({
        firstStreamEndedMs: undefined,
        reconnectRefused: false,
        streamsOpened: 1,
        serverStreamRequests: 1,
      }),
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.because).toContain('it outlived its token');
    expect(verdict.because).toContain('was not refused');
  });

  it('fails a page that does not refresh (the events stop), and one that resumes from the start (repeats)', () => {
    expect(
      checkExpiringToken(trial({ seqs: [1, 2, 3, 4], terminal: undefined, serverStreamRequests: 2 })).because,
    ).toContain('not 1 to 7 once each in order');
    expect(checkExpiringToken(trial({ seqs: [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7] })).because).toContain(
      'not 1 to 7 once each in order',
    );
  });
});
