import type { LabTag, TaskEvent, TaskSpec } from '@transport-lab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppHandle } from '../src/app.ts';
import { postFault, websocketLane } from './faultsLanes.ts';
import { startTestServer, streamBreaches, type TestServer } from './harness.ts';
import { newRunId, readWire } from './wireHarness.ts';

// The blackhole-connections fault (faults/blackhole.ts): the websocket stays "connected" on both ends
// while every byte is dropped, until socket.io's heartbeat notices. A short heartbeat keeps the test
// short; the bounds come from it: the last ping the client heard came at most one interval before the
// fault, and it waits interval + timeout after it.
const PING_INTERVAL_MS = 1_000;
const PING_TIMEOUT_MS = 1_000;

function whenProgress(app: AppHandle, step: number): Promise<TaskEvent> {
  return new Promise((resolve) => {
    const off = app.engine.onEvent((event) => {
      if (event.type !== 'progress' || event.step !== step) return;
      off();
      resolve(event);
    });
  });
}

describe('blackhole-connections', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({
      SOCKET_PING_INTERVAL_MS: String(PING_INTERVAL_MS),
      SOCKET_PING_TIMEOUT_MS: String(PING_TIMEOUT_MS),
    });
  });
  // Closing takes about 30 s: the server's end of the dead socket waits for the close frame it sent
  // (`ws`'s closeTimeout) and never hears back, as it would from a peer that is gone.
  afterAll(() => srv.close(), 60_000);

  it('websocket: the socket stays connected while dead, the client’s heartbeat closes it, and it resumes with every event once', async () => {
    const spec: TaskSpec = { durationMs: 6_000, steps: 12 };
    const tag: LabTag = { lane: 'websocket', runId: newRunId() };
    const reached = whenProgress(srv.app, 2);
    const disconnects: Array<{ reason: string; at: number }> = [];
    const lane = websocketLane(srv.baseUrl, tag, spec, (_taskId, socket) => {
      socket.on('disconnect', (reason) => disconnects.push({ reason, at: performance.now() }));
    });
    await reached;
    const record = await postFault(srv.baseUrl, {
      kind: 'blackhole-connections',
      runId: tag.runId,
      lane: 'websocket',
    });
    const blackholedAt = performance.now();
    expect(record.affected).toBe(1);
    expect(record.summary).toContain('went dead');
    const outcome = await lane;
    // Connected when the path died: nothing had closed it before the fault.
    expect(disconnects[0]?.at ?? 0).toBeGreaterThan(blackholedAt);
    // Nothing closed the connection: the client's own heartbeat did (no FIN reached it).
    // (The lane's own disconnect at the task's end follows.)
    expect(disconnects[0]?.reason).toBe('ping timeout');
    const deadMs = (disconnects[0]?.at ?? 0) - blackholedAt;
    console.log(
      `dead for ${Math.round(deadMs)} ms (ping every ${PING_INTERVAL_MS} ms, timeout ${PING_TIMEOUT_MS} ms)`,
    );
    // At least the timeout after the last ping heard (which came before the fault); a loaded machine
    // may fire the timer late, so the upper bound allows a few seconds over interval + timeout.
    expect(deadMs).toBeGreaterThanOrEqual(PING_TIMEOUT_MS - 50);
    expect(deadMs).toBeLessThan(PING_INTERVAL_MS + PING_TIMEOUT_MS + 3_000);
    expect(outcome.connects).toBe(2);
    expect(streamBreaches(outcome.events, spec.steps)).toEqual([]);
    expect(outcome.final.status).toBe('succeeded');
    const wire = (await readWire(srv.baseUrl, tag.runId)).report?.lanes.websocket;
    expect(wire?.connectionsOpened).toBe(2);
  });
});
