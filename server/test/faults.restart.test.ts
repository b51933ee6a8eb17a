import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FAULT_PATHS, FaultsResponse, type LabTag, type TaskSpec } from '@transport-lab/shared';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SQLITE_FILE_NAME } from '../src/store/sqlite.ts';
import {
  hybridLane,
  type LaneOutcome,
  longPollingLane,
  postFault,
  requestResponseLane,
  shortPollingLane,
  sseLane,
  webhookLane,
  websocketLane,
} from './faultsLanes.ts';
import { killed, spawnSupervisor, streamBreaches, tempDataDir } from './harness.ts';
import { newRunId, until } from './wireHarness.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('restart-server under the supervisor (main.ts)', () => {
  it('restarts on the same ports; every lane ends with its task succeeded; no accepted task is lost', {
    timeout: 90_000,
  }, async () => {
    const dataDir = tempDataDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = spawnSupervisor(dataDir, { WEBHOOK_SCHEDULE_SCALE: '0.0005' });
    cleanups.push(() => killed(server.child));
    const { baseUrl, receiverOrigin } = await server.started(1);

    const runId = newRunId();
    const tag = (lane: LabTag['lane']): LabTag => ({ lane, runId });
    // Half-second steps: every task is mid-way when the server goes.
    const spec: TaskSpec = { durationMs: 4_000, steps: 8 };
    const lanes: Record<string, Promise<LaneOutcome>> = {
      'request-response': requestResponseLane(baseUrl, tag('request-response'), spec),
      'short-polling': shortPollingLane(baseUrl, tag('short-polling'), spec),
      'long-polling': longPollingLane(baseUrl, tag('long-polling'), spec),
      sse: sseLane(baseUrl, tag('sse'), spec),
      webhook: webhookLane(baseUrl, receiverOrigin, tag('webhook'), spec),
      websocket: websocketLane(baseUrl, tag('websocket'), spec),
      hybrid: hybridLane(baseUrl, tag('hybrid'), spec, 60),
    };

    // The server's own record of the run's tasks (read-only beside it, as WAL allows). The state row
    // changes with the status; the steps are in the event log: the journal while a task runs,
    // task_events once it ended (store/sqlite.ts), both for a while (a seq counts once).
    const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
    cleanups.push(() => void db.close());
    const tasksOfRun = () =>
      db
        .prepare<[string], { status: string; step: number }>(
          `SELECT t.status AS status,
                  (SELECT COUNT(*) FROM (
                     SELECT seq FROM task_events e
                      WHERE e.task_id = t.id AND json_extract(e.event, '$.type') = 'progress'
                     UNION SELECT seq FROM event_journal j
                      WHERE j.task_id = t.id AND json_extract(j.event, '$.type') = 'progress')) AS step
             FROM task_runs r JOIN tasks t ON t.id = r.task_id WHERE r.run_id = ?`,
        )
        .all(runId);
    await until(
      tasksOfRun,
      (tasks) => tasks.length === 7 && tasks.every((t) => t.status === 'running' && t.step >= 1),
      'all seven tasks are running',
      20_000,
    );

    const record = await postFault(baseUrl, { kind: 'restart-server', runId });
    expect(record.affected).toBeGreaterThanOrEqual(7);
    const again = await server.started(2);
    expect(again).toEqual({ baseUrl, receiverOrigin });

    const outcomes = Object.fromEntries(
      await Promise.all(Object.entries(lanes).map(async ([lane, p]) => [lane, await p] as const)),
    );
    for (const [lane, outcome] of Object.entries(outcomes)) {
      expect({ lane, status: outcome.final.status, step: outcome.final.step }).toEqual({
        lane,
        status: 'succeeded',
        step: 8,
      });
    }
    // The event lanes saw every event once, in order, through the restart.
    for (const lane of ['long-polling', 'sse', 'webhook', 'websocket'] as const) {
      expect({ lane, breaches: streamBreaches(outcomes[lane]?.events ?? [], 8) }).toEqual({
        lane,
        breaches: [],
      });
      expect(outcomes[lane]?.recoveries).toBeGreaterThanOrEqual(1);
    }
    // The blocking call was answered 503 + Location before the process went; the hybrid's wait, 202.
    expect(outcomes['request-response']?.statuses).toEqual([503]);
    expect(outcomes.hybrid?.statuses).toEqual([202]);

    const stored = tasksOfRun();
    expect(stored.map((t) => t.status)).toEqual(Array(7).fill('succeeded'));
    const listed = FaultsResponse.parse(
      await (await fetch(`${baseUrl}${FAULT_PATHS.faults}?runId=${runId}`)).json(),
    );
    expect(listed.faults).toEqual([record]);

    // SIGTERM reaches the server through the supervisor, which exits as the server did.
    server.child.kill('SIGTERM');
    expect(await server.ended).toEqual({ code: 0, signal: null });
  });
});
