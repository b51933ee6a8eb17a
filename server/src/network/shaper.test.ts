import type { NetworkProfile } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { LinkShaper, ShapedPipe, type ShaperClock } from './shaper.ts';

/** A clock that moves only when told, running due timers in time order. */
class FakeClock implements ShaperClock {
  t = 0;
  private timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  constructor(readonly random: () => number = () => 0.5) {}
  now = () => this.t;
  setTimer(fn: () => void, delayMs: number) {
    const timer = { at: this.t + Math.max(0, delayMs), fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }
  /** Moves to `to`, firing every timer due on the way at its own time. */
  advanceTo(to: number): void {
    for (;;) {
      const due = this.timers
        .filter((timer) => !timer.cancelled && timer.at <= to)
        .sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.cancelled = true;
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = to;
    this.timers = this.timers.filter((timer) => !timer.cancelled);
  }
  get pending(): number {
    return this.timers.filter((timer) => !timer.cancelled).length;
  }
}

interface Delivery {
  at: number;
  bytes: number;
  text: string;
}

function setup(profile: Partial<NetworkProfile>, random?: () => number) {
  const clock = new FakeClock(random);
  const link = new LinkShaper({ latencyMs: 0, jitterMs: 0, ...profile }, clock);
  const pipe = (direction: 'up' | 'down' = 'down', notBefore?: number) => {
    const got: Delivery[] = [];
    const ends: number[] = [];
    const p = new ShapedPipe(
      link,
      direction,
      (data) => {
        if (data === null) ends.push(clock.t);
        else got.push({ at: clock.t, bytes: data.length, text: data.toString() });
      },
      notBefore,
    );
    return { p, got, ends };
  };
  return { clock, link, pipe };
}

describe('ShapedPipe', () => {
  it('delivers each chunk one latency after it was written, not before', () => {
    const { clock, pipe } = setup({ latencyMs: 200 });
    const { p, got } = pipe();
    clock.advanceTo(10);
    p.write(Buffer.from('hello'));
    clock.advanceTo(209);
    expect(got).toEqual([]);
    clock.advanceTo(210);
    expect(got).toEqual([{ at: 210, bytes: 5, text: 'hello' }]);
  });

  it('paces bytes to the rate, delivering progressively: bytes × 8 / kbps ms for the last byte', () => {
    // 80 kbps = 10 bytes per ms: 10 000 bytes take 1 000 ms.
    const { clock, pipe } = setup({ latencyMs: 50, downKbps: 80 });
    const { p, got } = pipe('down');
    p.write(Buffer.alloc(10_000, 1));
    clock.advanceTo(5_000);
    expect(got.reduce((sum, d) => sum + d.bytes, 0)).toBe(10_000);
    expect(got.at(-1)?.at).toBeCloseTo(1_050, 6);
    // Slices of one MSS (1 460 bytes), each as it is serialized: the first after 146 ms + latency.
    expect(got[0]).toMatchObject({ at: 196, bytes: 1_460 });
    expect(got.length).toBe(Math.ceil(10_000 / 1_460));
  });

  it('shares a direction among the link’s connections, as one radio; the other direction is apart', () => {
    const { clock, pipe } = setup({ downKbps: 80, upKbps: 80 });
    const a = pipe('down');
    const b = pipe('down');
    const up = pipe('up');
    a.p.write(Buffer.alloc(5_000));
    b.p.write(Buffer.alloc(5_000));
    up.p.write(Buffer.alloc(5_000));
    clock.advanceTo(5_000);
    expect(a.got.at(-1)?.at).toBeCloseTo(500, 6);
    expect(b.got.at(-1)?.at).toBeCloseTo(1_000, 6);
    expect(up.got.at(-1)?.at).toBeCloseTo(500, 6);
  });

  it('keeps jitter within ± jitterMs and never reorders', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const { clock, pipe } = setup({ latencyMs: 100, jitterMs: 60 }, random);
    const { p, got } = pipe();
    const writtenAt: number[] = [];
    for (let i = 0; i < 200; i++) {
      clock.advanceTo(i * 3);
      writtenAt.push(clock.t);
      p.write(Buffer.from(String(i).padStart(3, '0')));
    }
    clock.advanceTo(10_000);
    expect(got.map((d) => d.text)).toEqual(writtenAt.map((_, i) => String(i).padStart(3, '0')));
    let spread = 0;
    got.forEach((d, i) => {
      const delay = d.at - (writtenAt[i] as number);
      expect(delay).toBeGreaterThanOrEqual(40 - 0.5);
      expect(delay).toBeLessThanOrEqual(160 + 0.5);
      if (i > 0) expect(d.at).toBeGreaterThanOrEqual((got[i - 1] as Delivery).at);
      spread = Math.max(spread, delay);
    });
    // The jitter is there at all: some chunk took well over the mean.
    expect(spread).toBeGreaterThan(130);
  });

  it('a drop-out stalls the link both ways; what waited then moves together', () => {
    // random() = 0: every second stalls, from its first instant, for 400 ms: [0, 400), [1 000, 1 400)…
    const { clock, pipe } = setup({ latencyMs: 100, dropout: { chancePerSecond: 1, stallMs: 400 } }, () => 0);
    const down = pipe('down');
    const up = pipe('up');
    clock.advanceTo(600);
    down.p.write(Buffer.from('a')); // due at 700: between stalls
    clock.advanceTo(950);
    down.p.write(Buffer.from('b')); // due at 1 050: inside the second stall
    up.p.write(Buffer.from('c'));
    clock.advanceTo(1_399);
    expect(down.got.map((d) => [d.text, d.at])).toEqual([['a', 700]]);
    expect(up.got).toEqual([]);
    clock.advanceTo(1_400);
    expect(down.got.map((d) => [d.text, d.at])).toEqual([
      ['a', 700],
      ['b', 1_400],
    ]);
    expect(up.got.map((d) => [d.text, d.at])).toEqual([['c', 1_400]]);
  });

  it('never stalls with a drop-out chance of 0, and stalls about as often as asked', () => {
    const never = setup({ dropout: { chancePerSecond: 0, stallMs: 1_000 } });
    expect(never.link.stallEnd(12_345)).toBe(12_345);
    let seed = 11;
    const random = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const { clock, link } = setup({ dropout: { chancePerSecond: 0.2, stallMs: 10 } }, random);
    let stalledMs = 0;
    for (let t = 0; t < 200_000; t += 1) {
      clock.t = t;
      if (link.stallEnd(t) > t) stalledMs++;
    }
    // 200 s × 0.2 stalls × 10 ms = 400 ms expected; the draw is random, so a wide margin.
    expect(stalledMs).toBeGreaterThan(200);
    expect(stalledMs).toBeLessThan(700);
  });

  it('charges a new connection its handshake: its first byte no earlier than opened + 2 × latency + latency', () => {
    const { clock, pipe } = setup({ latencyMs: 100 });
    const { p, got } = pipe('up', 0 + 2 * 100);
    clock.advanceTo(5);
    p.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    clock.advanceTo(299);
    expect(got).toEqual([]);
    clock.advanceTo(300);
    expect(got.map((d) => d.at)).toEqual([300]);
    // Later bytes pay only their own latency.
    clock.advanceTo(1_000);
    p.write(Buffer.from('x'));
    clock.advanceTo(1_100);
    expect(got.map((d) => d.at)).toEqual([300, 1_100]);
  });

  it('delivers the end after every byte before it, and close() drops what is queued', () => {
    const { clock, pipe } = setup({ latencyMs: 100, jitterMs: 50 }, () => 0.99);
    const { p, got, ends } = pipe();
    p.write(Buffer.from('last'));
    p.end();
    clock.advanceTo(1_000);
    expect(got.length).toBe(1);
    expect(ends.length).toBe(1);
    expect(ends[0]).toBeGreaterThanOrEqual((got[0] as Delivery).at);

    const other = pipe();
    other.p.write(Buffer.from('never'));
    expect(other.p.queuedBytes).toBe(5);
    other.p.close();
    clock.advanceTo(5_000);
    expect(other.got).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});
