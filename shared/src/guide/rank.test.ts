import { describe, expect, it } from 'vitest';
import { LANE_IDS, type LaneId } from '../protocol/lanes.ts';
import { type GuideAnswers, GuideAnswersError, parseGuideAnswers } from './answers.ts';
import { type Fit, rankLanes } from './rank.ts';
import type { SafeguardId } from './safeguards.ts';

/** A browser page, one person waiting up to 1 s for something, nothing in the way. */
const BASE: GuideAnswers = {
  typicalMs: 2_000,
  worstMs: 4_000,
  feedbackWithinMs: 1_000,
  runsPerHour: 4,
  consumers: ['browser'],
  progressMatters: false,
  between: [],
  concurrentClients: 100,
  offlineForHours: false,
};

interface Case {
  name: string;
  answers: Partial<GuideAnswers>;
  /** The first lane of the ranking. */
  top?: LaneId;
  /** The first lane is one of these (where two are equally right). */
  topOneOf?: LaneId[];
  /** Exactly these lanes fit; every other is workable or unsuitable. */
  onlyFits?: LaneId[];
  fit?: Partial<Record<LaneId, Fit>>;
  /** The plan's lanes, in order, and its kind. */
  plan?: { kind: 'single' | 'combination' | 'none'; lanes: LaneId[] };
  mustBuild?: Partial<Record<LaneId, SafeguardId[]>>;
  /** A failure mode of this lane contains this text. */
  failureMode?: { lane: LaneId; contains: string };
  /** No reason of this lane contains this text (a rule that must not apply). */
  noReason?: { lane: LaneId; contains: string };
}

const NON_WEBHOOK = LANE_IDS.filter((id) => id !== 'webhook');

const CASES: Case[] = [
  {
    name: 'a 50 ms lookup a person waits on: the blocking call is right',
    answers: { typicalMs: 50, worstMs: 200 },
    top: 'request-response',
    fit: { 'request-response': 'fits' },
    plan: { kind: 'single', lanes: ['request-response'] },
  },
  {
    name: 'a 300 ms call between two servers: the blocking call is right',
    answers: {
      typicalMs: 150,
      worstMs: 300,
      consumers: ['server'],
      feedbackWithinMs: undefined,
      runsPerHour: 3_600,
    },
    top: 'request-response',
    plan: { kind: 'single', lanes: ['request-response'] },
  },
  {
    name: 'a 2 s save, nobody needs progress, 5 s allowed: the blocking call is right',
    answers: { typicalMs: 800, worstMs: 2_000, feedbackWithinMs: 5_000 },
    top: 'request-response',
  },
  {
    name: 'nobody waits, 5 s, no progress: a blocking call still serves, under 10 s',
    answers: { typicalMs: 3_000, worstMs: 5_000, feedbackWithinMs: undefined },
    top: 'request-response',
  },
  {
    name: 'a quick call behind serverless: the blocking call is right, held lanes are ruled out',
    answers: { typicalMs: 100, worstMs: 400, between: ['serverless'] },
    top: 'request-response',
    fit: {
      sse: 'unsuitable',
      websocket: 'unsuitable',
      'long-polling': 'unsuitable',
      'http-streaming': 'unsuitable',
    },
  },
  {
    name: 'a 20 s report with progress in a browser: a push lane, never the blocking call',
    answers: { typicalMs: 20_000, worstMs: 25_000, progressMatters: true },
    topOneOf: ['sse', 'websocket'],
    fit: { 'request-response': 'unsuitable' },
    mustBuild: { sse: ['resume-cursors', 'heartbeats', 'idempotency-keys'] },
  },
  {
    name: 'the same behind a proxy that buffers: the streams only workable, buffering off to build',
    answers: { typicalMs: 20_000, worstMs: 25_000, progressMatters: true, between: ['buffering-proxy'] },
    topOneOf: ['websocket', 'long-polling'],
    fit: { sse: 'workable', 'http-streaming': 'workable' },
    mustBuild: { sse: ['no-buffering'] },
    failureMode: { lane: 'sse', contains: 'at once at the end' },
  },
  {
    name: 'the same behind a firewall that strips upgrades: the websocket only workable, SSE first',
    answers: { typicalMs: 20_000, worstMs: 25_000, progressMatters: true, between: ['firewall'] },
    top: 'sse',
    fit: { websocket: 'workable' },
  },
  {
    name: 'progress in a browser, served by serverless: short polling, every held lane ruled out',
    answers: { typicalMs: 20_000, worstMs: 40_000, progressMatters: true, between: ['serverless'] },
    top: 'short-polling',
    fit: {
      'long-polling': 'unsuitable',
      sse: 'unsuitable',
      'http-streaming': 'unsuitable',
      websocket: 'unsuitable',
      hybrid: 'unsuitable',
      'request-response': 'unsuitable',
    },
  },
  {
    name: 'server to server, a 10 min job: only a webhook fits',
    answers: { typicalMs: 300_000, worstMs: 600_000, consumers: ['server'], feedbackWithinMs: undefined },
    top: 'webhook',
    onlyFits: ['webhook'],
    fit: { 'request-response': 'unsuitable' },
    mustBuild: { webhook: ['signatures-and-retries', 'idempotency-keys', 'reconciliation'] },
  },
  {
    name: 'server to server on serverless, 5 min: only a webhook can serve',
    answers: {
      typicalMs: 60_000,
      worstMs: 300_000,
      consumers: ['server'],
      feedbackWithinMs: undefined,
      between: ['serverless'],
    },
    top: 'webhook',
    onlyFits: ['webhook'],
    fit: {
      sse: 'unsuitable',
      websocket: 'unsuitable',
      'long-polling': 'unsuitable',
      'request-response': 'unsuitable',
    },
  },
  {
    name: 'a browser offline for hours, a 2 h job: only a webhook can serve',
    answers: { typicalMs: 3_600_000, worstMs: 7_200_000, offlineForHours: true, feedbackWithinMs: undefined },
    top: 'webhook',
    onlyFits: ['webhook'],
    fit: Object.fromEntries(NON_WEBHOOK.map((id) => [id, 'unsuitable'])),
    plan: { kind: 'single', lanes: ['webhook'] },
  },
  {
    name: 'a mobile app offline for hours, even for a 1 s task: only a webhook can serve',
    answers: { typicalMs: 500, worstMs: 1_000, consumers: ['mobile-app'], offlineForHours: true },
    top: 'webhook',
    onlyFits: ['webhook'],
    fit: Object.fromEntries(NON_WEBHOOK.map((id) => [id, 'unsuitable'])),
  },
  {
    name: 'server to server behind a firewall nothing calls into: the webhook is ruled out, polling first',
    answers: {
      typicalMs: 300_000,
      worstMs: 600_000,
      consumers: ['server'],
      feedbackWithinMs: undefined,
      between: ['firewall'],
    },
    top: 'short-polling',
    fit: { webhook: 'unsuitable' },
  },
  {
    name: 'offline for hours behind a firewall nothing calls into: nothing serves, and the plan says so',
    answers: {
      typicalMs: 600_000,
      worstMs: 600_000,
      consumers: ['server'],
      feedbackWithinMs: undefined,
      between: ['firewall'],
      offlineForHours: true,
    },
    plan: { kind: 'none', lanes: [] },
    fit: Object.fromEntries(LANE_IDS.map((id) => [id, 'unsuitable'])),
  },
  {
    name: 'mixed, server to server: typically 200 ms, at worst 5 min → a quick blocking path plus a webhook',
    answers: { typicalMs: 200, worstMs: 300_000, consumers: ['server'], feedbackWithinMs: 1_000 },
    plan: { kind: 'combination', lanes: ['request-response', 'webhook'] },
    fit: { 'request-response': 'workable' },
  },
  {
    name: 'mixed, in a browser: typically 300 ms, at worst 60 s, progress → the hybrid',
    answers: { typicalMs: 300, worstMs: 60_000, progressMatters: true },
    top: 'hybrid',
    plan: { kind: 'single', lanes: ['hybrid'] },
  },
  {
    name: 'browsers and a partner’s server, 30 s with progress: a push lane for screens plus a webhook',
    answers: { typicalMs: 30_000, worstMs: 45_000, progressMatters: true, consumers: ['browser', 'server'] },
    plan: { kind: 'combination', lanes: ['sse', 'webhook'] },
  },
  {
    name: 'ten runs a minute per client, 3 s each with progress: the websocket, one connection for all',
    answers: { typicalMs: 3_000, worstMs: 5_000, progressMatters: true, runsPerHour: 600 },
    top: 'websocket',
  },
  {
    name: 'a million clients polling a 60 s task each hour: polling loads, back-pressure on every held lane',
    answers: {
      typicalMs: 60_000,
      worstMs: 90_000,
      progressMatters: true,
      concurrentClients: 1_000_000,
      runsPerHour: 1,
      feedbackWithinMs: 2_000,
    },
    topOneOf: ['sse', 'websocket'],
    mustBuild: {
      sse: ['back-pressure'],
      websocket: ['back-pressure'],
      'long-polling': ['back-pressure'],
      'short-polling': ['back-pressure'],
    },
    failureMode: { lane: 'short-polling', contains: 'polls themselves become the load' },
  },
  {
    name: 'a worst case of 45 s between servers behind a firewall: the blocking call is cut, polling first',
    answers: {
      typicalMs: 40_000,
      worstMs: 45_000,
      consumers: ['server'],
      feedbackWithinMs: undefined,
      between: ['firewall'],
    },
    top: 'short-polling',
    fit: { 'request-response': 'unsuitable' },
    failureMode: { lane: 'request-response', contains: '504' },
  },
  {
    name: 'ten tasks at once in one browser: the streams meet HTTP/1.1’s six connections',
    answers: { typicalMs: 36_000, worstMs: 40_000, progressMatters: true, runsPerHour: 1_000 },
    top: 'websocket',
    failureMode: { lane: 'sse', contains: 'seventh stream waits' },
  },
  {
    name: 'a mobile app, a 2 min upload with progress: held lanes lose their connection in the background',
    answers: {
      typicalMs: 120_000,
      worstMs: 180_000,
      progressMatters: true,
      consumers: ['mobile-app'],
      feedbackWithinMs: 2_000,
    },
    fit: { 'request-response': 'unsuitable' },
    failureMode: { lane: 'websocket', contains: 'backgrounded' },
    mustBuild: { websocket: ['reconnect-with-jitter', 'resume-cursors'] },
    noReason: { lane: 'sse', contains: 'built into browsers' },
  },
];

describe('rankLanes: the decision guide’s ranking, one case per line of the table', () => {
  it.each(CASES)('$name', (c) => {
    const result = rankLanes({ ...BASE, ...c.answers });
    const fitOf = (id: LaneId) => result.ranked.find((r) => r.lane === id)?.fit;
    if (c.top) expect(result.ranked[0]?.lane).toBe(c.top);
    if (c.topOneOf) expect(c.topOneOf).toContain(result.ranked[0]?.lane);
    if (c.onlyFits)
      expect(result.ranked.filter((r) => r.fit === 'fits').map((r) => r.lane)).toEqual(c.onlyFits);
    for (const [id, fit] of Object.entries(c.fit ?? {})) expect([id, fitOf(id as LaneId)]).toEqual([id, fit]);
    if (c.plan) {
      expect(result.plan.kind).toBe(c.plan.kind);
      expect(result.plan.parts.map((p) => p.lane)).toEqual(c.plan.lanes);
    }
    for (const [id, safeguards] of Object.entries(c.mustBuild ?? {})) {
      const lane = result.ranked.find((r) => r.lane === id);
      expect(lane?.mustBuild).toEqual(expect.arrayContaining(safeguards as SafeguardId[]));
    }
    if (c.failureMode) {
      const { lane, contains } = c.failureMode;
      const modes = result.ranked.find((r) => r.lane === lane)?.failureModes ?? [];
      expect(
        modes.some((m) => m.includes(contains)),
        modes.join(' / '),
      ).toBe(true);
    }
  });

  it('has at least 20 cases, including blocking-call-right and webhook-only ones', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
    expect(CASES.filter((c) => c.top === 'request-response').length).toBeGreaterThanOrEqual(3);
    expect(CASES.filter((c) => c.onlyFits?.join() === 'webhook').length).toBeGreaterThanOrEqual(3);
  });

  it.each(CASES)('ranks every lane of LANE_IDS once, fit before workable before unsuitable: $name', (c) => {
    const { ranked } = rankLanes({ ...BASE, ...c.answers });
    expect(ranked.map((r) => r.lane).sort()).toEqual([...LANE_IDS].sort());
    const order = { fits: 0, workable: 1, unsuitable: 2 } as const;
    for (const [k, r] of ranked.entries()) {
      const next = ranked[k + 1];
      if (!next) continue;
      expect(order[r.fit] < order[next.fit] || (r.fit === next.fit && r.score >= next.score)).toBe(true);
    }
    // Every lane says why, how it fails and what to build.
    for (const r of ranked) {
      expect(r.failureModes.length).toBeGreaterThan(0);
      expect(r.mustBuild.length).toBeGreaterThan(0);
    }
  });

  it('gives each unsuitable lane a reason against it, and the plan only lanes that can serve', () => {
    for (const c of CASES) {
      const { ranked, plan } = rankLanes({ ...BASE, ...c.answers });
      for (const r of ranked.filter((x) => x.fit === 'unsuitable'))
        expect(r.reasons.some((reason) => reason.weight < 0)).toBe(true);
      for (const part of plan.parts)
        expect(ranked.find((r) => r.lane === part.lane)?.fit).not.toBe('unsuitable');
    }
  });
});

describe('GuideAnswers: bad answers get a clear error naming the field', () => {
  const errorOf = (input: unknown) => {
    try {
      parseGuideAnswers(input);
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it.each([
    ['a worst case shorter than the typical', { ...BASE, typicalMs: 5_000, worstMs: 1_000 }, 'worstMs'],
    ['no consumer', { ...BASE, consumers: [] }, 'consumers: choose at least one consumer'],
    ['a negative duration', { ...BASE, typicalMs: -1 }, 'typicalMs'],
    ['a consumer the guide does not know', { ...BASE, consumers: ['fax'] }, 'consumers.0'],
    ['a field the guide does not know', { ...BASE, colour: 'blue' }, 'colour'],
    [
      'the same middlebox twice',
      { ...BASE, between: ['firewall', 'firewall'] },
      'between: name each choice once',
    ],
    ['no clients', { ...BASE, concurrentClients: 0 }, 'concurrentClients'],
  ])('refuses %s', (_name, input, names) => {
    const error = errorOf(input);
    expect(error).toBeInstanceOf(GuideAnswersError);
    expect((error as Error).message).toContain(names);
    expect((error as Error).message).toMatch(/^The answers do not fit: /);
  });

  it('rankLanes refuses the same input with the same error', () => {
    expect(() => rankLanes({ ...BASE, worstMs: 1 })).toThrow(/worstMs: the worst case cannot be shorter/);
  });
});
