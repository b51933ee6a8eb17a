import type { AddressInfo } from 'node:net';
import {
  API_PATHS,
  LAB_TAGS,
  type LaneId,
  labTagHeaders,
  RunResponse,
  SOCKET_EVENTS,
  type TaskEvent,
} from '@transport-lab/shared';
import { SERVER_VIEW_MAX_AGE_MS, ServerView } from '@transport-lab/shared/server-view';
import express from 'express';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { registerServerView } from '../src/observability/serverView.ts';
import { connectClient, EventCollector, emitAck, startTestServer, type TestServer } from './harness.ts';
import { createTask, longPollToEnd } from './httpClients.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(): Promise<TestServer> {
  const started = await startTestServer();
  cleanups.push(() => started.close());
  return started;
}

async function view(baseUrl: string): Promise<ServerView> {
  const res = await fetch(`${baseUrl}${API_PATHS.serverView}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return ServerView.parse(await res.json());
}

/** The value of one sample of a `/metrics` scrape, or undefined when the series is absent. */
async function scraped(baseUrl: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${baseUrl}${API_PATHS.metrics}`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const RUN = 'view-run-0001';
const tag = (lane: LaneId) => labTagHeaders({ lane, runId: RUN });

describe('GET /api/server-view', () => {
  it('is empty on a new server: no task, no lane, no rate', async () => {
    const { baseUrl } = await server();
    const before = await view(baseUrl);
    expect(before.tasks).toEqual({
      queued: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
      successRate: null,
    });
    expect(before.lanes).toEqual([]);
  });

  it('counts each lane’s tasks by outcome, with queue and end-to-end percentiles, as /metrics does', async () => {
    // No view is asked for before the tasks end: the first is built after them (one serves a second).
    const { baseUrl } = await server();

    // The blocking lane: two tasks, one of which fails at its first step.
    for (const spec of [
      { durationMs: 20, steps: 2 },
      { durationMs: 20, steps: 2, failAtStep: 1 },
    ]) {
      const res = await fetch(`${baseUrl}${API_PATHS.run}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...tag('request-response') },
        body: JSON.stringify(spec),
      });
      RunResponse.parse(await res.json());
    }
    // Long polling, tagged; and an untagged create (a curl): `other`.
    const polled = await createTask(baseUrl, { spec: { durationMs: 20, steps: 2 } }, tag('long-polling'));
    await longPollToEnd(baseUrl, polled.json.task.id);
    const untagged = await createTask(baseUrl, { spec: { durationMs: 0, steps: 1 } });
    await longPollToEnd(baseUrl, untagged.json.task.id);
    // The websocket lane, tagged by its handshake's query.
    const socket = await connectClient(baseUrl, 50, {
      [LAB_TAGS.laneQuery]: 'websocket',
      [LAB_TAGS.runQuery]: RUN,
    });
    cleanups.push(() => void socket.close());
    const events = new EventCollector(socket);
    const ack = await emitAck(socket, SOCKET_EVENTS.start, { durationMs: 20, steps: 2 });
    if (!ack.ok) throw new Error(ack.error.message);
    const wsEvents: TaskEvent[] = await events.terminal(ack.task.id);

    const lastEnd = wsEvents.at(-1)?.at ?? 0;
    const after = await view(baseUrl);
    expect(after.at).toBeGreaterThanOrEqual(lastEnd);
    expect(after.tasks).toMatchObject({ queued: 0, running: 0, succeeded: 4, failed: 1, cancelled: 0 });
    expect(after.tasks.successRate).toBeCloseTo(4 / 5);
    expect(after.lanes.map((l) => l.lane)).toEqual([
      'request-response',
      'long-polling',
      'websocket',
      'other',
    ]);
    const rr = after.lanes[0];
    expect(rr).toMatchObject({ succeeded: 1, failed: 1, cancelled: 0, successRate: 0.5 });
    expect(rr?.queue.count).toBe(2);
    expect(rr?.latency.count).toBe(2);
    // The websocket task's end to end is what its own events say: queued → succeeded, server clock.
    const ws = after.lanes.find((l) => l.lane === 'websocket');
    const wsLatency = (wsEvents.at(-1)?.at ?? 0) - (wsEvents[0]?.at ?? 0);
    expect(ws?.latency.maxMs).toBeCloseTo(wsLatency, 2);
    expect(ws?.latency.p50Ms).toBe(ws?.latency.maxMs); // one task: every quantile is it
    const wsQueue = (wsEvents.find((e) => e.type === 'started')?.at ?? 0) - (wsEvents[0]?.at ?? 0);
    expect(ws?.queue.maxMs).toBeCloseTo(wsQueue, 2);
    for (const lane of after.lanes) {
      const { p50Ms, p95Ms, p99Ms, maxMs } = lane.latency;
      expect([p50Ms, p95Ms, p99Ms, maxMs].every((v) => v !== null && v >= 0)).toBe(true);
      expect(p50Ms ?? 0).toBeLessThanOrEqual(maxMs ?? 0);
    }
    // The same figures as the Prometheus scrape.
    expect(
      await scraped(baseUrl, 'transport_lab_tasks_ended_total{lane="request-response",outcome="failed"}'),
    ).toBe(1);
    expect(await scraped(baseUrl, 'transport_lab_tasks_ended_total{lane="other",outcome="succeeded"}')).toBe(
      1,
    );
    expect(await scraped(baseUrl, 'transport_lab_task_window_tasks{lane="websocket",figure="latency"}')).toBe(
      1,
    );
    expect(
      await scraped(baseUrl, 'transport_lab_task_latency_seconds{lane="websocket",quantile="1"}'),
    ).toBeCloseTo(wsLatency / 1_000, 5);
    // The websocket's socket is open on `/`, and no webhook was asked for.
    expect(after.connections.sockets).toContainEqual({ namespace: '/', open: 1 });
    expect(after.webhooks).toEqual({
      attempts: { delivered: 0, retry: 0, 'gave-up': 0, disabled: 0 },
      pending: 0,
      inFlight: 0,
    });
  });

  it('counts a running task as running, not queued, while it runs', async () => {
    const { baseUrl } = await server();
    const created = await createTask(baseUrl, { spec: { durationMs: 5_000, steps: 1 } }, tag('sse'));
    cleanups.push(async () => {
      await fetch(`${baseUrl}${API_PATHS.cancel(created.json.task.id)}`, {
        method: 'POST',
        headers: tag('sse'),
      });
    });
    // Started on the next turn of the server's loop: the view says so once it has.
    await longPollUntilStarted(baseUrl, created.json.task.id);
    const seen = await view(baseUrl);
    expect(seen.tasks).toMatchObject({ queued: 0, running: 1, succeeded: 0 });
  });
});

async function longPollUntilStarted(baseUrl: string, id: string): Promise<void> {
  let after = 0;
  for (;;) {
    const res = await fetch(`${baseUrl}${API_PATHS.events(id)}?after=${after}&waitMs=5000`);
    const { events, nextAfter } = (await res.json()) as { events: TaskEvent[]; nextAfter: number };
    if (events.some((e) => e.type === 'started')) return;
    after = nextAfter;
  }
}

describe('the view’s build', () => {
  it('is built at most once per SERVER_VIEW_MAX_AGE_MS, whoever asks, and again after it', async () => {
    const registry = new Registry();
    let collects = 0;
    new Counter({
      name: 'transport_lab_tasks_ended_total',
      help: 'stand-in',
      labelNames: ['lane', 'outcome'] as const,
      registers: [registry],
      collect() {
        collects++;
        this.reset();
        this.inc({ lane: 'sse', outcome: 'succeeded' }, collects);
      },
    });
    let now = 1_000_000;
    const app = express();
    registerServerView(app, { registry, startedAt: 0, window: 10, now: () => now });
    const listening = app.listen(0);
    cleanups.push(() => new Promise<void>((resolve) => listening.close(() => resolve())));
    await new Promise<void>((resolve) => listening.once('listening', () => resolve()));
    const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}${API_PATHS.serverView}`;
    const ask = async () => ServerView.parse(await (await fetch(url)).json());

    const [a, b] = await Promise.all([ask(), ask()]);
    now += SERVER_VIEW_MAX_AGE_MS - 1;
    const c = await ask();
    expect([a.at, b.at, c.at]).toEqual([1_000_000, 1_000_000, 1_000_000]);
    expect(collects).toBe(1);
    now += 1;
    const d = await ask();
    expect(d.at).toBe(1_000_000 + SERVER_VIEW_MAX_AGE_MS);
    expect(collects).toBe(2);
    expect(d.lanes).toEqual([expect.objectContaining({ lane: 'sse', succeeded: 2 })]);
    // Without the wire ledger's series, open connections by lane are unknown, not zero.
    expect(d.connections.byLane).toBeNull();
  });
});
