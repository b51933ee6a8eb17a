import { LANES, MAX_PREFER_WAIT_S } from '@transport-lab/shared';
import { type AsyncDeps, browserAsyncDeps, runAsyncLane } from '../async-task.ts';
import { withTag } from '../http.ts';
import {
  type ClientLane,
  DEFAULT_LANE_SETTINGS,
  type PushFollowers,
  type PushLaneId,
  type TransportClient,
} from '../types.ts';

/** How the card names a push lane in the path taken (else the lane's name, lower-cased). */
const PUSH_NAMES: Partial<Record<PushLaneId, string>> = { sse: 'SSE' };
const pushName = (id: PushLaneId) => PUSH_NAMES[id] ?? LANES[id].name.toLowerCase();

/** RFC 7240: ask for the answer itself if it comes within `waitS` seconds, else for a 202 at once. */
export function preferHeader(waitS: number): string {
  return `respond-async, wait=${Math.min(Math.max(0, Math.floor(waitS)), MAX_PREFER_WAIT_S)}`;
}

/**
 * The hybrid lane: one `POST /api/tasks` with `Prefer: respond-async, wait=N`. A task that ends within
 * N s comes back as the answer itself (200, one request); a longer one answers 202 after N s, and the
 * run goes on with the chosen push lane's follower (SSE by default, or long polling), the very code of
 * those lanes, handed in by registry.ts (`followers`): no lane imports another. The card shows which
 * path the run took.
 */
export function createHybridClient(
  followers: PushFollowers,
  deps: AsyncDeps = browserAsyncDeps,
): TransportClient {
  return {
    id: 'hybrid',
    run(spec, report, options) {
      const settings = options?.settings ?? DEFAULT_LANE_SETTINGS;
      const push = settings.hybridPushLane;
      const prefer = preferHeader(settings.hybridWaitS);
      const tagged = withTag(deps, options);
      if (push === 'sse') {
        report({
          type: 'note',
          text: 'After a 202: an EventSource shows no answer headers, so the stream request’s bytes up are not measured.',
          at: deps.now(),
        });
      }
      return runAsyncLane(tagged, spec, report, {
        prefer,
        creating: `Waiting up to ${settings.hybridWaitS} s for the answer itself…`,
        follow(created) {
          const at = deps.now();
          const detail = created.preferenceApplied
            ? { detail: `Preference-Applied: ${created.preferenceApplied}` }
            : {};
          if (created.kind === 'final') {
            report({
              type: 'path',
              path: { kind: 'answered', text: 'Answered in 1 request', ...detail },
              at,
            });
            return undefined;
          }
          report({
            type: 'path',
            path: { kind: 'pushed', text: `202 → ${pushName(push)}`, ...detail },
            at,
          });
          const follow = followers[push];
          if (follow === undefined) {
            report({
              type: 'error',
              error: {
                code: 'LANE_UNAVAILABLE',
                message: `This page has no ${pushName(push)} lane to follow the task on.`,
                taskId: created.task.id,
                fromServer: false,
              },
              at: deps.now(),
            });
            return undefined;
          }
          return follow(tagged, created.task, report, options);
        },
      });
    },
  };
}

export default {
  id: 'hybrid',
  composes: 'push-followers',
  create: (followers) => createHybridClient(followers),
} satisfies ClientLane;
