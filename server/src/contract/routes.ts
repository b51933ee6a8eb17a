import { API_PATHS } from '@transport-lab/shared';
import { Router } from 'express';
import type { ServerLane } from '../transports/lane.ts';
import { asyncApiDocument } from './asyncapi.ts';
import { openApiDocument } from './openapi.ts';

/** `GET /api/openapi.json` and `GET /api/asyncapi.json`: the contract, for tools and clients. Built
 *  once from the schemas and the lanes' own descriptions; public (it says nothing a reader of the source could not), with no lane tag. */
export function contractRoutes(lanes: readonly ServerLane[]): Router {
  const router = Router();
  router.get(API_PATHS.openapi, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.json(openApiDocument(lanes));
  });
  router.get(API_PATHS.asyncapi, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.json(asyncApiDocument());
  });
  return router;
}
