import { once } from 'node:events';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SCENE_PATHS } from '@transport-lab/shared';
import { generate } from 'selfsigned';
import { AppError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { type StreamDemo, sendError } from './streamDemo.ts';

/**
 * The HTTP/2 demo port (`H2_PORT`): h2 over TLS, which is the only HTTP/2 browsers speak, with a
 * certificate made at start for this demo. node:http2's own server (`createSecureServer`, ALPN `h2`,
 * `allowHTTP1` for a client that cannot) answers the demo stream natively through its compatibility
 * API: express 5 cannot take an http2 request, and a proxy in front of the whole app would put every
 * lane behind a second hop that the lab measures. So this port serves the six-streams scene's stream
 * and a page saying what it is (where a person accepts the certificate), nothing else.
 *
 * The certificate: `selfsigned` (pure JavaScript over Node's WebCrypto, no openssl), an EC P-256 key,
 * for localhost, 127.0.0.1 and ::1, valid one day from each start. No browser trusts it: the page says
 * to open this port once and accept it; Playwright's `ignoreHTTPSErrors` does so in the e2e.
 */

/** Every answer of the demo stream may be read by the page on the app's own port, another origin. */
const CORS = { 'access-control-allow-origin': '*' } as const;

const DAY_MS = 86_400_000;

export interface H2Demo {
  /** Listens on `port` (0: a free one) of `host`; resolves to the port. */
  listen(port: number, host: string): Promise<number>;
  /** The port it listens on, once it does. */
  port(): number | undefined;
  close(): Promise<void>;
}

export function createH2Demo(demo: StreamDemo, logger: Logger): H2Demo {
  let server: Http2SecureServer | undefined;
  const connections = new Set<TLSSocket>();
  return {
    async listen(port, host) {
      const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
        keyType: 'ec',
        curve: 'P-256',
        algorithm: 'sha256',
        notAfterDate: new Date(Date.now() + DAY_MS),
        extensions: [
          {
            name: 'subjectAltName',
            altNames: [
              { type: 2, value: 'localhost' },
              { type: 7, ip: '127.0.0.1' },
              { type: 7, ip: '::1' },
            ],
          },
        ],
      });
      server = createSecureServer({ key: pems.private, cert: pems.cert, allowHTTP1: true }, (req, res) => {
        const path = new URL(req.url ?? '/', 'https://demo.invalid').pathname;
        try {
          if (req.method === 'GET' && path === SCENE_PATHS.streamDemo) return demo.handle(req, res, CORS);
          if (req.method === 'GET' && path === '/') {
            res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
            res.end(
              `Transport Lab's HTTP/2 demo port (${req.httpVersion === '2.0' ? 'you came over h2' : `you came over HTTP/${req.httpVersion}`}). ` +
                'If your browser asked, its certificate is now accepted: go back to the lab and run the six-streams scenario again.\n',
            );
            return;
          }
          throw new AppError('NOT_FOUND', 'This port serves the six-streams demo stream only.');
        } catch (error) {
          sendError(res, error, CORS);
        }
      });
      server.on('secureConnection', (socket: TLSSocket) => {
        connections.add(socket);
        socket.on('close', () => connections.delete(socket));
      });
      server.listen({ port, host });
      await once(server, 'listening');
      const bound = (server.address() as AddressInfo).port;
      logger.info({ h2Port: bound }, 'HTTP/2 demo port listening (self-signed certificate)');
      return bound;
    },
    port: () => (server?.listening ? (server.address() as AddressInfo).port : undefined),
    async close() {
      const s = server;
      if (!s?.listening) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        // Held demo streams would keep it open up to their 30 s limit.
        for (const socket of connections) socket.destroy();
      });
    },
  };
}
