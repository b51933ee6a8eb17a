import { describe, expect, it } from 'vitest';
import type { GuideAnswers } from './answers.ts';
import { compareWithMeasurement, type MeasuredLane, type ProofRace } from './prove.ts';
import { rankLanes } from './rank.ts';
import { decisionRecordMarkdown } from './record.ts';

const ANSWERS: GuideAnswers = {
  typicalMs: 4_000,
  worstMs: 6_000,
  feedbackWithinMs: 1_000,
  runsPerHour: 4,
  consumers: ['browser'],
  progressMatters: true,
  between: [],
  concurrentClients: 100,
  offlineForHours: false,
};

const lane = (over: Partial<MeasuredLane> & Pick<MeasuredLane, 'lane'>): MeasuredLane => ({
  status: 'succeeded',
  firstFeedbackMs: 120,
  totalPerceivedMs: 4_150,
  stalenessMeanMs: 90,
  progressUpdates: 8,
  requests: 2,
  bytesDown: 3_000,
  bytesUp: 400,
  ...over,
});

/** A 4 s race in 8 steps on Fast 4G, as the rule of thumb expects it. */
const RACE: ProofRace = {
  durationMs: 4_000,
  steps: 8,
  network: 'Fast 4G',
  lanes: [
    lane({
      lane: 'request-response',
      firstFeedbackMs: 4_080,
      totalPerceivedMs: 4_080,
      stalenessMeanMs: undefined,
      progressUpdates: 0,
      requests: 1,
    }),
    lane({ lane: 'short-polling', stalenessMeanMs: 520, progressUpdates: 4, requests: 6 }),
    lane({ lane: 'sse', stalenessMeanMs: 40 }),
    lane({ lane: 'websocket', stalenessMeanMs: 45, requests: 1 }),
  ],
};

describe('compareWithMeasurement: where the race agrees with the rules of thumb', () => {
  const result = rankLanes(ANSWERS);

  it('agrees everywhere when the race goes as the rules say', () => {
    const findings = compareWithMeasurement(result, RACE);
    expect(findings.length).toBeGreaterThanOrEqual(8);
    expect(findings.filter((f) => !f.agrees)).toEqual([]);
  });

  it('says so when a push lane shows hardly any progress (a buffered stream)', () => {
    const race = {
      ...RACE,
      lanes: RACE.lanes.map((l) =>
        l.lane === 'sse' ? { ...l, progressUpdates: 1, stalenessMeanMs: 3_900 } : l,
      ),
    };
    const against = compareWithMeasurement(result, race).filter((f) => !f.agrees);
    expect(against.map((f) => f.measured)).toContain('1 of 8 updates shown.');
    // And the ranking's pick among the raced lanes (SSE) was not the best on delay per update.
    expect(against.some((f) => f.lanes.includes('sse') && f.measured.includes('was best'))).toBe(true);
  });

  it('says so when the blocking call answers within the time asked although the rule said it could not', () => {
    const quick = { ...RACE, durationMs: 4_000 };
    const answers = { ...ANSWERS, feedbackWithinMs: 5_000 };
    const findings = compareWithMeasurement(rankLanes(answers), quick);
    const rr = findings.find((f) => f.lanes[0] === 'request-response' && f.claim.includes('within'));
    expect(rr?.agrees).toBe(true);
    const slow = compareWithMeasurement(rankLanes(answers), {
      ...quick,
      lanes: [lane({ lane: 'request-response', firstFeedbackMs: 6_200, progressUpdates: 0 })],
    });
    expect(slow.find((f) => f.claim.includes('within'))?.agrees).toBe(false);
  });

  it('says so when a lane the guide expected to serve did not finish, and not when it was ruled out', () => {
    const failed = { ...RACE, lanes: [...RACE.lanes, lane({ lane: 'long-polling', status: 'error' })] };
    const finding = compareWithMeasurement(result, failed).find((f) => f.measured === 'It ended error.');
    expect(finding?.agrees).toBe(false);
    const serverless = rankLanes({ ...ANSWERS, between: ['serverless'] });
    const ruledOut = compareWithMeasurement(serverless, failed).find((f) => f.measured === 'It ended error.');
    expect(ruledOut?.agrees).toBe(true);
  });

  it('says so when short polling sent fewer requests than a stream', () => {
    const withPolls = (requests: number) => ({
      ...RACE,
      lanes: RACE.lanes.map((l) => (l.lane === 'short-polling' ? { ...l, requests } : l)),
    });
    const claim = (race: ProofRace) =>
      compareWithMeasurement(result, race).find((x) => x.claim.startsWith('Short polling sends at least'));
    expect(claim(withPolls(1))?.agrees).toBe(false);
    expect(claim(withPolls(1))?.measured).toContain('Short polling 1');
    expect(claim(withPolls(2))?.agrees).toBe(true);
  });

  it('expects polling to show no more steps than the push lanes', () => {
    const withShown = (progressUpdates: number) => ({
      ...RACE,
      lanes: RACE.lanes.map((l) => (l.lane === 'short-polling' ? { ...l, progressUpdates } : l)),
    });
    const claim = (race: ProofRace) =>
      compareWithMeasurement(result, race).find((f) => f.claim.startsWith('Short polling shows no more'));
    expect(claim(withShown(8))?.agrees).toBe(true);
    expect(claim(withShown(9))?.agrees).toBe(false);
  });

  it('expects no progress from a quick task answered in the request by a lane that waits then pushes', () => {
    const quick: ProofRace = {
      durationMs: 300,
      steps: 3,
      network: 'Slow 4G',
      waitMs: 1_000,
      lanes: [lane({ lane: 'hybrid', progressUpdates: 0, path: 'answered' })],
    };
    const claim = compareWithMeasurement(result, quick).find((f) =>
      f.claim.startsWith('Hybrid shows no progress'),
    );
    expect(claim?.agrees).toBe(true);
  });

  it('claims no "most steps shown" when steps come faster than a screen tells apart (under 100 ms)', () => {
    const fast = { ...RACE, durationMs: 400, steps: 8 };
    expect(compareWithMeasurement(result, fast).filter((f) => f.claim.includes('at least half'))).toEqual([]);
    expect(
      compareWithMeasurement(result, RACE).filter((f) => f.claim.includes('at least half')),
    ).toHaveLength(2);
  });
});

describe('compareWithMeasurement: the quick path of a lane that waits then pushes', () => {
  const mixed = rankLanes({ ...ANSWERS, typicalMs: 300, worstMs: 60_000 });
  const race = (durationMs: number, path: 'answered' | 'pushed'): ProofRace => ({
    durationMs,
    steps: 5,
    network: 'Fast 4G',
    waitMs: 1_000,
    lanes: [lane({ lane: 'hybrid', path })],
  });
  const claimOf = (r: ProofRace) =>
    compareWithMeasurement(mixed, r).find(
      (f) => f.lanes[0] === 'hybrid' && /in the request itself|to its push lane/.test(f.claim),
    );

  it('expects the answer in the request when the task ends within the wait, and a push past it', () => {
    expect(claimOf(race(300, 'answered'))?.agrees).toBe(true);
    expect(claimOf(race(4_000, 'pushed'))?.agrees).toBe(true);
  });

  it('says so when the quick path did not answer in time', () => {
    const finding = claimOf(race(300, 'pushed'));
    expect(finding?.agrees).toBe(false);
    expect(finding?.measured).toBe('It answered 202 and pushed.');
  });

  it('expects its first feedback at the end or at its wait, whichever is sooner', () => {
    const within = (feedbackWithinMs: number) =>
      compareWithMeasurement(rankLanes({ ...ANSWERS, typicalMs: 300, worstMs: 60_000, feedbackWithinMs }), {
        ...race(4_000, 'pushed'),
        lanes: [lane({ lane: 'hybrid', path: 'pushed', firstFeedbackMs: 1_100 })],
      }).find((f) => f.claim.includes('something within'));
    expect(within(1_500)?.claim).toContain(
      'Hybrid shows something within 1,500 ms (its first thing comes at 1,000 ms',
    );
    expect(within(1_500)?.agrees).toBe(true);
    expect(within(500)?.claim).toContain('Hybrid cannot show something within 500 ms');
    expect(within(500)?.agrees).toBe(true);
  });

  it('makes no claim for a task that ends within half a second of the wait', () => {
    expect(claimOf(race(1_200, 'pushed'))).toBe(undefined);
  });
});

describe('decisionRecordMarkdown: one page with the answers, the decision and the measured figures', () => {
  const result = rankLanes(ANSWERS);

  it('carries the answers, the plan, what to build and every measured figure of the race', () => {
    const md = decisionRecordMarkdown({
      result,
      madeAt: '2026-12-05T22:00:00.000Z',
      proof: { race: RACE, findings: compareWithMeasurement(result, RACE), runId: 'r123' },
    });
    expect(md).toMatch(/^# Decision record/);
    expect(md).toContain('| typical duration | 4,000 ms |');
    expect(md).toContain('## Decision');
    expect(md).toContain('## What we must build');
    expect(md).toContain('**Resume cursors**');
    expect(md).toContain('on Fast 4G (run r123)');
    expect(md).toContain(
      '| Request/response | succeeded | 4,080 ms | 4,080 ms | — | 0 | 1 | 3,000 B | 400 B |',
    );
    expect(md).toContain('| Short polling | succeeded | 120 ms | 4,150 ms | 520 ms | 4 | 6 |');
    expect(md).toContain('### Where the measurement disagrees with the rule of thumb (0 of');
  });

  it('says when "Prove it" has not run', () => {
    const md = decisionRecordMarkdown({ result, madeAt: '2026-12-05T22:00:00.000Z' });
    expect(md).toContain('Not run: these figures are rules of thumb');
    expect(md).not.toContain('| lane | status |');
  });
});
