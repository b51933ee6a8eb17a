import { API_ROUTES, DeliveriesResponse, TaskId } from '@transport-lab/shared';
import { clientScope } from '../../access/clientScope.ts';
import { clientOf, peerOf } from '../../access/index.ts';
import { type DescribeRoute, errors, ok, taskIdParams } from '../../contract/describe.ts';
import { parseOrThrow } from '../../errors.ts';
import { ASYNC_TASK_ROUTES, type LaneContext, type ServerLane } from '../lane.ts';

/**
 * The webhook lane. Its client subscribes in `POST /api/tasks` (body `webhook: {url, secret?}`):
 * the subscription is made here, after the task's id exists and before the task does, so that even
 * its `queued` event is delivered. Deliveries (webhooks/: the durable queue, signing, retries, the
 * SSRF guard) go to the receiver, which relays them to the page; that relay stream is counted on the
 * receiver's own listener (app.ts). `GET …/deliveries` is the page's observation of the attempt log:
 * every attempt with its status and duration, and when the next one is due; it is not counted.
 */
export const webhookLane: ServerLane = {
  id: 'webhook',
  counted: ASYNC_TASK_ROUTES,
  register,
  describe,
};

function register({ router, asyncTasks, webhooks }: LaneContext): void {
  asyncTasks.beforeCreate(async (req, id, body) => {
    if (!body.webhook) return undefined;
    // Its deliveries share the attempts as its device's (this machine is one) and its run's (an
    // untagged task's: its address's): webhooks/fairShare.ts.
    const owner = { client: clientOf(peerOf(req)) ?? 'this machine', run: clientScope(req) };
    return { webhook: await webhooks.subscribe(id, body.webhook, owner) };
  });

  router.get(API_ROUTES.deliveries, async (req, res) => {
    const id = parseOrThrow(TaskId, req.params.id, 'task id');
    const log: DeliveriesResponse = await webhooks.deliveries(id);
    res.setHeader('Cache-Control', 'no-store');
    res.json(log);
  });
}

/** The lane's route in the API contract (contract/openapi.ts builds the document from every lane's). */
function describe(route: DescribeRoute): void {
  route({
    method: 'get',
    path: API_ROUTES.deliveries,
    tags: ['tasks', 'webhooks'],
    summary: 'Webhook lane: the task’s delivery attempts',
    request: { params: taskIdParams },
    responses: {
      200: ok('Every delivery and attempt.', DeliveriesResponse),
      ...errors(['VALIDATION_FAILED', 'NOT_FOUND']),
    },
  });
}

export default webhookLane;
