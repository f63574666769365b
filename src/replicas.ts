/**
 * Replicas on one Redis share the fleet: each enabled bot is polled by the one replica holding
 * its lease (memory/leases.ts). Every LEASE_TICK_MS a replica
 *   1. renews (each every LEASE_RENEW_MS) the leases it holds in one round trip; a lease found taken, or not renewed for
 *      LEASE_SAFE_MS (well inside LEASE_TTL_MS), is lost: its bot stops polling at once (unless
 *      this replica was the only one: then Redis being down stops nobody, see `alone`);
 *   2. announces itself in the replica list and reads the live replicas;
 *   3. computes its fair share, ceil(bots / live replicas): over it, it drains some bots, THEN
 *      releases their leases; under it, it takes free leases (SET NX: never two holders).
 * Bots are ranked per replica by rendezvous hashing, so replicas prefer different bots and a
 * replica gives up the bots it ranks lowest. Nothing moves while a reload changes the bots
 * (renewals go on). A replica alone takes every lease in its first tick, at start-up.
 */
import { createHash } from 'node:crypto';
import type { BotConfig } from './config/types.js';
import { LEASE_RENEW_MS, LEASE_SAFE_MS, LEASE_TICK_MS, LEASE_TTL_MS } from './defaults.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import type { LeaseStore } from './memory/leases.js';

/** The lease timings, in ms; tests and the bench may shorten them. */
export interface LeaseTiming {
  readonly ttlMs: number;
  /** How often leases are renewed (each lease at most once per `renewMs`). */
  readonly renewMs: number;
  readonly tickMs: number;
  readonly safeMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = {
  ttlMs: LEASE_TTL_MS,
  renewMs: LEASE_RENEW_MS,
  tickMs: LEASE_TICK_MS,
  safeMs: LEASE_SAFE_MS,
};

/** What the coordinator drives. */
export interface ReplicaDeps {
  readonly leases: LeaseStore;
  readonly logger: Logger;
  /** Starts a bot whose lease was just taken; resolves once it was started (or could not be). */
  readonly startHeld: (bot: BotConfig) => Promise<void>;
  /** Stops a held bot (polling at once, in-flight replies drained within `deadlineMs`) and
   * forgets it; a bot not running resolves at once. */
  readonly stopHeld: (id: string, deadlineMs: number) => Promise<void>;
  /** How long a bot given up to another replica may drain. */
  readonly drainMs: number;
  /** True while a reload changes the bots: nothing is taken or given up meanwhile. */
  readonly paused: () => boolean;
  readonly timing?: LeaseTiming;
}

/** Where a bot is, seen from this replica. */
export type Placement = { readonly held: true } | { readonly held: false; readonly holder: string | undefined };

/** The coordinator of one replica. */
export interface Replicas {
  /** This replica's id. */
  readonly id: string;
  /** The bots the config enables; a held bot missing from them is released at the next tick. */
  setWanted(bots: readonly BotConfig[]): void;
  /** Whether this replica holds `id`'s lease (and is not handing it over). */
  holds(id: string): boolean;
  /** Every wanted bot this replica does not run, with its holder as last seen. */
  elsewhere(): Iterable<readonly [id: string, holder: string | undefined]>;
  /** Runs the first tick (a replica alone takes every bot) and schedules the next ones. */
  start(): Promise<void>;
  /** Takes nothing more, drains every held bot within `deadlineMs` (leases renewed meanwhile),
   * releases their leases and leaves the replica list. Never rejects. */
  stop(deadlineMs: number): Promise<void>;
}

interface Held {
  /** performance.now() when the last successful renewal (or the acquisition) was sent. */
  renewedAt: number;
  /** Not renewed in time, but kept: this replica was alone (see `alone` in createReplicas). */
  keptAlone: boolean;
  releasing: boolean;
  /** Fires `safeMs` after `renewedAt`: the bot stops polling, whatever the ticks are doing. */
  safety: NodeJS.Timeout;
}

/** The coordinator for `wanted`, idle until start(). */
export function createReplicas(wanted: readonly BotConfig[], deps: ReplicaDeps): Replicas {
  const timing = deps.timing ?? DEFAULT_LEASE_TIMING;
  const { leases, logger } = deps;
  const bots = new Map(wanted.map((bot) => [bot.id, bot]));
  const held = new Map<string, Held>();
  let holders = new Map<string, string | undefined>();
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> = Promise.resolve();
  // Whether the last replica list read held this replica only. A lease not renewed in time is
  // then kept (its bot goes on polling and tells users storage is down) instead of stopping the
  // bot: Redis unreachable for everyone means nobody can take the lease, and with no other
  // replica nobody would. (A replica started during a partition that hides this one may take it
  // once it expires; the two then share Telegram's updates by 409s until this one renews again
  // and finds the lease taken.)
  let alone = false;
  const rank = (id: string): number => createHash('sha1').update(`${leases.owner}\0${id}`).digest().readUInt32BE(0);

  /** Arms (or re-arms, after a renewal) the safety stop of `lease`: on its own timer, so a tick
   * stuck on a slow Redis never keeps a bot polling past `safeMs` (inside the TTL). */
  const arm = (id: string, lease: Held): void => {
    clearTimeout(lease.safety);
    const left = Math.max(0, lease.renewedAt + timing.safeMs - performance.now());
    lease.safety = setTimeout(() => {
      if (!alone) return lose(id, 'not renewed in time');
      lease.keptAlone = true;
      logger.warn(
        { bot: id, replica: leases.owner },
        'lease not renewed in time (Redis does not answer); this replica is the only one, so the bot goes on polling',
      );
    }, left);
    lease.safety.unref();
  };

  /** A lease lost (taken, or not renewed in time): another replica may hold it at any moment and
   * replay what this one fetched, so nothing here may answer any more. The bot stops at once (its
   * model requests aborted, nothing stored; the new holder answers those updates from the
   * journal), and only then is the lease released. */
  const lose = (id: string, why: string): void => {
    const lease = held.get(id);
    if (lease === undefined) return;
    held.delete(id);
    clearTimeout(lease.safety);
    logger.warn({ bot: id, replica: leases.owner }, `lease lost (${why}); this replica stops the bot at once`);
    void deps
      .stopHeld(id, 0)
      // Harmless if someone else holds it now: only our own value is deleted.
      .then(() => leases.release([id]))
      .catch((error: unknown) => logger.debug({ err: errorMessage(error) }, 'release failed'));
  };

  const renew = async (): Promise<void> => {
    const sentAt = performance.now();
    // Every lease once per renewMs (the tick may be shorter): half the script's work at 1 s ticks.
    const due = sentAt - (timing.renewMs - timing.tickMs / 2);
    const ids = [...held].filter(([, lease]) => lease.renewedAt <= due).map(([id]) => id);
    try {
      const still = await leases.renew(ids, timing.ttlMs);
      for (const id of ids) {
        const lease = held.get(id);
        if (lease === undefined) continue;
        if (still.has(id)) {
          lease.renewedAt = sentAt;
          lease.keptAlone = false;
          arm(id, lease);
        } else if (lease.keptAlone && (await leases.acquire(id, timing.ttlMs))) {
          // It expired while Redis was away and nobody took it: ours again, the bot never stopped.
          lease.renewedAt = sentAt;
          lease.keptAlone = false;
          arm(id, lease);
          logger.info({ bot: id, replica: leases.owner }, 'lease taken again after Redis returned');
        } else lose(id, 'taken by another replica');
      }
    } catch (error) {
      // Not renewed: each lease's safety timer stops its bot in time; the next tick tries again.
      logger.warn({ err: errorMessage(error) }, 'lease renewal failed');
    }
  };

  const giveUp = (id: string, lease: Held): void => {
    lease.releasing = true;
    logger.info({ bot: id, replica: leases.owner }, 'handing the bot over to another replica');
    void (async () => {
      await deps.stopHeld(id, deps.drainMs);
      if (held.get(id) !== lease) return; // lost meanwhile
      held.delete(id);
      clearTimeout(lease.safety);
      await leases.release([id]);
    })().catch((error: unknown) => logger.warn({ bot: id, err: errorMessage(error) }, 'lease release failed'));
  };

  const take = async (ids: readonly string[]): Promise<void> => {
    await Promise.all(
      ids.map(async (id) => {
        const sentAt = performance.now();
        if (!(await leases.acquire(id, timing.ttlMs))) return;
        const bot = bots.get(id);
        if (stopping || bot === undefined) {
          await leases.release([id]);
          return;
        }
        const lease: Held = {
          renewedAt: sentAt,
          keptAlone: false,
          releasing: false,
          safety: setTimeout(() => undefined, 0),
        };
        held.set(id, lease);
        arm(id, lease);
        holders.set(id, leases.owner);
        logger.info({ bot: id, replica: leases.owner }, 'lease taken; this replica polls the bot');
        await deps.startHeld(bot);
      }),
    );
  };

  const rebalance = async (): Promise<void> => {
    const live = await leases.announce(timing.ttlMs);
    alone = live.length === 1 && live[0] === leases.owner;
    holders = await leases.holders([...bots.keys()]);
    if (stopping || deps.paused()) return;
    for (const [id, lease] of held) if (!bots.has(id) && !lease.releasing) giveUp(id, lease);
    const share = Math.ceil(bots.size / Math.max(1, live.length));
    const active = [...held].filter(([id, lease]) => !lease.releasing && bots.has(id));
    if (active.length > share) {
      const lowest = active.sort(([a], [b]) => rank(a) - rank(b)).slice(0, active.length - share);
      for (const [id, lease] of lowest) giveUp(id, lease);
    } else if (active.length < share) {
      const free = [...bots.keys()].filter((id) => holders.get(id) === undefined && !held.has(id));
      await take(free.sort((a, b) => rank(b) - rank(a)).slice(0, share - active.length));
    }
  };

  const tick = async (): Promise<void> => {
    await renew();
    try {
      await rebalance();
    } catch (error) {
      // Redis did not answer: hold what we hold (renewals decide), take nothing; retry next tick.
      logger.warn({ err: errorMessage(error) }, 'replica coordination failed; retrying');
    }
  };

  const schedule = (): void => {
    timer = setTimeout(() => {
      ticking = tick().finally(() => {
        if (timer !== undefined) schedule();
      });
    }, timing.tickMs);
  };

  return {
    id: leases.owner,
    setWanted(next) {
      bots.clear();
      for (const bot of next) bots.set(bot.id, bot);
    },
    holds: (id) => held.get(id)?.releasing === false,
    *elsewhere() {
      for (const id of bots.keys()) if (!held.has(id)) yield [id, holders.get(id)] as const;
    },
    async start() {
      ticking = tick();
      await ticking;
      schedule();
    },
    async stop(deadlineMs) {
      stopping = true;
      // Drains start at once (ticks go on renewing meanwhile); a tick in flight may still start
      // a bot whose lease it took just before: that one is stopped once the tick is over.
      const stopAll = () => Promise.all([...held.keys()].map((id) => deps.stopHeld(id, deadlineMs)));
      await Promise.all([stopAll(), ticking]);
      await stopAll();
      clearTimeout(timer);
      timer = undefined;
      await ticking;
      for (const lease of held.values()) clearTimeout(lease.safety);
      try {
        await leases.release([...held.keys()]);
        held.clear();
        await leases.withdraw();
      } catch (error) {
        // Our leases expire on their own within the TTL; the others take over then.
        logger.warn({ err: errorMessage(error) }, 'could not release the leases; they expire on their own');
      }
    },
  };
}
