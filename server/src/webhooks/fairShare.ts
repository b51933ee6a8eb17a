/**
 * Who a task's deliveries belong to, for sharing the dispatcher's attempts between people
 * (issue 11, item 2; docs/security.md, "Limits").
 */
export interface DeliveryOwner {
  /** The device: its address, as the per-client limits count it (access/clientLimits.ts `clientOf`;
   *  this machine is one device). A bot mints a run per request but not an address: the share
   *  between devices is what keeps a phone full of runs from taking every attempt. */
  client: string;
  /** The run (`run:<id>`, the task's lab tag); an untagged task's is its address (access/clientScope.ts),
   *  so that an API client's untagged tasks share one run. Attempts in flight are bounded per run. */
  run: string;
}

/** A task's first pending delivery, due now. */
export interface DueDelivery {
  taskId: string;
  /** When it became due, epoch ms: within a run, the longest-waiting goes first. */
  due: number;
  owner: DeliveryOwner;
}

export interface FairShareSettings {
  /** Attempts in flight at once over everyone. */
  maxInFlight: number;
  /** Attempts in flight at once for one run. */
  maxInFlightPerRun: number;
}

export interface FairShare {
  /**
   * Of the deliveries due now (at most one per task, none of them in flight), those to start now, in
   * the order chosen, counted as in flight until `release`. Each slot goes to the device with the
   * fewest attempts in flight, then within it the run with the fewest, each tie to whoever started
   * one least recently, then to the longest-waiting delivery; a run at its bound is passed over.
   * So a run that has nothing in flight gets the next free slot, whatever another run's backlog.
   */
  choose(due: readonly DueDelivery[]): DueDelivery[];
  /** An attempt chosen for `owner` ended. */
  release(owner: DeliveryOwner): void;
  /** Attempts in flight now, over everyone. */
  readonly inFlight: number;
  /** Attempts in flight now for a run (tests). */
  inFlightOfRun(run: string): number;
}

/** Attempts in flight and when one last started, for a device or a run while it has something in
 *  flight or due (forgotten when it has neither: an idle run comes back among the first served). */
interface Share {
  inFlight: number;
  lastStarted: number;
}

/** The dispatcher's scheduling decision, kept apart from sending so that it can be tested alone. */
export function createFairShare({ maxInFlight, maxInFlightPerRun }: FairShareSettings): FairShare {
  const clients = new Map<string, Share>();
  const runs = new Map<string, Share>();
  let total = 0;
  /** Counts starts: a later start has a higher turn (round-robin between equal shares). */
  let turn = 0;

  const shareOf = (shares: Map<string, Share>, key: string) =>
    shares.get(key) ?? { inFlight: 0, lastStarted: -1 };

  /** Negative if `a` should go before `b`. */
  const compare = (a: Share, b: Share, aDue: number, bDue: number) =>
    a.inFlight - b.inFlight || a.lastStarted - b.lastStarted || aDue - bDue;

  function take(shares: Map<string, Share>, key: string): void {
    const share = shares.get(key);
    if (share) {
      share.inFlight += 1;
      share.lastStarted = turn;
    } else shares.set(key, { inFlight: 1, lastStarted: turn });
  }

  function give(shares: Map<string, Share>, key: string): void {
    const share = shares.get(key);
    if (!share) return;
    share.inFlight = Math.max(0, share.inFlight - 1);
  }

  /** Forgets the devices and runs with nothing in flight and nothing due now. */
  function forgetIdle(byClient: Map<string, Map<string, DueDelivery[]>>): void {
    for (const [client, share] of clients)
      if (share.inFlight === 0 && !byClient.has(client)) clients.delete(client);
    const waiting = new Set<string>();
    for (const ofClient of byClient.values()) for (const run of ofClient.keys()) waiting.add(run);
    for (const [run, share] of runs) if (share.inFlight === 0 && !waiting.has(run)) runs.delete(run);
  }

  return {
    choose(due) {
      // Device → run → its due deliveries, the longest-waiting first.
      const byClient = new Map<string, Map<string, DueDelivery[]>>();
      for (const delivery of due) {
        const { client, run } = delivery.owner;
        const ofClient = byClient.get(client) ?? new Map<string, DueDelivery[]>();
        byClient.set(client, ofClient);
        const ofRun = ofClient.get(run);
        if (ofRun) ofRun.push(delivery);
        else ofClient.set(run, [delivery]);
      }
      for (const ofClient of byClient.values())
        for (const ofRun of ofClient.values()) ofRun.sort((a, b) => a.due - b.due);
      forgetIdle(byClient);

      const chosen: DueDelivery[] = [];
      while (total < maxInFlight) {
        let best: { client: string; run: string; waiting: DueDelivery[]; next: DueDelivery } | undefined;
        for (const [client, ofClient] of byClient) {
          // This device's best run: under its bound, fewest in flight, least recently started.
          let bestRun: { run: string; waiting: DueDelivery[]; next: DueDelivery } | undefined;
          for (const [run, waiting] of ofClient) {
            const next = waiting[0];
            if (!next || shareOf(runs, run).inFlight >= maxInFlightPerRun) continue;
            if (
              !bestRun ||
              compare(shareOf(runs, run), shareOf(runs, bestRun.run), next.due, bestRun.next.due) < 0
            )
              bestRun = { run, waiting, next };
          }
          if (!bestRun) continue;
          if (
            !best ||
            compare(
              shareOf(clients, client),
              shareOf(clients, best.client),
              bestRun.next.due,
              best.next.due,
            ) < 0
          )
            best = { client, ...bestRun };
        }
        if (!best) break; // every run with something due is at its bound
        best.waiting.shift();
        turn += 1;
        take(clients, best.client);
        take(runs, best.run);
        total += 1;
        chosen.push(best.next);
      }
      return chosen;
    },

    release(owner) {
      give(clients, owner.client);
      give(runs, owner.run);
      total = Math.max(0, total - 1);
    },

    get inFlight() {
      return total;
    },

    inFlightOfRun(run) {
      return shareOf(runs, run).inFlight;
    },
  };
}
