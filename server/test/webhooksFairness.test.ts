import { type LabTag, labTagHeaders } from '@transport-lab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createWebhooks } from '../src/webhooks/dispatcher.ts';
import { startTestServer, type TestServer } from './harness.ts';
import { createTask } from './httpClients.ts';
import {
  type Answer,
  type Arrival,
  engineAlone,
  processedTerminal,
  type Respond,
  startTestReceiver,
  type TestReceiver,
} from './webhooksHarness.ts';
import { newRunId } from './wireHarness.ts';

/**
 * Webhook deliveries in flight per run, shared fairly between runs (issue 11, item 2). Before, a
 * run whose receiver never answered held all 8 of the dispatcher's attempts, and another user's
 * first delivery started 23.8 s late.
 */

/** The bound under test, below the dispatcher's 8 in all. */
const PER_RUN = 2;
/** More tasks than the dispatcher's 8 attempts: without the bound, they would hold every one. */
const BACKLOG_TASKS = 10;
/** A task of one step has four events: queued, started, progress, succeeded. */
const SPEC = { durationMs: 0, steps: 1 };
const EVENTS_PER_TASK = 4;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(respond?: Respond): Promise<TestReceiver> {
  const started = await startTestReceiver(respond);
  cleanups.push(() => started.close());
  return started;
}

async function server(receivers: TestReceiver[], env: Parameters<typeof startTestServer>[0] = {}) {
  const started = await startTestServer({
    WEBHOOK_SCHEDULE_SCALE: '0.0005',
    WEBHOOK_ALLOWED_HOSTS: receivers.map((r) => `127.0.0.1:${r.port}`).join(','),
    WEBHOOK_MAX_IN_FLIGHT_PER_RUN: String(PER_RUN),
    ...env,
  });
  cleanups.push(() => started.close());
  return started;
}

const webhookTag = (runId = newRunId()): LabTag => ({ lane: 'webhook', runId });

/** Creates a task that delivers to `to`, tagged with `tag` (or untagged); its id. */
async function createDelivering(srv: TestServer, to: TestReceiver, tag?: LabTag): Promise<string> {
  const { res, json } = await createTask(
    srv.baseUrl,
    { spec: SPEC, webhook: { url: to.url } },
    tag ? labTagHeaders(tag) : {},
  );
  expect(res.status).toBe(202);
  return json.task.id;
}

/** Most requests the receiver held at once: arrived and not yet ended, at each arrival. */
function mostAtOnce(arrivals: Arrival[]): number {
  return Math.max(
    0,
    ...arrivals.map(
      (arrival) =>
        arrivals.filter((other) => other.at <= arrival.at && (other.endedAt ?? Infinity) > arrival.at).length,
    ),
  );
}

/** Each task's processed seqs, in the order processed. */
function seqsByTask(rx: TestReceiver): Map<string, number[]> {
  const byTask = new Map<string, number[]>();
  for (const payload of rx.processed) {
    const seqs = byTask.get(payload.data.taskId) ?? [];
    seqs.push(payload.data.seq);
    byTask.set(payload.data.taskId, seqs);
  }
  return byTask;
}

const inOrder = Array.from({ length: EVENTS_PER_TASK }, (_, i) => i + 1);

interface Holding {
  rx: TestReceiver;
  /** Answers every request held so far, and every later one at once, with `answer`. */
  letGo: (answer: Answer) => void;
}

/** A receiver that holds every request until `letGo`: the attempts stay in flight meanwhile. */
async function holdingReceiver(): Promise<Holding> {
  let letGo: (answer: Answer) => void = () => undefined;
  const held = new Promise<Answer>((resolve) => {
    letGo = resolve;
  });
  return { rx: await receiver(() => held), letGo };
}

/** Lets the held run's receiver answer: every delivery of `tasks` then arrives, each task's in seq
 *  order, and never more than the run's bound at once. */
async function letGoAndSeeInOrder({ rx, letGo }: Holding, tasks: string[]): Promise<void> {
  letGo({ status: 200 });
  await rx.until(
    (r) => r.processed.length === tasks.length * EVENTS_PER_TASK,
    'every delivery of the held run is processed',
    30_000,
  );
  const byTask = seqsByTask(rx);
  expect([...byTask.keys()].sort()).toEqual([...tasks].sort());
  for (const id of tasks) expect({ id, seqs: byTask.get(id) }).toEqual({ id, seqs: inOrder });
  expect(mostAtOnce(rx.arrivals)).toBe(PER_RUN);
}

describe('webhook attempts shared fairly between runs', () => {
  it("holds a run's backlog to its bound while another run's deliveries go and complete; the backlog then arrives in order", async () => {
    // Run A's receiver holds every request until the test lets go: its attempts stay in flight (no
    // timeout within the test), as a receiver that never answers holds them.
    const held = await holdingReceiver();
    const slow = held.rx;
    const quick = await receiver();
    const srv = await server([slow, quick], { WEBHOOK_ATTEMPT_TIMEOUT_MS: '60000' });

    const runA = webhookTag();
    const aTasks = await Promise.all(
      Array.from({ length: BACKLOG_TASKS }, () => createDelivering(srv, slow, runA)),
    );
    await slow.until((r) => r.arrivals.length >= PER_RUN, `run A's first ${PER_RUN} attempts arrive`);

    // Run B's task is created after all of A's deliveries were due, and is delivered in full while
    // every attempt of A is still held.
    const bTask = await createDelivering(srv, quick, webhookTag());
    await quick.until(processedTerminal, "run B's terminal event is processed");
    expect(seqsByTask(quick).get(bTask)).toEqual(inOrder);
    expect(slow.arrivals).toHaveLength(PER_RUN);
    expect(slow.arrivals.every((a) => a.answeredAt === undefined)).toBe(true);

    await letGoAndSeeInOrder(held, aTasks);
    expect(slow.arrivals).toHaveLength(BACKLOG_TASKS * EVENTS_PER_TASK); // each once: none timed out
  });

  it('counts untagged tasks from one address as one run: their timed-out attempts hold its bound, and their retries arrive in order', async () => {
    // Every task's first delivery (seq 1) gets no answer on its first attempt: it times out and is
    // retried on the schedule. Everything else is answered at once.
    const firstTries = new Set<string>();
    const timingOut = await receiver((_, arrival) => {
      if (arrival.seq !== 1 || firstTries.has(arrival.webhookId)) return { status: 204 };
      firstTries.add(arrival.webhookId);
      return 'hang';
    });
    const quick = await receiver();
    const srv = await server([timingOut, quick], { WEBHOOK_ATTEMPT_TIMEOUT_MS: '400' });

    const untagged = await Promise.all(
      Array.from({ length: BACKLOG_TASKS }, () => createDelivering(srv, timingOut)),
    );
    const tagged = await createDelivering(srv, quick, webhookTag());
    await quick.until(processedTerminal, "the tagged run's terminal event is processed");
    expect(seqsByTask(quick).get(tagged)).toEqual(inOrder);
    // The untagged tasks' first deliveries were all due before the tagged one: without the bound, at
    // least ten would have arrived first (eight at once, then the two still due).
    const firstOfTagged = quick.arrivals[0]?.at ?? Infinity;
    expect(timingOut.arrivals.filter((a) => a.at < firstOfTagged).length).toBeLessThan(BACKLOG_TASKS);

    await timingOut.until(
      (r) => r.processed.length === BACKLOG_TASKS * EVENTS_PER_TASK,
      'every delivery of the untagged tasks is processed',
      30_000,
    );
    const byTask = seqsByTask(timingOut);
    for (const id of untagged) expect({ id, seqs: byTask.get(id) }).toEqual({ id, seqs: inOrder });
    // Each seq 1 twice (timed out, then delivered), the rest once; never more than the bound at once.
    expect(timingOut.arrivals).toHaveLength(BACKLOG_TASKS * (EVENTS_PER_TASK + 1));
    expect(mostAtOnce(timingOut.arrivals)).toBeLessThanOrEqual(PER_RUN);
  });

  it('knows the run of the deliveries a previous process left pending (task_runs), and bounds it after a restart', async () => {
    const held = await holdingReceiver();
    const slow = held.rx;
    const quick = await receiver();
    const { db, engine, logger } = engineAlone(cleanups);
    const config = loadConfig({
      WEBHOOK_ALLOWED_HOSTS: [slow, quick].map((r) => `127.0.0.1:${r.port}`).join(','),
      WEBHOOK_SCHEDULE_SCALE: '0',
      WEBHOOK_ATTEMPT_TIMEOUT_MS: '60000',
      WEBHOOK_MAX_IN_FLIGHT_PER_RUN: String(PER_RUN),
    });
    const deps = { db, engine, config, logger, builtInReceiverUrl: () => undefined };

    // The previous process took run A's subscriptions and stopped before sending anything: what it
    // knew of their owner is gone; the task's run is in task_runs.
    const before = createWebhooks(deps);
    const aTasks = Array.from({ length: BACKLOG_TASKS }, () => engine.newTaskId());
    for (const id of aTasks) await before.subscribe(id, { url: slow.url }, { client: 'phone', run: 'run:A' });
    await before.close();
    for (const id of aTasks) await engine.create(SPEC, id);
    for (const id of aTasks) await engine.waitForEnd(id, 10_000);

    const runs = new Map(aTasks.map((id) => [id, 'A']));
    const after = createWebhooks({ ...deps, runOfTask: async (id) => runs.get(id) });
    cleanups.push(() => after.close());
    await slow.until((r) => r.arrivals.length >= PER_RUN, `run A's first ${PER_RUN} attempts arrive`);

    const bTask = engine.newTaskId();
    await after.subscribe(bTask, { url: quick.url }, { client: 'another phone', run: 'run:B' });
    await engine.create(SPEC, bTask);
    await quick.until(processedTerminal, "run B's terminal event is processed");
    expect(slow.arrivals).toHaveLength(PER_RUN);
    await letGoAndSeeInOrder(held, aTasks);
  });
});
