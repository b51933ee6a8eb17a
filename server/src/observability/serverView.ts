import { API_PATHS, LANE_IDS, LaneId } from '@transport-lab/shared';
import {
  type DurationPercentiles,
  SERVER_VIEW_MAX_AGE_MS,
  type ServerView,
  type ServerViewLane,
  ServerViewLaneKey,
} from '@transport-lab/shared/server-view';
import type { Router } from 'express';
import type { Registry } from 'prom-client';
import { epochNow } from './clock.ts';

type Labels = Record<string, string | number | undefined>;
type Sample = { labels: Labels; value: number };

/** The samples of one series, as a scrape reads them (its `collect` runs): none if it is absent. */
async function samplesOf(registry: Registry, name: string): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  const { values } = await metric.get();
  return values.map(({ labels, value }) => ({ labels: labels as Labels, value }));
}

const sum = (samples: readonly Sample[], where: (labels: Labels) => boolean = () => true) =>
  samples.reduce((total, s) => (where(s.labels) ? total + s.value : total), 0);
const rate = (succeeded: number, failed: number) =>
  succeeded + failed === 0 ? null : succeeded / (succeeded + failed);

/**
 * Builds the server's view (shared/src/protocol/server-view.ts) from the series `/metrics` exports:
 * only the task, socket, webhook and open-connection series are read (each its own `collect`), never
 * the process's default metrics.
 */
export async function buildServerView(
  registry: Registry,
  { startedAt, window, now = epochNow() }: { startedAt: number; window: number; now?: number },
): Promise<ServerView> {
  const [running, queued, ended, queue, latency, counts, sockets, open, attempts, pending, inFlight] =
    await Promise.all(
      [
        'transport_lab_tasks_running',
        'transport_lab_tasks_queued',
        'transport_lab_tasks_ended_total',
        'transport_lab_task_queue_seconds',
        'transport_lab_task_latency_seconds',
        'transport_lab_task_window_tasks',
        'transport_lab_sockets',
        'transport_lab_wire_open_connections',
        'transport_lab_webhook_attempts_total',
        'transport_lab_webhook_queue_depth',
        'transport_lab_webhook_attempts_in_flight',
      ].map((name) => samplesOf(registry, name)),
    );
  const seconds = (samples: Sample[] | undefined, lane: string, quantile: number) => {
    const found = samples?.find((s) => s.labels.lane === lane && s.labels.quantile === String(quantile));
    // Seconds in the exposition, ms here; rounded to the µs the clock is good for.
    return found ? Math.round(found.value * 1e6) / 1e3 : null;
  };
  const percentiles = (samples: Sample[] | undefined, lane: string, figure: string): DurationPercentiles => ({
    count: sum(counts ?? [], (l) => l.lane === lane && l.figure === figure),
    p50Ms: seconds(samples, lane, 0.5),
    p95Ms: seconds(samples, lane, 0.95),
    p99Ms: seconds(samples, lane, 0.99),
    maxMs: seconds(samples, lane, 1),
  });
  const endedOf = (outcome: string, lane?: string) =>
    sum(ended ?? [], (l) => l.outcome === outcome && (lane === undefined || l.lane === lane));

  // In the page's lane order, `other` last; only lanes that created a task.
  const laneKeys = [...LANE_IDS, 'other' as const].filter((lane) =>
    (ended ?? []).concat(counts ?? []).some((s) => s.labels.lane === lane),
  );
  const lanes: ServerViewLane[] = laneKeys.map((lane) => {
    const [succeeded, failed, cancelled] = ['succeeded', 'failed', 'cancelled'].map((o) =>
      endedOf(o, lane),
    ) as [number, number, number];
    return {
      lane: ServerViewLaneKey.parse(lane),
      succeeded,
      failed,
      cancelled,
      successRate: rate(succeeded, failed),
      queue: percentiles(queue, lane, 'queue'),
      latency: percentiles(latency, lane, 'latency'),
    };
  });

  const queuedNow = sum(queued ?? []);
  const succeeded = endedOf('succeeded');
  const failed = endedOf('failed');
  const attemptsOf = (outcome: string) => sum(attempts ?? [], (l) => l.outcome === outcome);
  const wireOn = registry.getSingleMetric('transport_lab_wire_open_connections') !== undefined;
  return {
    at: now,
    startedAt,
    window,
    tasks: {
      queued: queuedNow,
      // The engine's count holds its queued tasks too.
      running: Math.max(0, sum(running ?? []) - queuedNow),
      succeeded,
      failed,
      cancelled: endedOf('cancelled'),
      successRate: rate(succeeded, failed),
    },
    lanes,
    connections: {
      byLane: wireOn
        ? (open ?? []).flatMap(({ labels, value }) => {
            const lane = LaneId.safeParse(labels.lane);
            const channel = labels.channel;
            return lane.success && (channel === 'page' || channel === 'receiverToPage')
              ? [{ lane: lane.data, channel, open: value }]
              : [];
          })
        : null,
      sockets: (sockets ?? []).map(({ labels, value }) => ({
        namespace: String(labels.namespace),
        open: value,
      })),
    },
    webhooks: {
      attempts: {
        delivered: attemptsOf('delivered'),
        retry: attemptsOf('retry'),
        'gave-up': attemptsOf('gave-up'),
        disabled: attemptsOf('disabled'),
      },
      pending: sum(pending ?? []),
      inFlight: sum(inFlight ?? []),
    },
  };
}

/**
 * `GET /api/server-view`: built when asked, and the same view served to every request within
 * SERVER_VIEW_MAX_AGE_MS of its build (a hall of pages asking once a second costs one build a
 * second); concurrent requests share one build.
 */
export function registerServerView(
  router: Router,
  {
    registry,
    startedAt,
    window,
    now = epochNow,
  }: { registry: Registry; startedAt: number; window: number; now?: () => number },
): void {
  let latest: { view: Promise<ServerView>; builtAt: number } | undefined;
  router.get(API_PATHS.serverView, async (_req, res) => {
    const at = now();
    if (!latest || at - latest.builtAt >= SERVER_VIEW_MAX_AGE_MS) {
      const view = buildServerView(registry, { startedAt, window, now: at });
      latest = { view, builtAt: at };
      // A failed build is not kept: the next request builds again.
      view.catch(() => {
        if (latest?.view === view) latest = undefined;
      });
    }
    const view = await latest.view;
    res.setHeader('Cache-Control', 'no-store');
    res.json(view satisfies ServerView);
  });
}
