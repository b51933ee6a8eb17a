import { API_ROUTES, RunId, type WireReport } from '@transport-lab/shared';
import type { Router } from 'express';
import { AppError, parseOrThrow } from '../errors.ts';
import type { CountedRoute, WireLedger } from '../observability/wireLedger.ts';
import { routesRegex, type ServerLane } from '../transports/lane.ts';

/**
 * The lanes' own routes, the only ones the wire ledger counts: what a lane's client does to start,
 * follow and cancel a task (`ServerLane.counted`), and socket.io (its upgrade and polling requests)
 * for a lane that speaks it. The page's observation requests (`/api/wire`, `/api/time`,
 * `/api/settings`, `/deliveries`, `/metrics`, `/healthz`, the page itself) are in no lane's list,
 * and are never counted, tagged or not.
 */
export function laneRoutes(lanes: readonly ServerLane[], socketIoPath: string): CountedRoute {
  // One alternation per method, so that a request costs one regular expression, not one per route.
  const routes = new Map<string, RegExp>();
  for (const method of new Set(lanes.flatMap((lane) => lane.counted.map((r) => r.method)))) {
    const patterns = lanes.flatMap((lane) => lane.counted.filter((r) => r.method === method));
    routes.set(method, routesRegex(patterns.map((r) => r.route)));
  }
  const socketIo = socketIoPath.endsWith('/') ? socketIoPath : `${socketIoPath}/`;
  const countsSocketIo = lanes.some((lane) => lane.socketIo);
  return (method, path) =>
    (countsSocketIo && path.startsWith(socketIo)) || (routes.get(method)?.test(path) ?? false);
}

/** `GET /api/wire/{runId}`: the server's count of one run's traffic per lane. */
export function registerWireReport({ router, wire }: { router: Router; wire: WireLedger }): void {
  router.get(API_ROUTES.wire, (req, res) => {
    const runId = parseOrThrow(RunId, req.params.runId, 'run id');
    const report = wire.report(runId);
    if (!report) {
      throw new AppError(
        'NOT_FOUND',
        `No lane traffic tagged with run ${runId} was counted, or the run expired after an hour without traffic.`,
      );
    }
    res.setHeader('Cache-Control', 'no-store');
    res.json(report satisfies WireReport);
  });
}
