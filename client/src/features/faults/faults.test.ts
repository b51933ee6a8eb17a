import { type FaultRecord, OPERATOR, RaceExport } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { fetchFaults, injectFault } from '../../services/faults-api.ts';
import { createAppStore } from '../../store/index.ts';
import { raceExport } from '../../store/race-view.ts';
import { createRegistry } from '../../transports/registry.ts';
import type { TransportClient } from '../../transports/types.ts';

const RUN = 'run_0123456789abcdef';

function record(id: string, at: number, summary = `fault ${id}`): FaultRecord {
  return { id, fault: { kind: 'slow-downstream', runId: RUN, stallMs: 100 }, at, affected: 1, summary };
}

/** A store whose one lane never ends on its own, and whose race tag is RUN. */
function racing() {
  const lane: TransportClient = {
    id: 'websocket',
    run: () => ({ done: new Promise(() => undefined), cancel: () => undefined }),
  };
  const store = createAppStore({
    registry: createRegistry([lane]),
    now: () => 1_000,
    schedule: () => undefined,
    sampleClock: async () => ({ t0: 0, t1: 0, t2: 0, t3: 0 }),
    newRunId: () => RUN,
  });
  store.getState().setLaneSelected('websocket', true);
  store.getState().startRace(1_000);
  return store;
}

describe('recordFault', () => {
  it('keeps each fault of this race once, in the log, announced, and in the export oldest first', () => {
    const store = racing();
    let changes = 0;
    store.getState().subscribeRaceLog(() => {
      changes += 1;
    });
    store.getState().recordFault(RUN, record('b', 2_000, 'Downstream stalled.'), 1_050);
    store.getState().recordFault(RUN, record('a', 1_500), 1_060);
    store.getState().recordFault(RUN, record('b', 2_000), 1_070); // the run's list again: known
    store.getState().recordFault('run_someone_elses_race', record('c', 1_600), 1_080);

    const log = store.getState().raceLog();
    expect(log.faults.map((f) => [f.record.id, f.receivedAt])).toEqual([
      ['b', 1_050],
      ['a', 1_060],
    ]);
    expect(changes).toBe(2);
    expect(store.getState().race.announcements.map((a) => a.text)).toEqual([
      'Fault injected: Downstream stalled.',
      'Fault injected: fault a',
    ]);
    const exported = RaceExport.parse(raceExport(store.getState(), log, 3_000));
    expect(exported.faults?.map((f) => f.id)).toEqual(['a', 'b']);
  });

  it('leaves `faults` out of the export of a race without any', () => {
    const store = racing();
    const exported = raceExport(store.getState(), store.getState().raceLog(), 3_000);
    expect(exported && 'faults' in exported).toBe(false);
  });
});

describe('the fault requests', () => {
  it('are the lab’s observation: no cookies, never cached, untagged; a 201 is the record', async () => {
    const calls: Array<[string, RequestInit | undefined]> = [];
    const fetchImpl = (async (input: string, init?: RequestInit) => {
      calls.push([input, init]);
      return new Response(JSON.stringify({ fault: record('x', 5) }), { status: 201 });
    }) as typeof fetch;
    const fault = { kind: 'restart-server', runId: RUN } as const;
    expect(await injectFault(fault, fetchImpl)).toEqual(record('x', 5));
    const [path, init] = calls[0] ?? [];
    expect(path).toBe('/api/faults');
    expect(init).toMatchObject({
      method: 'POST',
      credentials: 'omit',
      cache: 'no-store',
      body: JSON.stringify(fault),
    });
    expect(new Headers(init?.headers).has('x-lab-run')).toBe(false);
  });

  it('carry the operator token of the presenter’s link as a Bearer credential, when this tab has one', async () => {
    const token = 'Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC10b2tlbg';
    sessionStorage.setItem(OPERATOR.storageKey, token);
    try {
      let sent: RequestInit | undefined;
      const fetchImpl = (async (_input: string, init: RequestInit) => {
        sent = init;
        return new Response(JSON.stringify({ fault: record('z', 9) }), { status: 201 });
      }) as typeof fetch;
      await injectFault({ kind: 'restart-server' }, fetchImpl);
      expect(new Headers(sent?.headers).get('authorization')).toBe(`Bearer ${token}`);
    } finally {
      sessionStorage.removeItem(OPERATOR.storageKey);
    }
  });

  it('say why the server refused, from its envelope', async () => {
    const fetchImpl = (async () =>
      new Response(
        JSON.stringify({
          error: { code: 'FORBIDDEN', message: 'Fault injection is turned off on this server (FAULTS=off).' },
        }),
        { status: 403 },
      )) as typeof fetch;
    await expect(injectFault({ kind: 'restart-server' }, fetchImpl)).rejects.toThrow(
      'Fault injection is turned off on this server (FAULTS=off). (403 FORBIDDEN)',
    );
  });

  it('read the run’s list with the run id in the query', async () => {
    let asked = '';
    const fetchImpl = (async (input: string) => {
      asked = input;
      return new Response(JSON.stringify({ faults: [record('y', 7)] }), { status: 200 });
    }) as typeof fetch;
    expect(await fetchFaults(RUN, fetchImpl)).toEqual([record('y', 7)]);
    expect(asked).toBe(`/api/faults?runId=${RUN}`);
  });
});
