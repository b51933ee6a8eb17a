// What the page's own measurement costs per event, run in Node: the benchmark cannot drive a browser,
// so it drives the client's code for one event with the browser's parts (socket.io's transport, React,
// the drawing) left out. Measured ("on"): the websocket lane's own code, fed by a stand-in socket — the
// frame's wire bytes (`frameWireBytes`, as `instrumentWebSocket` counts each message), the receipt time
// (`clientNow`), the parse, the seq orderer, the `frame`, `wire` and `event` reports — then the real
// store (`createAppStore`: the per-frame batch, the race log, the lane reducer, `progressShown`) and,
// once per frame, what RaceBoard recomputes (`laneMetrics` per lane, `bestLanes`). Not measured
// ("off"): the same events parsed and shown per frame with no timestamp, orderer, wire count, log or
// metric — a page that only shows progress.
import {
  type ClockEstimate,
  LANE_IDS,
  type LaneId,
  type TaskEvent,
  TaskEvent as TaskEventSchema,
  type TaskSpec,
  type TaskState,
} from '@transport-lab/shared';
import { clientNow } from '../../client/src/lib/time.ts';
import { createAppStore } from '../../client/src/store/create-store.ts';
import { bestLanes, type LaneMeasurement, laneMetrics } from '../../client/src/store/metrics.ts';
import { createRegistry } from '../../client/src/transports/registry.ts';
import type { TransportClient } from '../../client/src/transports/types.ts';
import {
  createWebSocketClient,
  type FrameMeter,
  type LaneSocket,
} from '../../client/src/transports/websocket/index.ts';
import { frameWireBytes } from '../../client/src/transports/wire.ts';
import { type Spread, spread } from './serverCost.ts';

export interface PageCostOptions {
  /** Recorded blocks of each kind, alternating. */
  blocks: number;
  /** Races per block. */
  racesPerBlock: number;
  warmupRaces: number;
  /** Steps per task: each lane's task has steps + 3 events (queued, started, succeeded). */
  steps: number;
  /** Events delivered between two animation frames (7 lanes at 20 events/s at 60 Hz ≈ 2.3). */
  eventsPerFrame: number;
  log(line: string): void;
}

export interface PageCostResult {
  lanes: number;
  eventsPerRace: number;
  eventsPerFrame: number;
  onUsPerEvent: Spread;
  offUsPerEvent: Spread;
  /** Per pair of blocks: on − off. */
  differenceUsPerEvent: Spread;
}

// ── The stream: every lane's task, as socket.io would hand each `task:event` to the lane ─────────────

interface Delivery {
  lane: LaneId;
  /** The decoded packet argument: what socket.io passes to the `task:event` handler. */
  payload: unknown;
  /** The WebSocket message as it came (`42["task:event",{…}]`), for its wire bytes. */
  frame: string;
}

function taskEvents(taskId: string, spec: TaskSpec, startAt: number): TaskEvent[] {
  const events: TaskEvent[] = [
    { type: 'queued', taskId, seq: 1, at: startAt, spec },
    { type: 'started', taskId, seq: 2, at: startAt + 1 },
  ];
  for (let step = 1; step <= spec.steps; step++) {
    const percent = Math.round((step / spec.steps) * 10_000) / 100;
    events.push({
      type: 'progress',
      taskId,
      seq: step + 2,
      at: startAt + step * 50,
      step,
      steps: spec.steps,
      percent,
    });
  }
  events.push({
    type: 'succeeded',
    taskId,
    seq: spec.steps + 3,
    at: startAt + spec.steps * 50 + 1,
    result: { steps: spec.steps, payload: '' },
  });
  return events;
}

/** Lanes' events interleaved as they would arrive when all run at once: seq 1 of each, then seq 2, … */
function raceStream(lanes: readonly LaneId[], spec: TaskSpec, race: number): Delivery[] {
  const perLane = lanes.map((lane) => ({ lane, events: taskEvents(`bench-${race}-${lane}`, spec, 1e12) }));
  const out: Delivery[] = [];
  for (let i = 0; i < spec.steps + 3; i++) {
    for (const { lane, events } of perLane) {
      const event = events[i] as TaskEvent;
      out.push({
        lane,
        payload: structuredClone(event),
        frame: `42${JSON.stringify(['task:event', event])}`,
      });
    }
  }
  return out;
}

// ── Measured: the websocket lane's code and the store, with a stand-in socket ───────────────────────

/** The part of a socket.io socket the websocket lane uses, driven by the benchmark. */
class StandInSocket {
  readonly handlers = new Map<string, Array<(...args: unknown[]) => void>>();
  readonly managerHandlers = new Map<string, Array<(...args: unknown[]) => void>>();
  recovered = false;
  startAck: ((res: unknown) => void) | undefined;
  readonly io = {
    on: (name: string, fn: (...args: unknown[]) => void) => {
      this.managerHandlers.set(name, [...(this.managerHandlers.get(name) ?? []), fn]);
    },
  };

  constructor(
    readonly meter: FrameMeter,
    readonly taskId: string,
    readonly spec: TaskSpec,
  ) {}

  on(name: string, fn: (...args: unknown[]) => void): this {
    this.handlers.set(name, [...(this.handlers.get(name) ?? []), fn]);
    return this;
  }

  fire(name: string, ...args: unknown[]): void {
    for (const fn of this.handlers.get(name) ?? []) fn(...args);
  }

  emit(name: string, _payload: unknown, ack?: (res: unknown) => void): this {
    if (name === 'task:start') this.startAck = ack;
    return this;
  }

  /** The handshake, the server's `connection:wire` and the start's acknowledgement, at once. */
  connect(): this {
    this.meter.handshake();
    this.meter.opened?.();
    this.fire('connect');
    this.fire('connection:wire', { requestBytes: 250, responseBytes: 129 });
    const task: TaskState = {
      id: this.taskId,
      spec: this.spec,
      status: 'queued',
      step: 0,
      steps: this.spec.steps,
      percent: 0,
      lastSeq: 0,
      createdAt: 1e12,
    };
    this.startAck?.({ ok: true, task });
    return this;
  }

  disconnect(): this {
    this.meter.closed?.();
    this.fire('disconnect', 'io client disconnect');
    return this;
  }
}

const ESTIMATE: ClockEstimate = { offsetMs: 0, uncertaintyMs: 0.5, rttMs: 1, samples: 5 };

function measuredPage(lanes: readonly LaneId[], spec: TaskSpec) {
  const sockets = new Map<LaneId, StandInSocket>();
  let race = 0;
  const clients: TransportClient[] = lanes.map((id) => {
    // Every lane runs the websocket lane's code (the one that reports most per event: frame, wire, event).
    const lane = createWebSocketClient({
      now: clientNow,
      ackTimeoutMs: 10_000,
      createSocket: (meter) => {
        const socket = new StandInSocket(meter, `bench-${race}-${id}`, spec);
        sockets.set(id, socket);
        // The stand-in implements what the lane calls on a socket, not socket.io's whole surface.
        return socket as unknown as LaneSocket;
      },
    });
    return { id, run: (taskSpec, report, options) => lane.run(taskSpec, report, options) };
  });
  const frames: Array<() => void> = [];
  const store = createAppStore({
    registry: createRegistry(clients),
    now: clientNow,
    schedule: (callback) => frames.push(callback),
    sampleClock: async () => ({ t0: 0, t1: 0, t2: 0, t3: 0 }),
  });
  store.getState().setSpecField('durationMs', String(spec.durationMs));
  store.getState().setSpecField('steps', String(spec.steps));

  /** One animation frame: the batch applied, then what the board recomputes from it. */
  const frame = () => {
    for (const callback of frames.splice(0)) callback();
    const state = store.getState();
    const measurements: LaneMeasurement[] = state.selectedLanes.map((id) => {
      const lane = state.race.lanes[id];
      if (!lane) throw new Error(`${id} has no run`);
      return { id, lane, metrics: laneMetrics(lane, state.race.actionAt, ESTIMATE) };
    });
    bestLanes(measurements);
  };

  return {
    start(raceNumber: number) {
      race = raceNumber;
      store.getState().startRace(clientNow());
      frame();
    },
    deliver(d: Delivery) {
      const socket = sockets.get(d.lane) as StandInSocket;
      socket.meter.frame('down', frameWireBytes(d.frame, false));
      socket.fire('task:event', d.payload);
    },
    frame,
    check() {
      const lanes = store.getState().race.lanes;
      for (const [id, lane] of Object.entries(lanes)) {
        if (
          lane.status !== 'succeeded' ||
          lane.eventsApplied !== spec.steps + 3 ||
          lane.progressShown.length === 0
        )
          throw new Error(`page cost: ${id} ended ${lane.status} with ${lane.eventsApplied} events`);
      }
    },
  };
}

// ── Not measured: the same events parsed and shown, and nothing else ────────────────────────────────

interface BareLane {
  step: number;
  percent: number;
  status: 'running' | TaskEvent['type'];
}

function barePage(lanes: readonly LaneId[]) {
  let state: { lanes: Partial<Record<LaneId, BareLane>> } = { lanes: {} };
  let queue: Array<{ lane: LaneId; event: TaskEvent }> = [];
  return {
    start() {
      const fresh: Partial<Record<LaneId, BareLane>> = {};
      for (const id of lanes) fresh[id] = { step: 0, percent: 0, status: 'running' };
      state = { lanes: fresh };
    },
    deliver(d: Delivery) {
      // Parsed at the edge as the lanes do; queued for the frame, as the store batches.
      const parsed = TaskEventSchema.safeParse(d.payload);
      if (parsed.success) queue.push({ lane: d.lane, event: parsed.data });
    },
    /** zustand's set is a merge into a new state object: the same, by hand. */
    frame() {
      if (queue.length === 0) return;
      const next = { ...state.lanes };
      for (const { lane, event } of queue) {
        const current = next[lane] as BareLane;
        next[lane] =
          event.type === 'progress'
            ? { ...current, step: event.step, percent: event.percent }
            : event.type === 'succeeded' || event.type === 'failed' || event.type === 'cancelled'
              ? {
                  ...current,
                  status: event.type,
                  percent: event.type === 'succeeded' ? 100 : current.percent,
                }
              : current;
      }
      queue = [];
      state = { lanes: next };
    },
    check() {
      for (const [id, lane] of Object.entries(state.lanes)) {
        if (lane.status !== 'succeeded') throw new Error(`page cost (off): ${id} ended ${lane.status}`);
      }
    },
  };
}

// ── Running ─────────────────────────────────────────────────────────────────────────────────────────

interface Page {
  start(race: number): void;
  deliver(d: Delivery): void;
  frame(): void;
  check(): void;
}

/** CPU time of this process (user + system, µs): unlike the wall clock, it leaves out the time the
 *  machine's other work took the core away, which on a shared machine is most of the noise. */
function cpuNowUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** CPU time of the event phase of `races` races (set-up not counted), µs per event. */
function runBlock(page: Page, streams: Delivery[][], firstRace: number, eventsPerFrame: number): number {
  let elapsedUs = 0;
  let events = 0;
  streams.forEach((stream, i) => {
    page.start(firstRace + i);
    const started = cpuNowUs();
    let sinceFrame = 0;
    for (const delivery of stream) {
      page.deliver(delivery);
      if (++sinceFrame >= eventsPerFrame) {
        page.frame();
        sinceFrame = 0;
      }
    }
    page.frame();
    elapsedUs += cpuNowUs() - started;
    events += stream.length;
    page.check();
  });
  return elapsedUs / events;
}

export function measurePageCost(options: PageCostOptions): PageCostResult {
  const lanes = LANE_IDS;
  const spec: TaskSpec = { durationMs: 1_000, steps: options.steps };
  const measured = measuredPage(lanes, spec);
  const bare = barePage(lanes);
  let race = 0;
  const streams = (count: number) =>
    Array.from({ length: count }, () => {
      race += 1;
      return raceStream(lanes, spec, race);
    });
  const eventsPerRace = lanes.length * (spec.steps + 3);
  options.log(
    `page cost: ${lanes.length} lanes × ${eventsPerRace / lanes.length} events per race, ` +
      `${options.eventsPerFrame} events per frame, ${options.blocks} blocks of ${options.racesPerBlock} races each way ` +
      `after ${options.warmupRaces} warm-up races`,
  );

  // Streams are built before each block's clock starts: building them is not the page's work.
  for (const page of [measured, bare]) {
    const warm = streams(options.warmupRaces);
    runBlock(page, warm, race - warm.length + 1, options.eventsPerFrame);
  }
  const on: number[] = [];
  const off: number[] = [];
  for (let b = 0; b < options.blocks; b++) {
    const order = b % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
    for (const kind of order) {
      const batch = streams(options.racesPerBlock);
      const first = race - batch.length + 1;
      if (kind === 'on') on.push(runBlock(measured, batch, first, options.eventsPerFrame));
      else off.push(runBlock(bare, batch, first, options.eventsPerFrame));
    }
  }
  return {
    lanes: lanes.length,
    eventsPerRace,
    eventsPerFrame: options.eventsPerFrame,
    onUsPerEvent: spread(on),
    offUsPerEvent: spread(off),
    differenceUsPerEvent: spread(on.map((value, i) => value - (off[i] as number))),
  };
}
