import type { RequestHandler } from 'express';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskEngine } from '../tasks/engine.ts';
import type { WireLedger } from './wireLedger.ts';

/** Prometheus metrics for `GET /metrics`: one registry per server, so tests never share counters.
 *  Without a wire ledger (WIRE_ACCOUNTING=off) the `transport_lab_wire_*` series are left out. */
export function createMetrics(engine: TaskEngine, wire: WireLedger | undefined) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const taskEvents = new Counter({
    name: 'transport_lab_task_events_total',
    help: 'Task events stored and published, by type.',
    labelNames: ['type'] as const,
    registers: [registry],
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

  const stopCounting = engine.onEvent((event) => taskEvents.inc({ type: event.type }));

  const stopWire = wire ? registerWireMetrics(registry, wire) : () => {};

  const timeRequests: RequestHandler = (req, res, next) => {
    const end = httpDuration.startTimer();
    res.on('finish', () => {
      // The route pattern, never the raw path: ids in label values would grow the series unbounded.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };

  const close = () => {
    stopCounting();
    stopWire();
  };
  return { registry, timeRequests, close };
}

/** The wire ledger's series; returns the unsubscribe. */
function registerWireMetrics(registry: Registry, wire: WireLedger): () => void {
  // The wire ledger's totals over every run, by lane (LaneId only: seven values) and channel
  // (three). Open streams' bytes so far are moved into the totals before each scrape.
  // Totals are added up in plain numbers as traffic is counted and handed to prom-client only at
  // a scrape: hashing label sets on every counted request cost more than the counting itself
  // (measured in the instrumentation benchmark).
  const totals = new Map<string, { labels: Record<string, string>; value: number }>();
  const add = (series: string, labels: Record<string, string>, value: number) => {
    const key = `${series}|${labels.lane}|${labels.channel}|${labels.direction ?? ''}`;
    const entry = totals.get(key);
    if (entry) entry.value += value;
    else totals.set(key, { labels, value });
  };
  const collectInto = (series: string) =>
    function collect(this: Counter<string>) {
      wire.flushAll(); // open streams' bytes so far, into the totals
      this.reset();
      for (const [key, { labels, value }] of totals)
        if (key.startsWith(`${series}|`)) this.inc(labels, value);
    };
  new Counter({
    name: 'transport_lab_wire_requests_total',
    help: 'Tagged lane requests (a WebSocket upgrade is one; webhook attempts under channel serverToReceiver).',
    labelNames: ['lane', 'channel'] as const,
    registers: [registry],
    collect: collectInto('requests'),
  });
  new Counter({
    name: 'transport_lab_wire_bytes_total',
    help: 'Bytes of tagged lane traffic on the TCP sockets, headers and framing included; up = requester to answerer.',
    labelNames: ['lane', 'channel', 'direction'] as const,
    registers: [registry],
    collect: collectInto('bytes'),
  });
  new Counter({
    name: 'transport_lab_wire_connections_opened_total',
    help: 'TCP connections whose first tagged request was this lane’s.',
    labelNames: ['lane', 'channel'] as const,
    registers: [registry],
    collect: collectInto('connections'),
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
  return wire.onCount((lane, channel, delta) => {
    if (delta.requests) add('requests', { lane, channel }, delta.requests);
    if (delta.bytesUp) add('bytes', { lane, channel, direction: 'up' }, delta.bytesUp);
    if (delta.bytesDown) add('bytes', { lane, channel, direction: 'down' }, delta.bytesDown);
    if (delta.connectionsOpened) add('connections', { lane, channel }, delta.connectionsOpened);
  });
}
