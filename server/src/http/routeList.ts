import type { Express } from 'express';

/** One route an express app answers: its method (lower case) and its express path pattern. */
export interface ListedRoute {
  method: string;
  path: string;
}

/** What the router package's Layer and Route expose (express 5: router@2, lib/layer.js, lib/route.js). */
interface Layer {
  name: string;
  /** True for `router.use(fn)` without a path (mounted at the root). */
  slash: boolean;
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

/**
 * Every route the app registers, walking its router and the routers mounted in it. This app mounts
 * every router at the root (app.ts), so a route's own path is its whole path; a router mounted under
 * a path would need its prefix here, and is refused rather than listed wrong.
 */
export function listRoutes(app: Express): ListedRoute[] {
  const routes: ListedRoute[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          for (const method of Object.keys(layer.route.methods)) {
            routes.push({ method: method === '_all' ? 'all' : method, path });
          }
        }
      } else if (layer.name === 'router' && layer.handle.stack) {
        if (!layer.slash) throw new Error('listRoutes: a router mounted under a path; add its prefix here.');
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return routes;
}
