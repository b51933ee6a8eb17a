import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { connect, type NetConnectOpts } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type LinkResponse,
  NETWORK_LINK_COOKIE,
  NETWORK_PATHS,
  NETWORK_PRESETS,
  SetLinkRequest,
} from '@transport-lab/shared';
import type { RequestHandler, Router } from 'express';
import { clientLimitError, clientOf, peerOf } from '../access/index.ts';
import { AppError, parseOrThrow } from '../errors.ts';
import { attachIntake, type Intake } from './intake.ts';
import { type Link, LinkRegistry, linkIdFromCookies } from './links.ts';
import { ShapedSocket } from './shapedSocket.ts';
import { type ShaperClock, systemClock } from './shaper.ts';

export { ShapedSocket } from './shapedSocket.ts';
export { LinkShaper, ShapedPipe, type ShaperClock } from './shaper.ts';

/** Tasks remembered with the link that created them (for their webhook attempts), oldest first out. */
export const MAX_LINKED_TASKS = 10_000;

/** What node:http's `createConnection` option takes: returns the attempt's socket. */
export type CreateConnection = (options: NetConnectOpts) => Duplex;

export interface Network {
  /** `PUT`/`GET /api/network/link`. */
  registerRoutes(router: Router): void;
  /** Shapes a listening server's connections by their `lab-link` cookie (the app's and the
   *  receiver's). Call after every other `connection` listener is in place (node:http's own). */
  attach(server: HttpServer): void;
  /** Remembers the link of the request that created a task, for the server's own traffic for it. */
  tagTask(taskId: string, req: IncomingMessage): void;
  /** For a webhook attempt of this task: a connection factory shaped by the task's link, or
   *  undefined (no link, or one that shapes nothing: node:http connects as usual). */
  attemptConnection(taskId: string): CreateConnection | undefined;
  /**
   * Before the page itself is served: a browser without a known link gets one that shapes nothing,
   * and this answer's connection closes after it. From then on every connection the browser opens
   * carries the cookie from its first byte, so when it chooses conditions every one of its earlier
   * connections can be closed; a connection opened before it had any cookie could not be told from
   * anyone else's, and a lane reusing it would go unshaped.
   */
  pageLoad: RequestHandler;
  /** Closes every shaped connection and forgets every link. */
  close(): void;
}

export interface NetworkDeps {
  /** `off`: no intake on any listener, `PUT` answers 503 `UNAVAILABLE`, nothing is shaped. */
  enabled: boolean;
  /** MAX_NETWORK_LINKS_PER_CLIENT: links one client (address; this machine exempt) may hold. */
  maxLinksPerClient: number;
  /** NETWORK_LINK_PREFIX: what every new link id starts with (the instance's name in a cluster). */
  linkPrefix?: string;
  clock?: ShaperClock;
}

const noneResponse = (): LinkResponse => ({
  linkId: null,
  preset: null,
  profile: NETWORK_PRESETS.none.profile,
});

/**
 * Network conditions (issue 5, item 1): a link per browser, chosen by `PUT /api/network/link` and
 * named by the `lab-link` cookie, applied to every connection that browser opens, at the socket,
 * both ways. See server/src/network/README.md.
 */
export function createNetwork({
  enabled,
  maxLinksPerClient,
  linkPrefix = '',
  clock = systemClock,
}: NetworkDeps): Network {
  const links = new LinkRegistry(clock, undefined, undefined, maxLinksPerClient, linkPrefix);
  const intakes: Intake[] = [];
  const taskLinks = new Map<string, string>();

  const linkOfSocket = (socket: Duplex): Link | undefined => {
    for (const intake of intakes) {
      const link = intake.linkOf(socket);
      if (link) return link;
    }
    return undefined;
  };

  const describe = (link: Link): LinkResponse => ({
    linkId: link.id,
    preset: link.preset,
    profile: link.profile,
  });

  return {
    registerRoutes(router) {
      router.get(NETWORK_PATHS.link, (req, res) => {
        res.setHeader('Cache-Control', 'no-store');
        // A cookie naming a link this server does not know is adopted as one that shapes nothing, as
        // the connection intake does: the answer says what this browser's connections get.
        const id = linkIdFromCookies(req.headers.cookie);
        const link = id === undefined ? undefined : links.adopt(id, clientOf(peerOf(req)));
        res.json(link ? describe(link) : noneResponse());
      });
      router.put(NETWORK_PATHS.link, (req, res) => {
        if (!enabled) {
          throw new AppError('UNAVAILABLE', 'Network shaping is off on this server (NETWORK_SHAPING=off).');
        }
        const choice = parseOrThrow(SetLinkRequest, req.body, 'link');
        const client = clientOf(peerOf(req));
        const previous = linkIdFromCookies(req.headers.cookie);
        // A browser's new choice replaces its link; a client holding its share makes no more.
        if (client !== undefined && !links.admits(client, previous))
          throw clientLimitError(
            'network-links',
            maxLinksPerClient,
            Math.ceil(links.msUntilFreed(client) / 1_000),
          );
        const link =
          'preset' in choice
            ? links.create(choice.preset, NETWORK_PRESETS[choice.preset].profile, client)
            : links.create(null, choice.custom, client);
        // The browser's connections under its previous link are closed, so that none carries on under
        // the old conditions; this answer's own connection closes after it for the same reason.
        if (previous !== undefined) links.retire(previous, req.socket);
        res.setHeader('Set-Cookie', `${NETWORK_LINK_COOKIE}=${link.id}; Path=/; HttpOnly; SameSite=Lax`);
        res.setHeader('Connection', 'close');
        res.setHeader('Cache-Control', 'no-store');
        res.json(describe(link));
      });
    },

    pageLoad(req, res, next) {
      const wantsPage = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
      if (enabled && wantsPage) {
        const id = linkIdFromCookies(req.headers.cookie);
        const client = clientOf(peerOf(req));
        // Past the client's share the page is served without a link, never refused: it shapes
        // nothing until its browser chooses, and that choice says why it cannot.
        if ((id === undefined || links.get(id) === undefined) && links.admits(client)) {
          const link = links.create('none', NETWORK_PRESETS.none.profile, client);
          res.setHeader('Set-Cookie', `${NETWORK_LINK_COOKIE}=${link.id}; Path=/; HttpOnly; SameSite=Lax`);
          res.setHeader('Connection', 'close');
        }
      }
      next();
    },

    attach(server) {
      if (enabled) intakes.push(attachIntake(server, links, clock));
    },

    tagTask(taskId, req) {
      const link = linkOfSocket(req.socket);
      if (!link) return;
      taskLinks.set(taskId, link.id);
      if (taskLinks.size > MAX_LINKED_TASKS) taskLinks.delete(taskLinks.keys().next().value as string);
    },

    attemptConnection(taskId) {
      const id = taskLinks.get(taskId);
      const shaper = id === undefined ? undefined : links.get(id)?.shaper;
      if (!shaper) return undefined;
      return (options) =>
        new ShapedSocket(connect(options), shaper, { role: 'outgoing', openedAt: clock.now() });
    },

    close() {
      for (const intake of intakes) intake.close();
      links.close();
      taskLinks.clear();
    },
  };
}
