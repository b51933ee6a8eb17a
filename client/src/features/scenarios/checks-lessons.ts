import { Judgement, type StepOutcome, type Verdict } from './checks.ts';

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

/** What an experiment step measured (`probes.ts`). */
export interface ProbeOutcome {
  retries?: RetryTrial[];
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
