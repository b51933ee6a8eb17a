import { createServer, IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Express } from 'express';

/**
 * node:http's server for an express app, whose requests and answers are made with express's
 * prototypes from the start.
 *
 * express's `app.handle` gives every request and response its own prototypes with
 * `Object.setPrototypeOf` (express 5, lib/application.js). Changing an object's prototype after it was
 * built makes V8 give it a fresh hidden class, so every property access on either object (node:http's
 * own included: headers, writeHead, end) misses its inline caches for the rest of the request. That
 * swap was most of express's cost: a one-route express app answered a GET in 62–69 µs of CPU against
 * node:http's 15 µs, and in 19–21 µs once node:http made the objects with express's prototypes
 * (this machine, 15 000 keep-alive GETs; docs/benchmarks.md, "Capacity"). node:http's
 * `IncomingMessage` and `ServerResponse` options choose the classes it makes them with; here they are
 * subclasses of node's whose prototypes are placed in front of express's (so `req.app`, `res.json`
 * and the rest resolve as before) and become the app's own `request`/`response`, so that express's
 * `setPrototypeOf` finds the prototype it sets already there and changes nothing. socket.io, the
 * wire ledger and the network intake see the same objects: node's classes, with express's methods.
 */
export function createExpressHttpServer(app: Express): Server {
  class ExpressRequest extends IncomingMessage {}
  Object.setPrototypeOf(ExpressRequest.prototype, app.request);
  class ExpressResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {}
  Object.setPrototypeOf(ExpressResponse.prototype, app.response);
  // express reads these in app.handle: the prototypes its requests and answers should have.
  app.request = ExpressRequest.prototype as unknown as Express['request'];
  app.response = ExpressResponse.prototype as unknown as Express['response'];
  return createServer({ IncomingMessage: ExpressRequest, ServerResponse: ExpressResponse }, app);
}
