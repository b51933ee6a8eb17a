// Rounds of the capacity part (`--capacity-rounds K`): the same N measured K times, the servers'
// order alternating, the rounds interleaved in time (round 1 of every N, then round 2, …). On a shared
// 2-core host one block of 200 phones is one sample of the machine's state: the same code measured
// 117 and 175 µs/event, and POST p99 0.14 and 1.39 s, five minutes apart (docs/benchmarks.md,
// 2026-12-06 11:21–11:36). A verdict is then the median round's, with the spread and how many rounds
// met each target beside it.
import { nearestRank } from '@transport-lab/shared';
import { CAPACITY_TARGETS, type CapacityRow, ms, type Percentiles } from './capacity.ts';
import { textTable } from './textTable.ts';

/** One figure over the rounds: its median (nearest rank, the lower middle of an even count), its
 *  range, and in how many rounds it met its target (undefined where it has none). */
export interface RoundFigure {
  median: number;
  min: number;
  max: number;
  met?: number;
}

export interface RoundsSummary {
  n: number;
  label: string;
  rounds: number;
  lagP99Ms: RoundFigure;
  latenessP99Ms: RoundFigure;
  postP99Ms: RoundFigure;
  connectP99Ms: RoundFigure;
  cpuUsPerEvent: RoundFigure;
  /** Project ÷ baseline of the same round (project rows only). */
  cpuRatio?: RoundFigure;
  /** Summed over the rounds. */
  failures: number;
  dropped: number;
}

function figure(values: number[], limit?: number): RoundFigure {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return {
    // Nearest rank: the lower middle of an even count, a round that was measured, never an average.
    median: nearestRank(sorted, 50),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    ...(limit === undefined ? {} : { met: values.filter((v) => v <= limit).length }),
  };
}

/** The blocks' order: round 1 of every N (ascending), then round 2, …, so that a slow spell of the
 *  shared machine touches one round of each N rather than every round of one. */
export function capacityPlan(ns: readonly number[], rounds: number): Array<{ n: number; round: number }> {
  return Array.from({ length: rounds }, (_, r) => ns.map((n) => ({ n, round: r + 1 }))).flat();
}

/** Per N and server, in the order the rows first appear. */
export function summariseRounds(
  rows: readonly CapacityRow[],
  targets: typeof CAPACITY_TARGETS = CAPACITY_TARGETS,
): RoundsSummary[] {
  const groups = new Map<string, CapacityRow[]>();
  for (const row of rows) {
    const key = `${row.n} ${row.label}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as CapacityRow;
    const ratios = group.flatMap((r) => (r.cpuRatio === undefined ? [] : [r.cpuRatio]));
    const p99 = (of: (row: CapacityRow) => Percentiles, limit: number) =>
      figure(
        group.map((r) => of(r).p99),
        limit,
      );
    return {
      n: first.n,
      label: first.label,
      rounds: group.length,
      lagP99Ms: p99((r) => r.lagMs, targets.lagP99Ms),
      latenessP99Ms: p99((r) => r.latenessMs, targets.latenessP99Ms),
      postP99Ms: p99((r) => r.postMs, targets.postP99Ms),
      connectP99Ms: p99((r) => r.connectMs, targets.connectP99Ms),
      cpuUsPerEvent: figure(group.map((r) => r.cpuUsPerEvent)),
      ...(ratios.length > 0 ? { cpuRatio: figure(ratios, targets.cpuRatio) } : {}),
      failures: group.reduce((sum, r) => sum + r.failures, 0),
      dropped: group.reduce((sum, r) => sum + r.dropped, 0),
    };
  });
}

/** `median (min–max) ✓ k/K`: the mark is the median round's; k rounds of K met the target. */
function cell(f: RoundFigure, rounds: number, limit?: number, unit = ''): string {
  const mark = limit === undefined ? '' : f.median <= limit ? ' ✓' : ' ✗';
  const met = f.met === undefined ? '' : ` ${f.met}/${rounds}`;
  return `${ms(f.median)}${unit} (${ms(f.min)}–${ms(f.max)})${mark}${met}`;
}

export function roundsTable(
  summaries: readonly RoundsSummary[],
  targets: typeof CAPACITY_TARGETS = CAPACITY_TARGETS,
): string[] {
  return textTable(
    [
      'N',
      'server',
      'rounds',
      `lag p99 ms (≤${targets.lagP99Ms})`,
      `lateness p99 ms (≤${targets.latenessP99Ms})`,
      `POST p99 ms (≤${targets.postP99Ms})`,
      `ws connect p99 ms (≤${targets.connectP99Ms})`,
      'CPU µs/event',
      `× baseline (≤${targets.cpuRatio})`,
      'failures / dropped',
    ],
    summaries.map((s) => [
      String(s.n),
      s.label,
      String(s.rounds),
      cell(s.lagP99Ms, s.rounds, targets.lagP99Ms),
      cell(s.latenessP99Ms, s.rounds, targets.latenessP99Ms),
      cell(s.postP99Ms, s.rounds, targets.postP99Ms),
      cell(s.connectP99Ms, s.rounds, targets.connectP99Ms),
      cell(s.cpuUsPerEvent, s.rounds),
      s.cpuRatio ? cell(s.cpuRatio, s.rounds, targets.cpuRatio, '×') : '—',
      `${s.failures} / ${s.dropped}`,
    ]),
  );
}
