import { LANES } from '../protocol/lanes.ts';
import { GUIDE_CONSUMER_LABELS, GUIDE_MIDDLEBOX_LABELS } from './answers.ts';
import type { Finding, ProofRace } from './prove.ts';
import type { GuideResult } from './rank.ts';
import { SAFEGUARDS, type SafeguardId } from './safeguards.ts';

/**
 * The decision record (issue 15, item 4): one Markdown page a team can keep beside its design, with the
 * answers, the recommendation, what to build, and the measurement of "Prove it" attached when it ran.
 */

export interface DecisionRecordInput {
  result: GuideResult;
  /** When the record was made, ISO 8601. */
  madeAt: string;
  /** The race "Prove it" ran and what it found; absent: not run. */
  proof?: { race: ProofRace; findings: Finding[]; runId?: string };
}

/** A cell of a Markdown table: no pipes or line breaks to break its row. */
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const ms = (n: number | undefined) => (n === undefined ? '—' : `${Math.round(n).toLocaleString('en-US')} ms`);
const bytes = (n: number | undefined) =>
  n === undefined ? '—' : `${Math.round(n).toLocaleString('en-US')} B`;

export function decisionRecordMarkdown({ result, madeAt, proof }: DecisionRecordInput): string {
  const { answers: a, plan, ranked } = result;
  const lines: string[] = [];
  const push = (...more: string[]) => lines.push(...more);
  push('# Decision record: how clients learn what the server is doing', '');
  push(`Made with Transport Lab's decision guide on ${madeAt}.`, '');

  push('## Answers', '', '| question | answer |', '| --- | --- |');
  push(`| typical duration | ${ms(a.typicalMs)} |`, `| worst duration | ${ms(a.worstMs)} |`);
  push(
    `| a person must see something within | ${a.feedbackWithinMs === undefined ? 'no person waits on it' : ms(a.feedbackWithinMs)} |`,
  );
  push(`| runs per hour, per client | ${a.runsPerHour} |`);
  push(`| consumers | ${a.consumers.map((c) => GUIDE_CONSUMER_LABELS[c]).join(', ')} |`);
  push(`| progress matters | ${a.progressMatters ? 'yes' : 'no'} |`);
  push(
    `| between | ${a.between.length === 0 ? 'nothing in the way' : cell(a.between.map((m) => GUIDE_MIDDLEBOX_LABELS[m]).join('; '))} |`,
  );
  push(`| clients at once | ${a.concurrentClients.toLocaleString('en-US')} |`);
  push(`| a client offline for hours | ${a.offlineForHours ? 'yes' : 'no'} |`, '');

  push('## Decision', '', plan.summary, '');
  for (const part of plan.parts) push(`- **${LANES[part.lane].name}** for ${part.role}`);
  if (plan.parts.length > 0) push('');

  const planLanes = plan.parts.map((p) => p.lane);
  const needed = [...new Set(ranked.filter((r) => planLanes.includes(r.lane)).flatMap((r) => r.mustBuild))];
  if (needed.length > 0) {
    push('## What we must build', '');
    for (const id of needed as SafeguardId[]) push(`- **${SAFEGUARDS[id].title}**: ${SAFEGUARDS[id].what}`);
    push('');
    push('## Failure modes to watch', '');
    for (const r of ranked.filter((x) => planLanes.includes(x.lane)))
      for (const mode of r.failureModes) push(`- ${LANES[r.lane].name}: ${mode}`);
    push('');
  }

  push(
    '## The ranking',
    '',
    '| rank | lane | fit | score | main reason |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const [k, r] of ranked.entries()) {
    const main = [...r.reasons].sort((x, y) => Math.abs(y.weight) - Math.abs(x.weight))[0]?.text ?? '';
    push(`| ${k + 1} | ${LANES[r.lane].name} | ${r.fit} | ${r.score} | ${cell(main)} |`);
  }
  push('');

  push('## Measured ("Prove it")', '');
  if (!proof) {
    push('Not run: these figures are rules of thumb, not yet measured with our numbers.', '');
  } else {
    const { race, findings } = proof;
    push(
      `A ${ms(race.durationMs)} task in ${race.steps} steps on ${race.network}${proof.runId ? ` (run ${proof.runId})` : ''}, every lane started in the same frame; figures measured by the page (Transport Lab), not modelled.`,
      '',
    );
    push(
      '| lane | status | first feedback | result on screen | delay per update | updates shown | requests | bytes down | bytes up |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const l of race.lanes) {
      push(
        `| ${LANES[l.lane].name} | ${l.status} | ${ms(l.firstFeedbackMs)} | ${ms(l.totalPerceivedMs)} | ${ms(l.stalenessMeanMs)} | ${l.progressUpdates} | ${l.requests} | ${bytes(l.bytesDown)} | ${bytes(l.bytesUp)} |`,
      );
    }
    push('');
    const against = findings.filter((f) => !f.agrees);
    push(
      `### Where the measurement disagrees with the rule of thumb (${against.length} of ${findings.length})`,
      '',
    );
    if (against.length === 0) push('Nowhere: every rule of thumb checked held in this race.');
    for (const f of against) push(`- ${f.claim} Measured: ${f.measured}`);
    push('');
    const agreed = findings.filter((f) => f.agrees);
    if (agreed.length > 0) {
      push('### Where it agrees', '');
      for (const f of agreed) push(`- ${f.claim} Measured: ${f.measured}`);
      push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
