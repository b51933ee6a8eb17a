import type { NetworkProfile } from '@transport-lab/shared';

/**
 * The arithmetic of a shaped link, apart from any socket so that it can be tested with an injected
 * clock. A link has two directions (`down`: server → page, `up`: page → server); each is one
 * bottleneck that all of the link's connections share, as a phone's radio is: a chunk waits for the
 * chunks before it (any connection's) to be serialized at the direction's rate, then travels the
 * one-way latency (± jitter). A drop-out stalls the whole link: nothing is delivered either way until
 * it ends, then what waited moves. See server/src/network/README.md.
 */

export interface ShaperClock {
  /** Monotonic, ms. */
  now(): number;
  /** Calls `fn` after `delayMs`; the handle cancels it. The default is an unref'd setTimeout: a
   *  shaper's timers never hold the process open (the real sockets they serve do). */
  setTimer(fn: () => void, delayMs: number): { cancel(): void };
  /** [0, 1): jitter and drop-outs. */
  random(): number;
}

export const systemClock: ShaperClock = {
  now: () => performance.now(),
  setTimer(fn, delayMs) {
    const timer = setTimeout(fn, Math.max(0, delayMs));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
  random: Math.random,
};

export type Direction = 'up' | 'down';

/** A chunk is cut into slices of at most this much link time (ms), so that a large write arrives
 *  progressively, as it would over a slow link, rather than all at once when its last byte lands. */
const SLICE_MS = 10;
/** …but never smaller than one TCP segment's payload (Ethernet MSS), nor larger than 64 KiB. */
const MIN_SLICE_BYTES = 1_460;
const MAX_SLICE_BYTES = 65_536;
/** A delivery due within this much of now is made now (timers fire on whole ms). */
const DUE_SLACK_MS = 0.5;
/** How far back a drop-out drawn for a past second can still matter, beyond its own length. */
const SLOT_MS = 1_000;

class DirectionState {
  /** When the bottleneck has finished serializing everything handed to it so far. */
  busyUntil = Number.NEGATIVE_INFINITY;
  /** Bytes per ms; undefined: not limited. */
  readonly bytesPerMs: number | undefined;

  constructor(kbps: number | undefined) {
    // 1 kbps = 1 000 bit/s = 0.125 byte/ms.
    this.bytesPerMs = kbps === undefined ? undefined : kbps / 8;
  }
}

/** One link's shared state: its profile, each direction's bottleneck, and its drop-outs. */
export class LinkShaper {
  readonly clock: ShaperClock;
  private readonly directions: Record<Direction, DirectionState>;
  /** Stalls drawn so far that have not ended, [start, end), in order of start. */
  private stalls: Array<[number, number]> = [];
  /** Start of the next one-second slot whose drop-out chance is not drawn yet. */
  private nextSlot: number;

  constructor(
    readonly profile: NetworkProfile,
    clock: ShaperClock = systemClock,
  ) {
    this.clock = clock;
    this.directions = { up: new DirectionState(profile.upKbps), down: new DirectionState(profile.downKbps) };
    this.nextSlot = clock.now();
  }

  /** One chunk's one-way latency: the profile's ± uniform jitter, never below 0. */
  latency(): number {
    const { latencyMs, jitterMs } = this.profile;
    if (jitterMs === 0) return latencyMs;
    return Math.max(0, latencyMs + (this.clock.random() * 2 - 1) * jitterMs);
  }

  /**
   * `t` if the link is not stalled at `t`, else when the stall (and any stall it runs into) ends.
   * Each second of link time stalls with the profile's chance, at a uniformly drawn moment in it;
   * the seconds are drawn lazily, as time is asked about.
   */
  stallEnd(t: number): number {
    const dropout = this.profile.dropout;
    if (!dropout || dropout.chancePerSecond === 0) return t;
    // Slots that ended more than one stall ago cannot stall `t`: skip them without drawing.
    const skipTo = t - dropout.stallMs - SLOT_MS;
    if (this.nextSlot < skipTo) this.nextSlot += Math.floor((skipTo - this.nextSlot) / SLOT_MS) * SLOT_MS;
    while (this.nextSlot <= t) {
      if (this.clock.random() < dropout.chancePerSecond) {
        const start = this.nextSlot + this.clock.random() * SLOT_MS;
        this.stalls.push([start, start + dropout.stallMs]);
      }
      this.nextSlot += SLOT_MS;
    }
    let end = t;
    for (const [start, stop] of this.stalls) if (start <= end && end < stop) end = stop;
    const now = this.clock.now();
    this.stalls = this.stalls.filter(([, stop]) => stop > Math.min(now, t));
    return end;
  }

  /**
   * Plans a chunk of `bytes` handed to `direction` at `at`, not sent before `notBefore` (a new
   * connection's handshake): the link time at which each slice has been serialized, in order.
   */
  serialize(direction: Direction, bytes: number, at: number, notBefore: number): Array<[number, number]> {
    const state = this.directions[direction];
    const start = Math.max(at, notBefore, state.busyUntil, this.stallEnd(at));
    if (state.bytesPerMs === undefined || bytes === 0) return [[bytes, start]];
    const sliceBytes = Math.floor(
      Math.min(MAX_SLICE_BYTES, Math.max(MIN_SLICE_BYTES, state.bytesPerMs * SLICE_MS)),
    );
    const slices: Array<[number, number]> = [];
    let done = start;
    for (let offset = 0; offset < bytes; offset += sliceBytes) {
      const size = Math.min(sliceBytes, bytes - offset);
      done += size / state.bytesPerMs;
      slices.push([size, done]);
    }
    state.busyUntil = done;
    return slices;
  }
}

interface Pending {
  /** Link time at which it is delivered. */
  at: number;
  /** Bytes; null: the end of the stream (a FIN). */
  data: Buffer | null;
}

/**
 * One direction of one connection over a link: what goes in comes out, in order, each byte after
 * its serialization and its latency. Never reorders: a chunk is never delivered before the one
 * before it, whatever its jitter.
 */
export class ShapedPipe {
  private readonly queue: Pending[] = [];
  private head = 0;
  private timer: { cancel(): void } | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private lastAt = Number.NEGATIVE_INFINITY;
  private closed = false;
  /** Bytes handed in and not delivered yet. */
  queuedBytes = 0;

  constructor(
    private readonly link: LinkShaper,
    private readonly direction: Direction,
    /** Called with each slice in order, then with null for the end. */
    private readonly deliver: (data: Buffer | null) => void,
    /** Link time before which nothing is sent (a new connection's handshake). */
    private notBefore = Number.NEGATIVE_INFINITY,
  ) {}

  /** Everything handed in has been delivered. */
  get idle(): boolean {
    return this.head === this.queue.length;
  }

  write(data: Buffer): void {
    if (this.closed || data.length === 0) return;
    const now = this.link.clock.now();
    let offset = 0;
    for (const [size, done] of this.link.serialize(this.direction, data.length, now, this.notBefore)) {
      this.enqueue(done, data.subarray(offset, offset + size));
      offset += size;
    }
    this.queuedBytes += data.length;
  }

  /** The end of the stream, delivered after everything before it, one latency after now at the
   *  earliest. */
  end(): void {
    if (this.closed) return;
    const now = this.link.clock.now();
    const [[, done] = [0, now]] = this.link.serialize(this.direction, 0, now, this.notBefore);
    this.enqueue(done, null);
  }

  /** Drops whatever is queued and cancels the timer. */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.queue.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
  }

  private enqueue(serializedAt: number, data: Buffer | null): void {
    const at = Math.max(serializedAt + this.link.latency(), this.lastAt);
    this.lastAt = at;
    this.queue.push({ at, data });
    if (this.queue.length - this.head === 1) this.arm(at);
  }

  private arm(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.link.clock.setTimer(() => this.flush(), at - this.link.clock.now());
  }

  private flush(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.link.clock.now();
    // A stall holds everything due now until it ends; then what waited moves together.
    const resume = this.link.stallEnd(now);
    if (resume > now) {
      this.arm(resume);
      return;
    }
    while (!this.closed && this.head < this.queue.length) {
      const next = this.queue[this.head] as Pending;
      if (next.at > now + DUE_SLACK_MS) {
        this.arm(next.at);
        break;
      }
      this.head++;
      if (next.data) this.queuedBytes -= next.data.length;
      this.deliver(next.data);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1_024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
