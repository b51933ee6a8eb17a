import {
  isTerminalEvent,
  LANE_IDS,
  type LaneId,
  type TaskEvent,
  type TaskSpec,
  type WireCounts,
} from '@transport-lab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { laneRoutes } from '../src/http/wireReport.ts';
import { loadServerLanes, SERVER_LANES, type ServerLane } from '../src/transports/index.ts';
import { startTestServer, streamBreaches, type TestServer } from './harness.ts';
import { type LaneDriver, laneDrivers, type Seen } from './laneDrivers.ts';
import { newRunId, settledReport } from './wireHarness.ts';

/**
 * One contract over every lane the server serves (server/src/transports/index.ts), each driven by
 * its own client (laneDrivers.ts), on one real server: it starts a task and sees every event once,
 * in order, the terminal one last; a failing step is reported; cancelling ends the task; where the
 * lane promises it, a dropped connection resumes without losing an event; and the server's wire
 * ledger counts what the client did. A lane gets these tests by being in the list and having a
 * driver. What is particular to one lane (ETags, Prefer, idempotency, the relay's CORS…) stays in
 * that lane's own suites.
 */

let server: TestServer;
const drivers = laneDrivers(() => server);

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.close();
});

const RUN: TaskSpec = { durationMs: 300, steps: 6, resultBytes: 100 };
const FAIL: TaskSpec = { durationMs: 100, steps: 5, failAtStep: 3 };
const CANCEL: TaskSpec = { durationMs: 5_000, steps: 50 };
const RESUME: TaskSpec = { durationMs: 800, steps: 8 };
/** Queued, started and the first step have arrived when the connection drops. */
const DROP_AFTER = 3;

const tagFor = (lane: LaneId) => ({ lane, runId: newRunId() });

/** Each seq once, in seq order: what a client's seq orderer applies of what arrived. */
function appliedBySeq(events: TaskEvent[]): TaskEvent[] {
  const bySeq = new Map(events.map((event) => [event.seq, event]));
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/**
 * What the client saw is the task as the server stored it: every event once and in order (where it
 * sees events; `repeats`: a repeat is allowed, and must be a true copy), or the final state.
 */
async function expectWhole(driver: LaneDriver, seen: Seen, spec: TaskSpec, repeats = false): Promise<void> {
  const stored = await server.app.engine.eventsAfter(seen.taskId, 0);
  expect(streamBreaches(stored, spec.steps)).toEqual([]);
  if (driver.sees === 'state') {
    expect(seen.events).toEqual([]);
    expect(seen.final).toEqual(await server.app.engine.getOrThrow(seen.taskId));
    return;
  }
  if (!repeats) {
    expect(seen.events).toEqual(stored);
    return;
  }
  expect(appliedBySeq(seen.events)).toEqual(stored);
  for (const event of seen.events) expect(event).toEqual(stored[event.seq - 1]);
}

/** JSON bytes of what the client received as data: at least that much came down the wire. */
const dataBytes = (seen: Seen) =>
  seen.events.length > 0
    ? seen.events.reduce((sum, event) => sum + Buffer.byteLength(JSON.stringify(event)), 0)
    : Buffer.byteLength(JSON.stringify(seen.final));

it('serves every lane of the shared list once, in its order, and has a driver for each', () => {
  expect(SERVER_LANES.map((lane) => lane.id)).toEqual([...LANE_IDS]);
  for (const id of LANE_IDS) expect(drivers[id]).toBeDefined();
});

it('loads each lane from its folder by its shared id, and names the folder a missing lane lacks', async () => {
  expect((await loadServerLanes(['sse'])).map((lane) => lane.id)).toEqual(['sse']);
  await expect(loadServerLanes(['no-such-lane' as LaneId])).rejects.toThrow(
    "lane 'no-such-lane' is in the shared LANE_IDS but server/src/transports/no-such-lane/index.ts does not load",
  );
});

describe.each(SERVER_LANES.map((lane) => [lane.id, lane] as const))('the %s lane', (id, lane: ServerLane) => {
  const driver = drivers[id];
  const sees =
    driver.sees === 'events'
      ? 'every event once, in seq order, the terminal one last'
      : 'its final state, and the server’s log of it is whole';

  it(`starts a task as its client does and follows it to its end: ${sees}`, async () => {
    const seen = await driver.run(RUN, tagFor(id));
    expect(seen.final.status).toBe('succeeded');
    expect(seen.final.result?.payload).toHaveLength(100);
    if (driver.sees === 'events') expect(seen.events.at(-1)?.type).toBe('succeeded');
    await expectWhole(driver, seen, RUN);
    const stored = await server.app.engine.eventsAfter(seen.taskId, 0);
    const [started, finished] = [stored[1], stored.at(-1)];
    // The state says how fresh it is: the time of its newest event.
    expect(seen.final.updatedAt).toBe(finished?.at);
    // The task runs in real time whatever the lane: it cannot end before its duration has passed.
    expect((finished?.at ?? 0) - (started?.at ?? 0)).toBeGreaterThanOrEqual(RUN.durationMs);
  });

  it('reports a failing step: the task ends failed with STEP_FAILED, after the steps before it', async () => {
    const seen = await driver.run(FAIL, tagFor(id));
    expect(seen.final.status).toBe('failed');
    expect(seen.final.error?.code).toBe('STEP_FAILED');
    if (driver.sees === 'events') {
      expect(seen.events.filter((e) => e.type === 'progress').map((e) => e.step)).toEqual([1, 2]);
      expect(seen.events.filter(isTerminalEvent).map((e) => e.type)).toEqual(['failed']);
    }
    await expectWhole(driver, seen, FAIL);
  });

  it(`cancels (${driver.cancel.how}): the task stops before its last step and ends cancelled, once`, async () => {
    const seen = await driver.cancel.run(CANCEL, tagFor(id));
    expect(seen.final.status).toBe('cancelled');
    expect(seen.final.step).toBeLessThan(CANCEL.steps);
    if (driver.sees === 'events') {
      expect(seen.events.filter(isTerminalEvent).map((e) => e.type)).toEqual(['cancelled']);
    }
    await expectWhole(driver, seen, CANCEL);
  });

  it('refuses an invalid spec at its edge with the VALIDATION_FAILED envelope naming the fields', async () => {
    const { error, status } = await driver.reject({ durationMs: 200_000, steps: 0 });
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/durationMs/);
    expect(error.message).toMatch(/steps/);
    if (status !== undefined) expect(status).toBe(400);
  });

  const { resume } = driver;
  if (resume) {
    it(`resumes after its connection drops (${resume.how}): no event lost${resume.repeats ? ', repeats dropped by seq' : ' or repeated'}`, async () => {
      const seen = await resume.run(RESUME, tagFor(id), DROP_AFTER);
      expect(seen.final.status).toBe('succeeded');
      // The drop did happen: the client opened its follow twice.
      expect(seen.requests.length + seen.relayStreams).toBeGreaterThanOrEqual(2);
      await expectWhole(driver, seen, RESUME, resume.repeats);
    });
  }

  it('is counted by the server’s wire ledger as its client made it: each request once, within the lane’s declared routes, bytes both ways', async () => {
    const tag = tagFor(id);
    const seen = await driver.run(RUN, tag);
    const report = await settledReport(server.baseUrl, tag.runId);
    const counts = report.lanes[id] as WireCounts;
    expect(counts).toBeDefined();
    // Every request the client made is one its lane declares (ServerLane.counted, or socket.io).
    const declared = laneRoutes([lane], server.app.io.path());
    for (const request of seen.requests)
      expect(declared(request.method, request.path), request.path).toBe(true);
    expect(counts.requests).toBeGreaterThanOrEqual(1);
    expect(counts.requests).toBe(seen.requests.length);
    expect(counts.bytesUp).toBeGreaterThan(0);
    expect(counts.bytesDown).toBeGreaterThan(0);
    expect(counts.receiverToPage.requests).toBe(seen.relayStreams);
    const down = seen.relayStreams > 0 ? counts.receiverToPage.bytesDown : counts.bytesDown;
    expect(down).toBeGreaterThanOrEqual(dataBytes(seen));
    if (seen.relayStreams > 0) {
      // The webhook's own hop: one delivery attempt at least per event relayed.
      expect(counts.serverToReceiver.requests).toBeGreaterThanOrEqual(seen.events.length);
    }
  });
});
