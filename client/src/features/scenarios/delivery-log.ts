import type { DeliveriesResponse } from '@transport-lab/shared';

/** How long the webhook delivery log may take to show every delivery's end, ms, and how often to ask. */
export const DELIVERY_LOG_WAIT_MS = 5_000;
export const DELIVERY_LOG_EVERY_MS = 250;

const ended = (log: DeliveriesResponse | undefined): log is DeliveriesResponse =>
  log !== undefined && log.deliveries.length > 0 && log.deliveries.every((d) => d.state !== 'pending');

/**
 * The webhook lane's delivery log, read until it shows every delivery's end (or for
 * `DELIVERY_LOG_WAIT_MS`): the lane stops reading it a moment after its last relay, and on a loaded
 * machine the dispatcher may log the last attempt later than that (one run of the scenario loop read
 * three refusals and no success, with every event on the page). A read that fails keeps the last log.
 */
export async function settledDeliveries(
  read: () => Promise<DeliveriesResponse | undefined>,
  wait: (ms: number) => Promise<void>,
  known: DeliveriesResponse | undefined,
): Promise<DeliveriesResponse | undefined> {
  let log = known;
  for (let waited = 0; !ended(log) && waited <= DELIVERY_LOG_WAIT_MS; waited += DELIVERY_LOG_EVERY_MS) {
    log = (await read()) ?? log;
    if (!ended(log)) await wait(DELIVERY_LOG_EVERY_MS);
  }
  return log;
}
