import { SCENE_PATHS, STORM, StormRequest } from '@transport-lab/shared';
import type { Router } from 'express';
import { AppError, parseOrThrow } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { createH2Demo, type H2Demo } from './h2.ts';
import { runStorm } from './storm.ts';
import { createStreamDemo } from './streamDemo.ts';

/**
 * Scenes people hit in production (issue 15, item 5) that need the server's help: the reconnect storm
 * (storm.ts) and the six-streams demo stream, on the page's port and on the HTTP/2 port (streamDemo.ts,
 * h2.ts). See README.md beside this file.
 */
export interface Scenes {
  registerRoutes(router: Router): void;
  /** The HTTP/2 demo port, listening only when `H2_PORT` is set. */
  h2: H2Demo;
  /** Listens on the HTTP/2 demo port if `H2_PORT` is set; resolves to its port, or undefined. */
  listenH2(host: string): Promise<number | undefined>;
  close(): Promise<void>;
}

/** A storm takes about 3 s (connect, restart, a 2.5 s window): a second one waits this long, s. */
const STORM_RETRY_AFTER_S = 5;

export function createScenes(logger: Logger, h2Port: number | undefined): Scenes {
  const demo = createStreamDemo();
  const h2 = createH2Demo(demo, logger);
  let storming = false;
  return {
    h2,
    listenH2: async (host) => (h2Port === undefined ? undefined : h2.listen(h2Port, host)),
    registerRoutes(router) {
      router.post(SCENE_PATHS.storm, async (req, res) => {
        const { randomizationFactor } = parseOrThrow(StormRequest, req.body, 'storm request');
        // One storm at a time on the whole server: two child processes and a second or two of CPU.
        if (storming)
          throw new AppError(
            'UNAVAILABLE',
            'A reconnect storm is running; try again in a few seconds.',
            undefined,
            {
              'Retry-After': String(STORM_RETRY_AFTER_S),
            },
          );
        storming = true;
        try {
          const result = await runStorm(randomizationFactor);
          const peak = Math.max(...result.buckets);
          logger.info(
            { randomizationFactor, clients: STORM.clients, reconnected: result.reconnected, peak },
            'reconnect storm',
          );
          res.json(result);
        } finally {
          storming = false;
        }
      });
      router.get(SCENE_PATHS.streamDemo, (req, res) => demo.handle(req, res));
    },
    close: () => h2.close(),
  };
}
