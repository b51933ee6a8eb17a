import express, { Router } from 'express';
import { describe, expect, it } from 'vitest';
import { listRoutes } from './routeList.ts';

describe('listRoutes', () => {
  it('lists the routes of the app and of the routers mounted at its root, each method apart', () => {
    const app = express();
    const inner = Router();
    inner.get('/api/things/:id', (_req, res) => res.end());
    inner
      .route('/api/things')
      .get((_req, res) => res.end())
      .post((_req, res) => res.end());
    const outer = Router();
    outer.use(inner);
    app.use(express.json());
    app.use(outer);
    app.get('/healthz', (_req, res) => res.end());
    expect(listRoutes(app)).toEqual([
      { method: 'get', path: '/api/things/:id' },
      { method: 'get', path: '/api/things' },
      { method: 'post', path: '/api/things' },
      { method: 'get', path: '/healthz' },
    ]);
  });

  it('refuses a router mounted under a path rather than list its routes without their prefix', () => {
    const app = express();
    const inner = Router();
    inner.get('/things', (_req, res) => res.end());
    app.use('/api', inner);
    expect(() => listRoutes(app)).toThrow(/mounted under a path/);
  });
});
