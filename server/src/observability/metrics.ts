import type { RequestHandler } from 'express';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskEngine } from '../tasks/engine.ts';

/** Prometheus metrics for `GET /metrics`: one registry per server, so tests never share counters. */
export function createMetrics(engine: TaskEngine) {
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

  const timeRequests: RequestHandler = (req, res, next) => {
    const end = httpDuration.startTimer();
    res.on('finish', () => {
      // The route pattern, never the raw path: ids in label values would grow the series unbounded.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };

  return { registry, timeRequests, close: stopCounting };
}
