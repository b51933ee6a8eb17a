import {
  BOARD_ROUTES,
  BOARD_SSE,
  type BoardChange,
  type BoardChanges as BoardChangesBody,
  BoardChangesQuery,
  BoardEditRequest,
  type BoardEditResponse,
  BoardQuery,
  BoardReportRequest,
  type BoardReportResponse,
  type BoardResponse,
  HTTP_HEADERS,
  RoomCode,
  SSE,
} from '@transport-lab/shared';
import type { Request, Router } from 'express';
import { z } from 'zod';
import { parseOrThrow } from '../errors.ts';
import { matchesIfNoneMatch } from '../http/conditional.ts';
import { openSseSession } from '../http/sseSession.ts';
import { withoutLabTags } from '../observability/wireLedger.ts';
import type { BoardService } from './service.ts';

/**
 * The query's `after` alone, built once: zod 4 compiles each object schema into a parser of its own
 * (`new Function`) on its first parse, so a `.pick()` made per request paid that compilation on every
 * stream opened (≈ 0.4 ms of CPU each, 3 % of a 200-phone hall's start burst).
 */
const AfterQuery = BoardChangesQuery.pick({ after: true });

const LastEventId = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a version')
  .transform(Number);

/** Strong ETag: a board's representation is fully determined by its room and its version. */
export function boardEtag(code: string, version: number): string {
  return `"board.${code}.${version}"`;
}

const codeOf = (req: Request) => parseOrThrow(RoomCode, req.params.code, 'room code');

/**
 * The board's HTTP routes, one per lane pattern the task lanes already use: the resource with an
 * ETag (short polling), the held `changes` request (long polling), an SSE stream resumable by
 * Last-Event-ID, and the two writes (edits, reports). Reads need only the room code, which is what
 * joining needs too; writes need the participant's id and token.
 */
export function registerBoardRoutes({ router, boards }: { router: Router; boards: BoardService }): void {
  router.get(BOARD_ROUTES.board, async (req, res) => {
    const code = codeOf(req);
    const { since } = parseOrThrow(BoardQuery, withoutLabTags(req.query), 'query');
    const board = await boards.board(code);
    const etag = boardEtag(code, board.version);
    res.setHeader(HTTP_HEADERS.etag, etag);
    res.setHeader('Cache-Control', 'no-cache');
    if (matchesIfNoneMatch(req, etag)) {
      res.status(304).end();
      return;
    }
    const times =
      since === undefined
        ? []
        : (await boards.changesAfter(code, since)).changes.map(({ version, at }) => ({ version, at }));
    res.json({ board, times } satisfies BoardResponse);
  });

  router.post(BOARD_ROUTES.edits, async (req, res) => {
    const code = codeOf(req);
    const request = parseOrThrow(BoardEditRequest, req.body, 'board edit');
    const change = await boards.edit(code, request);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ change } satisfies BoardEditResponse);
  });

  router.post(BOARD_ROUTES.reports, async (req, res) => {
    const code = codeOf(req);
    const request = parseOrThrow(BoardReportRequest, req.body, 'board report');
    res.json((await boards.report(code, request)) satisfies BoardReportResponse);
  });

  router.get(BOARD_ROUTES.changes, async (req, res) => {
    const code = codeOf(req);
    const { after, waitMs } = parseOrThrow(BoardChangesQuery, withoutLabTags(req.query), 'query');
    res.setHeader('Cache-Control', 'no-store');
    const held: BoardChange[] = [];
    let answered = false;
    let timer: NodeJS.Timeout | undefined;
    let off: (() => void) | undefined;
    const answer = (body?: BoardChangesBody) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      off?.();
      if (res.writableEnded || res.destroyed) return;
      res.json(
        body ?? ({ changes: held, nextAfter: held.at(-1)?.version ?? after } satisfies BoardChangesBody),
      );
    };
    res.on('close', () => {
      answered = true;
      clearTimeout(timer);
      off?.();
    });
    if (waitMs === 0) {
      answer(await boards.changesAfter(code, after));
      return;
    }
    let flushQueued = false;
    const following = await boards.follow(
      code,
      after,
      (change) => {
        held.push(change);
        // Changes applied in the same turn of the loop go out together.
        if (!flushQueued) {
          flushQueued = true;
          setImmediate(() => answer());
        }
      },
      () => answer(),
    );
    off = following.off;
    if (following.catchUp.snapshot || following.catchUp.changes.length > 0) {
      answer(following.catchUp);
      return;
    }
    if (answered) off();
    else timer = setTimeout(() => answer(), waitMs);
  });

  router.get(BOARD_ROUTES.stream, async (req, res) => {
    const code = codeOf(req);
    const header = req.headers[HTTP_HEADERS.lastEventId];
    const from =
      header !== undefined
        ? parseOrThrow(LastEventId, header, 'Last-Event-ID header')
        : parseOrThrow(AfterQuery, withoutLabTags(req.query), 'query').after;
    await boards.board(code); // 404 before the stream opens, in the envelope
    const session = await openSseSession(req, res, {
      retry: SSE.retryMs,
      keepAlive: SSE.heartbeatMs,
      trustClientEventId: false, // read above, validated
      headers: { 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' },
    });
    const push = (change: BoardChange) => {
      if (session.isConnected) session.push(change, BOARD_SSE.change, String(change.version));
    };
    // The room ending ends the stream; EventSource's reconnect then meets a 404 and stops.
    const following = await boards.follow(code, from, push, () => res.end());
    const { snapshot, changes } = following.catchUp;
    if (snapshot) session.push(snapshot, BOARD_SSE.snapshot, String(snapshot.version));
    for (const change of changes) push(change);
    session.once('disconnected', following.off);
    if (!session.isConnected) following.off();
  });
}
