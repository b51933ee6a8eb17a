import type { DeliveriesResponse, Delivery } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { DELIVERY_LOG_EVERY_MS, DELIVERY_LOG_WAIT_MS, settledDeliveries } from './delivery-log.ts';

const log = (state: Delivery['state']): DeliveriesResponse => ({
  taskId: 'task_12345678',
  subscriber: { url: 'http://127.0.0.1:3001/webhooks', disabled: false },
  deliveries: [{ id: 'msg_1', eventSeq: 1, eventType: 'task.queued', state, attempts: [] }],
});

describe('the webhook delivery log, read until every delivery has ended', () => {
  it('reads again while a delivery is pending, and stops at the first log where none is', async () => {
    const answers = [log('pending'), undefined, log('delivered')];
    let reads = 0;
    const waits: number[] = [];
    const settled = await settledDeliveries(
      async () => answers[reads++],
      async (ms) => void waits.push(ms),
      log('pending'),
    );
    expect(settled?.deliveries[0]?.state).toBe('delivered');
    expect(reads).toBe(3);
    expect(waits).toEqual([DELIVERY_LOG_EVERY_MS, DELIVERY_LOG_EVERY_MS]);
  });

  it('does not read when the lane’s own log had ended, and gives up after its wait', async () => {
    let reads = 0;
    await settledDeliveries(
      async () => {
        reads += 1;
        return log('delivered');
      },
      async () => {},
      log('failed'),
    );
    expect(reads).toBe(0);
    const stuck = await settledDeliveries(
      async () => {
        reads += 1;
        return log('pending');
      },
      async () => {},
      undefined,
    );
    expect(stuck?.deliveries[0]?.state).toBe('pending');
    expect(reads).toBe(DELIVERY_LOG_WAIT_MS / DELIVERY_LOG_EVERY_MS + 1);
  });
});
