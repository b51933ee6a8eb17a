import { describe, expect, it } from 'vitest';
import { createFairShare, type DeliveryOwner, type DueDelivery } from './fairShare.ts';

const owner = (client: string, run: string): DeliveryOwner => ({ client, run });

/** `count` tasks of one run, each with a delivery due at `from`, `from + 1`, … */
function backlog(who: DeliveryOwner, count: number, from = 0): DueDelivery[] {
  return Array.from({ length: count }, (_, i) => ({ taskId: `${who.run}/${i}`, due: from + i, owner: who }));
}

const runsOf = (chosen: DueDelivery[]) => chosen.map((d) => d.owner.run);

describe('createFairShare', () => {
  it('bounds one run to its share and gives another run its slot at once, whatever the backlog', () => {
    const share = createFairShare({ maxInFlight: 8, maxInFlightPerRun: 2 });
    const a = owner('phone', 'run:a');
    const b = owner('phone', 'run:b');
    const aBacklog = backlog(a, 40);
    expect(runsOf(share.choose(aBacklog))).toEqual(['run:a', 'run:a']);
    // B's delivery became due after all of A's: it still goes now, A stays at its bound.
    const chosen = share.choose([...aBacklog.slice(2), { taskId: 'b/0', due: 1_000, owner: b }]);
    expect(runsOf(chosen)).toEqual(['run:b']);
    expect(share.inFlight).toBe(3);
    expect(share.inFlightOfRun('run:a')).toBe(2);
  });

  it('with a bound no lower than the total, gives the first slot that frees to the run with none', () => {
    const share = createFairShare({ maxInFlight: 8, maxInFlightPerRun: 8 });
    const a = owner('phone', 'run:a');
    const aBacklog = backlog(a, 40);
    expect(share.choose(aBacklog)).toHaveLength(8);
    const b: DueDelivery = { taskId: 'b/0', due: 1_000, owner: owner('phone', 'run:b') };
    expect(share.choose([...aBacklog.slice(8), b])).toEqual([]); // every slot is held
    share.release(a);
    expect(share.choose([...aBacklog.slice(8), b])).toEqual([b]);
  });

  it('takes the next due delivery of a run in the order they became due', () => {
    const share = createFairShare({ maxInFlight: 8, maxInFlightPerRun: 3 });
    const a = owner('phone', 'run:a');
    const shuffled = [5, 1, 4, 2, 3].map((due) => ({ taskId: `t${due}`, due, owner: a }));
    expect(share.choose(shuffled).map((d) => d.taskId)).toEqual(['t1', 't2', 't3']);
  });

  it('goes round between runs with as many in flight: the least recently served first', () => {
    // One slot in all: each start is a turn.
    const share = createFairShare({ maxInFlight: 1, maxInFlightPerRun: 1 });
    const owners = ['a', 'b', 'c'].map((r) => owner('phone', `run:${r}`));
    // A's backlog became due first, then B's, then C's: by due time alone, A would go ten times.
    const due = owners.flatMap((o, i) => backlog(o, 10, i * 100));
    const served: string[] = [];
    for (let turn = 0; turn < 6; turn++) {
      const [next] = share.choose(due);
      if (!next) throw new Error('nothing chosen');
      served.push(next.owner.run);
      due.splice(due.indexOf(next), 1);
      share.release(next.owner);
    }
    expect(served).toEqual(['run:a', 'run:b', 'run:c', 'run:a', 'run:b', 'run:c']);
  });

  it('shares between devices before runs: a device that mints a run per task does not crowd out another', () => {
    const share = createFairShare({ maxInFlight: 4, maxInFlightPerRun: 2 });
    // Ten runs of one device, each with a delivery due before the other device's.
    const bot = Array.from({ length: 10 }, (_, i) => backlog(owner('bot', `run:bot${i}`), 1, i)).flat();
    const held = share.choose(bot);
    expect(held).toHaveLength(4);
    const phone: DueDelivery = { taskId: 'phone/0', due: 1_000, owner: owner('phone', 'run:phone') };
    const rest = bot.filter((d) => !held.includes(d));
    const [first] = held;
    if (!first) throw new Error('nothing held');
    share.release(first.owner);
    // By runs alone, six of the bot's runs have none in flight and were due earlier.
    expect(share.choose([...rest, phone])).toEqual([phone]);
  });

  it('passes over a run at its bound and fills the slots with the others', () => {
    const share = createFairShare({ maxInFlight: 4, maxInFlightPerRun: 1 });
    const chosen = share.choose([
      ...backlog(owner('x', 'run:a'), 5),
      ...backlog(owner('x', 'run:b'), 5),
      ...backlog(owner('y', 'run:c'), 5),
    ]);
    expect(runsOf(chosen).sort()).toEqual(['run:a', 'run:b', 'run:c']);
    expect(share.inFlight).toBe(3);
  });

  it('counts a released attempt out of its run, its device and the total', () => {
    const share = createFairShare({ maxInFlight: 2, maxInFlightPerRun: 2 });
    const a = owner('phone', 'run:a');
    expect(share.choose(backlog(a, 3))).toHaveLength(2);
    expect(share.choose(backlog(a, 1, 10))).toEqual([]);
    share.release(a);
    share.release(a);
    expect(share.inFlight).toBe(0);
    expect(share.inFlightOfRun('run:a')).toBe(0);
    expect(share.choose(backlog(a, 3, 20))).toHaveLength(2);
  });
});
