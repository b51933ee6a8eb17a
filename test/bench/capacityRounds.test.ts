import { describe, expect, it } from 'vitest';
import type { CapacityRow, Percentiles } from './capacity.ts';
import { capacityPlan, roundsTable, summariseRounds } from './capacityRounds.ts';

const p99 = (value: number): Percentiles => ({ count: 100, p50: value / 2, p99: value, max: value });

/** The figures a summary reads; the rest of a row does not enter it. */
function row(
  fields: Pick<CapacityRow, 'n' | 'round' | 'label'> & {
    lag?: number;
    lateness?: number;
    post?: number;
    connect?: number;
    cpu?: number;
    ratio?: number;
    failures?: number;
    dropped?: number;
  },
): CapacityRow {
  return {
    n: fields.n,
    round: fields.round,
    label: fields.label,
    side: fields.label === 'baseline' ? 'baseline' : 'project',
    lagMs: p99(fields.lag ?? 1),
    latenessMs: p99(fields.lateness ?? 1),
    postMs: p99(fields.post ?? 1),
    connectMs: p99(fields.connect ?? 1),
    cpuUsPerEvent: fields.cpu ?? 100,
    ...(fields.ratio === undefined ? {} : { cpuRatio: fields.ratio }),
    failures: fields.failures ?? 0,
    dropped: fields.dropped ?? 0,
  } as CapacityRow;
}

describe('capacityPlan', () => {
  it('runs round 1 of every N before round 2 of any, N ascending as given', () => {
    expect(capacityPlan([50, 200], 3)).toEqual([
      { n: 50, round: 1 },
      { n: 200, round: 1 },
      { n: 50, round: 2 },
      { n: 200, round: 2 },
      { n: 50, round: 3 },
      { n: 200, round: 3 },
    ]);
  });

  it('is one block per N when there is one round', () => {
    expect(capacityPlan([25, 50, 100], 1).map((b) => `${b.n}/${b.round}`)).toEqual(['25/1', '50/1', '100/1']);
  });
});

describe('summariseRounds', () => {
  it('gives each figure its median round, its range and how many rounds met the target', () => {
    const rows = [
      row({ n: 200, round: 1, label: 'sqlite', post: 1_300, lateness: 68, ratio: 2.34, cpu: 162 }),
      row({ n: 200, round: 2, label: 'sqlite', post: 141, lateness: 12.2, ratio: 2.08, cpu: 117 }),
      row({ n: 200, round: 3, label: 'sqlite', post: 90, lateness: 9, ratio: 1.85, cpu: 150, failures: 1 }),
    ];
    const [summary] = summariseRounds(rows);
    expect(summary).toMatchObject({ n: 200, label: 'sqlite', rounds: 3, failures: 1, dropped: 0 });
    expect(summary?.postP99Ms).toEqual({ median: 141, min: 90, max: 1_300, met: 1 });
    expect(summary?.latenessP99Ms).toEqual({ median: 12.2, min: 9, max: 68, met: 1 });
    expect(summary?.cpuRatio).toEqual({ median: 2.08, min: 1.85, max: 2.34, met: 1 });
    // CPU per event has no target of its own (the ratio has): no count of rounds that met one.
    expect(summary?.cpuUsPerEvent).toEqual({ median: 150, min: 117, max: 162 });
  });

  it('takes the lower middle of an even count, so that a verdict never rests on an average', () => {
    const rows = [40, 160, 60, 120].map((post, i) => row({ n: 100, round: i + 1, label: 'sqlite', post }));
    expect(summariseRounds(rows)[0]?.postP99Ms.median).toBe(60);
  });

  it('keeps N and server apart, in the order they first appear, and gives the baseline no ratio', () => {
    const rows = [
      row({ n: 50, round: 1, label: 'baseline' }),
      row({ n: 50, round: 1, label: 'sqlite', ratio: 2 }),
      row({ n: 200, round: 1, label: 'baseline' }),
      row({ n: 50, round: 2, label: 'sqlite', ratio: 3 }),
      row({ n: 50, round: 2, label: 'baseline' }),
    ];
    const summaries = summariseRounds(rows);
    expect(summaries.map((s) => `${s.n} ${s.label} ×${s.rounds}`)).toEqual([
      '50 baseline ×2',
      '50 sqlite ×2',
      '200 baseline ×1',
    ]);
    expect(summaries[0]?.cpuRatio).toBeUndefined();
    expect(summaries[1]?.cpuRatio).toEqual({ median: 2, min: 2, max: 3, met: 1 });
  });
});

describe('roundsTable', () => {
  it("marks a target by the median round's figure and says in how many rounds it held", () => {
    const rows = [
      row({ n: 200, round: 1, label: 'sqlite', post: 1_300, ratio: 2.3 }),
      row({ n: 200, round: 2, label: 'sqlite', post: 90, ratio: 1.9 }),
      row({ n: 200, round: 3, label: 'sqlite', post: 95, ratio: 2.1 }),
    ];
    const [header, , line] = roundsTable(summariseRounds(rows));
    expect(header).toContain('POST p99 ms (≤100)');
    expect(line).toContain('95.0 (90.0–1300) ✓ 2/3');
    expect(line).toContain('2.10× (1.90–2.30) ✗ 1/3');
  });
});
