import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LAB_TAGS, type LabTag, labTagHeaders } from '@transport-lab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createWireLedger,
  TOUCH_REORDER_MS,
  tagOf,
  type WireLedger,
  type WireLedgerOptions,
  withoutLabTags,
} from './wireLedger.ts';

const request = (headers: Record<string, string>, url = '/api/tasks') =>
  ({ headers, url }) as unknown as IncomingMessage;

describe('tagOf', () => {
  const tag: LabTag = { lane: 'sse', runId: 'run_12345678' };

  it('reads the header pair, else the query pair', () => {
    expect(tagOf(request(labTagHeaders(tag)))).toEqual(tag);
    expect(tagOf(request({}, `/api/tasks/x/stream?after=0&labLane=sse&labRun=${tag.runId}`))).toEqual(tag);
  });

  it.each([
    ['an unknown lane', request({ [LAB_TAGS.laneHeader]: 'telegraph', [LAB_TAGS.runHeader]: tag.runId })],
    ['a run id under 8 characters', request({ [LAB_TAGS.laneHeader]: 'sse', [LAB_TAGS.runHeader]: 'run_1' })],
    [
      'a run id with a slash',
      request({ [LAB_TAGS.laneHeader]: 'sse', [LAB_TAGS.runHeader]: 'run_1234/5678' }),
    ],
    ['a lane header without its run', request({ [LAB_TAGS.laneHeader]: 'sse' })],
    // A header half present decides: the query is not read then.
    [
      'a header half and a full query',
      request({ [LAB_TAGS.runHeader]: tag.runId }, `/x?labLane=sse&labRun=${tag.runId}`),
    ],
    ['a repeated query parameter', request({}, `/x?labLane=sse&labLane=hybrid&labRun=${tag.runId}`)],
    ['no tag at all', request({}, '/x?after=3')],
  ])('finds no tag in %s', (_what, req) => {
    expect(tagOf(req)).toBeUndefined();
  });

  it('judges a tag the same the second time as the first (tags are remembered once judged)', () => {
    const bad = request({ [LAB_TAGS.laneHeader]: 'telegraph', [LAB_TAGS.runHeader]: tag.runId });
    expect(tagOf(bad)).toBeUndefined();
    expect(tagOf(bad)).toBeUndefined();
    expect(tagOf(request(labTagHeaders(tag)))).toEqual(tag);
    expect(tagOf(request(labTagHeaders(tag)))).toEqual(tag);
    // Many distinct runs past the memory's bound: still judged right after it is cleared.
    for (let i = 0; i < 5_000; i++) tagOf(request(labTagHeaders({ lane: 'sse', runId: `run_${i}_padding` })));
    expect(tagOf(bad)).toBeUndefined();
    expect(tagOf(request(labTagHeaders(tag)))).toEqual(tag);
  });

  it('strips the tags from a query and keeps the rest', () => {
    expect(withoutLabTags({ after: '3', labLane: 'sse', labRun: tag.runId })).toEqual({ after: '3' });
  });
});

/** A ledger on a real HTTP server whose every route counts; `/hold` answers only when released. */
async function counted(options: WireLedgerOptions) {
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    if (req.url === '/hold') held.push(res);
    else res.end('ok');
  });
  const ledger: WireLedger = createWireLedger(options);
  ledger.attach(server, 'page', () => true);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(server);
  return {
    ledger,
    async send(tag: LabTag, path = '/') {
      const res = await fetch(`${origin}${path}`, { headers: labTagHeaders(tag) });
      await res.text();
    },
    /** Resolves once the server holds `count` requests (the ledger saw them begin by then). */
    async holding(count: number) {
      while (held.length < count) await new Promise((resolve) => setImmediate(resolve));
    },
    release() {
      for (const res of held.splice(0)) res.end('late');
    },
  };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe('runs expire', () => {
  it('forgets a run an hour after its last traffic, not before', async () => {
    let now = 0;
    const { ledger, send } = await counted({ now: () => now, runTtlMs: 3_600_000 });
    const tag: LabTag = { lane: 'short-polling', runId: 'run_expires' };
    await send(tag);
    now = 3_000_000;
    await send(tag); // traffic renews the hour
    now = 3_000_000 + 3_600_000;
    expect(ledger.report(tag.runId)?.lanes['short-polling']?.requests).toBe(2);
    now += 1;
    expect(ledger.report(tag.runId)).toBeUndefined();
  });

  it('keeps a run with an open stream however long it is quiet, and counts from its end', async () => {
    let now = 0;
    const lab = await counted({ now: () => now, runTtlMs: 1_000 });
    const tag: LabTag = { lane: 'long-polling', runId: 'run_holding' };
    const held = lab.send(tag, '/hold');
    await lab.holding(1);
    now = 10_000;
    expect(lab.ledger.report(tag.runId)?.openStreams).toBe(1);
    lab.release();
    await held;
    // The answer's bytes are traffic at 10 000: the run lives until 11 000.
    now = 11_000;
    expect(lab.ledger.report(tag.runId)?.openStreams).toBe(0);
    now = 11_001;
    expect(lab.ledger.report(tag.runId)).toBeUndefined();
  });

  it('keeps at most maxRuns, forgetting the least recently active first (to the second)', async () => {
    let now = 0;
    const { ledger, send } = await counted({ now: () => now, maxRuns: 2 });
    const run = (id: string): LabTag => ({ lane: 'sse', runId: `run_${id}_____` });
    await send(run('a'));
    now = TOUCH_REORDER_MS;
    await send(run('b'));
    now = 2 * TOUCH_REORDER_MS;
    await send(run('a')); // a is now more recent than b
    now = 3 * TOUCH_REORDER_MS;
    await send(run('c'));
    expect(ledger.report(run('b').runId)).toBeUndefined();
    expect(ledger.report(run('a').runId)?.lanes.sse?.requests).toBe(2);
    expect(ledger.report(run('c').runId)?.lanes.sse?.requests).toBe(1);
  });
});
