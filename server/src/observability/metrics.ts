import { ClientLimitReason, type ErrorBody, OverloadReason, type TaskEvent } from '@transport-lab/shared';
import type { RequestHandler } from 'express';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import type { TaskEngine } from '../tasks/engine.ts';
import type { WebhookStats } from '../webhooks/types.ts';
import { createTaskFigures, type TaskFigures } from './taskFigures.ts';
import type { WireLedger, WireTotal } from './wireLedger.ts';

/** What the metrics read at a scrape from parts made after them (app.ts): never before one. */
export interface MetricSources {
  /** Connected sockets of each socket.io namespace (`/`, `/room`, `/board`). */
  socketsByNamespace(): Iterable<[namespace: string, sockets: number]>;
  rooms(): { rooms: number; participants: Record<'presenter' | 'audience', number> };
  webhooks(): WebhookStats;
}

/** The refusals counted by reason: the ones whose `details.reason` says why (issues 10 and 11). */
const REFUSAL_CODES = new Set(['RATE_LIMITED', 'UNAVAILABLE']);
const RefusalReason = z.object({ reason: z.union([OverloadReason, ClientLimitReason]) });

/** Prometheus metrics for `GET /metrics`: one registry per server, so tests never share counters.
 *  Without a wire ledger (WIRE_ACCOUNTING=off) the `transport_lab_wire_*` series are left out.
 *  docs/operations.md lists every series; docs/grafana-dashboard.json is built on them. */
export function createMetrics(engine: TaskEngine, wire: WireLedger | undefined, sources: MetricSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // Counted in plain numbers per event and handed to prom-client at a scrape: its label hashing on
  // every event was a measurable share of the per-event cost (docs/benchmarks.md).
  const eventsByType = new Map<TaskEvent['type'], number>();
  new Counter({
    name: 'transport_lab_task_events_total',
    help: 'Task events stored and published, by type.',
    labelNames: ['type'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [type, count] of eventsByType) this.inc({ type }, count);
    },
  });
  new Gauge({
    name: 'transport_lab_tasks_running',
    help: 'Tasks this process is running now.',
    registers: [registry],
    collect() {
      this.set(engine.runningCount);
    },
  });
  const httpDuration = new Histogram({
    name: 'transport_lab_http_request_duration_seconds',
    help: 'HTTP answer time by route and status; blocking and long-poll routes are long by design.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120],
    registers: [registry],
  });

  new Gauge({
    name: 'transport_lab_sockets',
    help: 'Connected socket.io sockets, by namespace (/ is the websocket lane, /room the rooms, /board the boards).',
    labelNames: ['namespace'] as const,
    registers: [registry],
    collect() {
      for (const [namespace, sockets] of sources.socketsByNamespace()) this.set({ namespace }, sockets);
    },
  });
  new Gauge({
    name: 'transport_lab_rooms',
    help: 'Live rooms (in memory).',
    registers: [registry],
    collect() {
      this.set(sources.rooms().rooms);
    },
  });
  new Gauge({
    name: 'transport_lab_room_participants',
    help: 'Connected participants of the live rooms, by role.',
    labelNames: ['role'] as const,
    registers: [registry],
    collect() {
      for (const [role, count] of Object.entries(sources.rooms().participants)) this.set({ role }, count);
    },
  });
  new Counter({
    name: 'transport_lab_webhook_attempts_total',
    help: 'Task webhook delivery attempts this process made, by outcome (delivered, retry, gave-up, disabled).',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, count] of Object.entries(sources.webhooks().attempts))
        this.inc({ outcome }, count);
    },
  });
  new Gauge({
    name: 'transport_lab_webhook_queue_depth',
    help: 'Webhook deliveries pending in the durable queue (due now or waiting for a retry).',
    registers: [registry],
    collect() {
      this.set(sources.webhooks().pending);
    },
  });
  new Gauge({
    name: 'transport_lab_webhook_attempts_in_flight',
    help: 'Webhook attempts sent and not yet answered.',
    registers: [registry],
    collect() {
      this.set(sources.webhooks().inFlight);
    },
  });
  // Every refusal answered (HTTP, a socket ack, a socket.io connect error), by code and reason:
  // both from closed sets (the shared enums), so the series stay bounded.
  const refusals = new Map<string, { code: string; reason: string; count: number }>();
  new Counter({
    name: 'transport_lab_refusals_total',
    help: 'Requests refused for overload (UNAVAILABLE) or past a client’s share (RATE_LIMITED), by reason.',
    labelNames: ['code', 'reason'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { code, reason, count } of refusals.values()) this.inc({ code, reason }, count);
    },
  });
  const countRefusal = (body: ErrorBody) => {
    if (!REFUSAL_CODES.has(body.code)) return;
    const parsed = RefusalReason.safeParse(body.details);
    // A refusal without a reason of the enums (a room's message rate, "webhooks are off"): `other`.
    const reason = parsed.success ? parsed.data.reason : 'other';
    const key = `${body.code} ${reason}`;
    const entry = refusals.get(key);
    if (entry) entry.count++;
    else refusals.set(key, { code: body.code, reason, count: 1 });
  };

  const figures = createTaskFigures();
  registerTaskFigures(registry, figures);

  const stopCounting = engine.onEvent((event) => {
    eventsByType.set(event.type, (eventsByType.get(event.type) ?? 0) + 1);
    figures.observe(event);
  });

  if (wire) registerWireMetrics(registry, wire);

  const timeRequests: RequestHandler = (req, res, next) => {
    const end = httpDuration.startTimer();
    res.on('finish', () => {
      // The route pattern, never the raw path: ids in label values would grow the series unbounded.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };

  const close = () => stopCounting();
  return { registry, timeRequests, countRefusal, close, tagTask: figures.tagTask, window: figures.window };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The task figures' series (taskFigures.ts), built at a scrape from what it kept. */
function registerTaskFigures(registry: Registry, figures: TaskFigures): void {
  new Gauge({
    name: 'transport_lab_tasks_queued',
    help: 'Tasks this process accepted and has not started yet (counted in transport_lab_tasks_running too).',
    registers: [registry],
    collect() {
      this.set(figures.queuedCount());
    },
  });
  new Counter({
    name: 'transport_lab_tasks_ended_total',
    help: 'Tasks this process ran that ended, by the lane that created them (other: untagged or resumed) and outcome.',
    labelNames: ['lane', 'outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { lane, ended } of figures.snapshot())
        for (const [outcome, count] of Object.entries(ended)) this.inc({ lane, outcome }, count);
    },
  });
  // Quantiles over each lane's latest tasks, computed at a scrape: nearest rank, each a measured
  // value (a summary's shape, without prom-client's per-observation t-digest).
  const quantileGauge = (name: string, help: string, pick: 'queueMs' | 'latencyMs') =>
    new Gauge({
      name,
      help,
      labelNames: ['lane', 'quantile'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const lane of figures.snapshot())
          for (const { q, value } of lane[pick])
            this.set({ lane: lane.lane, quantile: String(q) }, value / 1_000);
      },
    });
  quantileGauge(
    'transport_lab_task_queue_seconds',
    `Queue time (accepted → started) over each lane’s latest ${figures.window} tasks, by quantile (1 = the largest).`,
    'queueMs',
  );
  quantileGauge(
    'transport_lab_task_latency_seconds',
    `End to end on the server (accepted → ended) over each lane’s latest ${figures.window} tasks, by quantile (1 = the largest).`,
    'latencyMs',
  );
  new Gauge({
    name: 'transport_lab_task_window_tasks',
    help: 'How many tasks each lane’s quantiles are over, by figure (queue, latency).',
    labelNames: ['lane', 'figure'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const lane of figures.snapshot()) {
        this.set({ lane: lane.lane, figure: 'queue' }, lane.queueCount);
        this.set({ lane: lane.lane, figure: 'latency' }, lane.latencyCount);
      }
    },
  });
}

/** The wire ledger's series, read from its totals at each scrape. */
function registerWireMetrics(registry: Registry, wire: WireLedger): void {
  // The wire ledger's lifetime totals, by lane (LaneId only: seven values) and channel (three),
  // read at a scrape: the ledger adds them up in plain numbers as it counts, and hashing label sets
  // on every counted request cost more than the counting itself (measured in the benchmark).
  // Open streams' bytes so far are moved into the totals first. A series appears once non-zero.
  type Series = 'requests' | 'up' | 'down' | 'connections';
  const figureOf: Record<Series, (t: WireTotal) => number> = {
    requests: (t) => t.requests,
    up: (t) => t.bytesUp,
    down: (t) => t.bytesDown,
    connections: (t) => t.connectionsOpened,
  };
  const collectInto = (series: Series[]) =>
    function collect(this: Counter<string>) {
      wire.flushAll();
      this.reset();
      for (const total of wire.totals()) {
        for (const one of series) {
          const value = figureOf[one](total);
          if (value === 0) continue;
          const labels = { lane: total.lane, channel: total.channel };
          this.inc(one === 'up' || one === 'down' ? { ...labels, direction: one } : labels, value);
        }
      }
    };
  new Counter({
    name: 'transport_lab_wire_requests_total',
    help: 'Tagged lane requests (a WebSocket upgrade is one; webhook attempts under channel serverToReceiver).',
    labelNames: ['lane', 'channel'] as const,
    registers: [registry],
    collect: collectInto(['requests']),
  });
  new Counter({
    name: 'transport_lab_wire_bytes_total',
    help: 'Bytes of tagged lane traffic on the TCP sockets, headers and framing included; up = requester to answerer.',
    labelNames: ['lane', 'channel', 'direction'] as const,
    registers: [registry],
    collect: collectInto(['up', 'down']),
  });
  new Counter({
    name: 'transport_lab_wire_connections_opened_total',
    help: 'TCP connections whose first tagged request was this lane’s.',
    labelNames: ['lane', 'channel'] as const,
    registers: [registry],
    collect: collectInto(['connections']),
  });
  new Gauge({
    name: 'transport_lab_wire_open_connections',
    help: 'TCP connections open now, by the lane of their first tagged request.',
    labelNames: ['lane', 'channel'] as const,
    registers: [registry],
    collect() {
      for (const { lane, channel, open } of wire.openConnections()) this.set({ lane, channel }, open);
    },
  });
}
