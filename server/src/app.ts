import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import { API_PATHS } from '@transport-lab/shared';
import express, { Router } from 'express';
import { Server } from 'socket.io';
import { type Config, staticDirIsBuilt } from './config.ts';
import { apiNotFound, errorHandler, jsonBody, requestLogging, requireJsonBody } from './http/middleware.ts';
import { taskRoutes } from './http/taskRoutes.ts';
import { requestWireBytes } from './http/wireBytes.ts';
import { epochNow } from './observability/clock.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { openStore, type TaskStore } from './store/index.ts';
import { TaskEngine } from './tasks/engine.ts';
import * as requestResponse from './transports/request-response/index.ts';
import type { LabServer } from './transports/websocket/index.ts';
import * as websocket from './transports/websocket/index.ts';

export type { Config } from './config.ts';
export { loadConfig } from './config.ts';
export type { TaskEngine } from './tasks/engine.ts';

export interface AppHandle {
  httpServer: HttpServer;
  io: LabServer;
  engine: TaskEngine;
  store: TaskStore;
  logger: Logger;
  /** Stops accepting, halts task clocks (running tasks stay resumable), closes the store. */
  close(): Promise<void>;
}

/** Builds the whole server without listening: the caller listens (tests on port 0). */
export async function createServer(
  config: Config,
  logger: Logger = createLogger(config.LOG_LEVEL),
): Promise<AppHandle> {
  const startedAt = epochNow();
  const store = openStore(config);
  const engine = new TaskEngine({ store, logger });
  const metrics = createMetrics(engine);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // task resources set their own strong ETags; nothing else is cacheable

  const api = Router();
  api.use(
    requestWireBytes,
    requestLogging(logger),
    metrics.timeRequests,
    requireJsonBody,
    jsonBody(config.BODY_LIMIT_BYTES),
  );
  requestResponse.register({ router: api, engine, syncTimeoutMs: config.SYNC_TIMEOUT_MS });
  api.use(taskRoutes(engine, store.kind, startedAt));
  api.get(API_PATHS.metrics, async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  api.use('/api', apiNotFound);
  api.use(errorHandler(config.BODY_LIMIT_BYTES));
  app.use(api);

  if (staticDirIsBuilt(config)) {
    app.use(express.static(config.STATIC_DIR, { index: false, maxAge: '1h', immutable: false }));
    // Single-page app: every other GET gets the page; its router reads the path.
    app.get('/{*splat}', (_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(join(config.STATIC_DIR, 'index.html'));
    });
  } else {
    logger.warn(
      { staticDir: config.STATIC_DIR },
      'client not built: serving the API only (npm start builds it)',
    );
    app.get('/{*splat}', (_req, res) => {
      res
        .status(503)
        .type('text')
        .send('The client is not built. Run `npm start`, which builds it, or `npm run dev`.');
    });
  }

  const httpServer = createHttpServer(app);
  const io: LabServer = new Server(httpServer, {
    serveClient: false,
    connectionStateRecovery: { maxDisconnectionDuration: config.SOCKET_RECOVERY_MS, skipMiddlewares: true },
  });
  websocket.register({ io, engine, logger });

  const resumed = await engine.recover();
  if (resumed > 0) logger.info({ resumed }, 'resumed tasks that were running before the restart');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await engine.stop();
      await new Promise<void>((resolve) => {
        io.close(() => resolve()); // closes the HTTP server too
        httpServer.closeAllConnections();
      });
      metrics.close();
      await store.close();
    })();
    return closing;
  };

  return { httpServer, io, engine, store, logger, close };
}
