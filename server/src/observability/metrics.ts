import type { TaskEvent } from '@transport-lab/shared';
import type { RequestHandler } from 'express';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskEngine } from '../tasks/engine.ts';
import type { WireLedger, WireTotal } from './wireLedger.ts';

/** Prometheus metrics for `GET /metrics`: one registry per server, so tests never share counters.
 *  Without a wire ledger (WIRE_ACCOUNTING=off) the `transport_lab_wire_*` series are left out. */
export function createMetrics(engine: TaskEngine, wire: WireLedger | undefined) {
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

  const stopCounting = engine.onEvent((event) =>
    eventsByType.set(event.type, (eventsByType.get(event.type) ?? 0) + 1),
  );

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
  return { registry, timeRequests, close };
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
