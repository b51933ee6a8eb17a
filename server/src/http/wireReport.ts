import { API_PATHS, API_ROUTES, RunId, type WireReport } from '@transport-lab/shared';
import type { Router } from 'express';
import { AppError, parseOrThrow } from '../errors.ts';
import type { CountedRoute, WireLedger } from '../observability/wireLedger.ts';

/** An express route pattern (`/api/tasks/:id`) as an exact-match regular expression. */
function routeRegex(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/:[A-Za-z]+/g, '[^/]+')}$`);
}

/**
 * The lanes' own routes, the only ones the wire ledger counts: what a lane does to start, follow
 * and cancel a task, and socket.io (its upgrade and polling requests). The page's observation
 * requests (`/api/wire`, `/api/time`, `/api/settings`, `/deliveries`, `/metrics`, `/healthz`, the
 * page itself) are the page's, not a lane's, and are never counted, tagged or not.
 */
export function laneRoutes(socketIoPath: string): CountedRoute {
  // One alternation per method, so that a request costs one regular expression, not six.
  const byMethod = (method: 'GET' | 'POST', patterns: string[]) =>
    [
      method,
      new RegExp(`^(?:${patterns.map((p) => routeRegex(p).source.slice(1, -1)).join('|')})$`),
    ] as const;
  const routes = new Map<string, RegExp>([
    byMethod('POST', [API_PATHS.run, API_PATHS.tasks, API_ROUTES.cancel]),
    byMethod('GET', [API_ROUTES.task, API_ROUTES.events, API_ROUTES.stream]),
  ]);
  const socketIo = socketIoPath.endsWith('/') ? socketIoPath : `${socketIoPath}/`;
  return (method, path) => path.startsWith(socketIo) || (routes.get(method)?.test(path) ?? false);
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
