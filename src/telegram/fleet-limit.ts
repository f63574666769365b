/**
 * The fleet-wide limit on updates in flight, shared by every bot of one process: without it
 * each bot had its own (`telegram.maxConcurrentUpdates` runs, `telegram.maxWaitingUpdates`
 * waiting, a fetch of up to 100), so 50 bots under overload held 50 times that in the heap.
 *
 * Two counts, over every bot together:
 * - runs (an update, or a joint run of several, from its start until its answer is done)
 *   ≤ `maxRunning`. A bot's conversation queue takes a run from its lane before starting one.
 *   When the fleet is full, lanes that want a run line up and are served one run at a time in
 *   turn: a lane served goes to the back of the line if it wants more, so one busy bot never
 *   holds the others back (inside a bot, conversations take turns the same way).
 * - waiting updates (in a conversation queue, not yet started) ≤ `maxWaiting`, enforced where
 *   they come from: a bot's getUpdates waits while the fleet has `maxWaiting` or more updates
 *   waiting, and asks for at most an even share of `maxWaiting` per bot (at least 1), so the
 *   polls under way at the moment the fleet fills add at most about `maxWaiting` + one per bot.
 *   Overload then waits at Telegram (updates not yet fetched), not in this process.
 * In updates, the fleet holds at most about maxRunning + 2 × maxWaiting + bots (the runner's
 * slots of updates not for the queue — ignored, commands — are short and per bot, as before).
 *
 * A bot joins with `join()` (its lane) when it starts and leaves with `lane.leave()` when it
 * stopped: leaving gives back whatever the lane still counts (runs not ended, waiting not
 * started), so a bot removed by a live reload leaks nothing into the fleet's counts.
 */

/** The fleet's bounds, read at each decision so they could change; each >= 1. */
export interface FleetLimits {
  readonly maxRunning: number;
  readonly maxWaiting: number;
}

/** One bot's share of the fleet limit. */
export interface FleetLane {
  /** Takes a run if the fleet has room and no other lane is waiting for one (true); else puts
   * this lane in line (once) and returns false: `onGrant` is called when its turn comes. */
  tryRun(): boolean;
  /** A run this lane took (from tryRun or a grant) ended. */
  runEnded(): void;
  /** Called with a run already taken for this lane, when its turn in line came. The lane must
   * start a run with it or give it back with `runEnded()`. Set by the conversation queue. */
  onGrant: () => void;
  /** `n` updates began (positive) or ended (negative) waiting in this bot's queue. */
  waiting(n: number): void;
  /** How many updates wait in this bot's queue now. */
  held(): number;
  /** Waits (until `signal` aborts, then rejects with its reason) while the fleet has its
   * `maxWaiting` updates waiting, then returns how many updates this bot may fetch now. */
  fetchRoom(signal?: AbortSignal): Promise<number>;
  /** The bot stopped: out of the line, and what it still counts is given back. */
  leave(): void;
}

/** The fleet limit: one per process, shared by every bot. */
export interface FleetLimit {
  join(): FleetLane;
  /** Runs in flight and updates waiting, over the whole fleet (for tests and metrics). */
  readonly counts: () => { readonly running: number; readonly waiting: number; readonly lanes: number };
}

interface Lane extends FleetLane {
  runs: number;
  heldCount: number;
  queued: boolean;
  left: boolean;
}

/** Creates the fleet limit; `limits` is read at each decision. */
export function createFleetLimit(limits: () => FleetLimits): FleetLimit {
  const lanes = new Set<Lane>();
  const line: Lane[] = []; // lanes waiting for a run, next first
  const fetchers: (() => void)[] = []; // polls waiting for the fleet to have room, oldest first
  let running = 0;
  let waiting = 0;

  function grant(): void {
    while (line.length > 0 && running < limits().maxRunning) {
      const lane = line.shift() as Lane;
      lane.queued = false;
      lane.runs += 1;
      running += 1;
      lane.onGrant();
    }
  }

  function wakeFetchers(): void {
    while (fetchers.length > 0 && waiting < limits().maxWaiting) (fetchers.shift() as () => void)();
  }

  function share(): number {
    const { maxWaiting } = limits();
    const even = Math.ceil(maxWaiting / Math.max(1, lanes.size));
    return Math.max(1, Math.min(even, maxWaiting - waiting));
  }

  function join(): FleetLane {
    const lane: Lane = {
      runs: 0,
      heldCount: 0,
      queued: false,
      left: false,
      onGrant: () => lane.runEnded(),
      tryRun() {
        if (lane.left) return false;
        if (line.length === 0 && running < limits().maxRunning) {
          lane.runs += 1;
          running += 1;
          return true;
        }
        if (!lane.queued) {
          lane.queued = true;
          line.push(lane);
        }
        return false;
      },
      runEnded() {
        if (lane.runs === 0) return; // given back already by leave()
        lane.runs -= 1;
        running -= 1;
        grant();
      },
      waiting(n) {
        if (lane.left) return;
        const change = Math.max(n, -lane.heldCount);
        lane.heldCount += change;
        waiting += change;
        if (change < 0) wakeFetchers();
      },
      held: () => lane.heldCount,
      async fetchRoom(signal) {
        if (waiting >= limits().maxWaiting && !lane.left) await roomFor(signal);
        return share();
      },
      leave() {
        if (lane.left) return;
        lane.left = true;
        lanes.delete(lane);
        if (lane.queued) line.splice(line.indexOf(lane), 1);
        lane.queued = false;
        running -= lane.runs;
        waiting -= lane.heldCount;
        lane.runs = 0;
        lane.heldCount = 0;
        grant();
        wakeFetchers();
      },
    };
    lanes.add(lane);
    return lane;
  }

  /** Resolves once the fleet has fewer than maxWaiting updates waiting. */
  function roomFor(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const wake = (): void => {
        signal?.removeEventListener('abort', abort);
        resolve();
      };
      const abort = (): void => {
        const at = fetchers.indexOf(wake);
        if (at !== -1) fetchers.splice(at, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', abort, { once: true });
      fetchers.push(wake);
    });
  }

  return { join, counts: () => ({ running, waiting, lanes: lanes.size }) };
}
