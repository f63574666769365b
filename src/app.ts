/**
 * The composition root: opens the one shared store, makes a model client per provider, and
 * starts one bot per enabled entry, all concurrently. One bot's failure never stops the
 * others; the fleet reports when no bot is left. A reload applies only what changed
 * (apply-reload.ts). On Redis the process is a replica (replicas.ts): it runs only the bots
 * whose lease it holds, and a lone replica takes them all at once. A SQLite store is locked
 * for this process (memory/store-lock.ts).
 */

// First: grammY, imported below, then loads no node-fetch (see the file).
import './telegram/grammy-fetch.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type AppliedReload, createReloadApplier } from './apply-reload.js';
import type { BotConfig, FleetConfig, ProviderConfig } from './config/types.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_OPERATION_TIMEOUT_MS,
  DEFAULT_RECONNECT_MAX_DELAY_MS,
  DEFAULT_SHUTDOWN_DEADLINE_MS,
  FLEET_MAX_RUNNING,
  FLEET_MAX_WAITING,
} from './defaults.js';
import { AppError, errorMessage } from './errors.js';
import { createLlmClient, type LlmClient } from './llm/llm-client.js';
import type { Logger } from './logger.js';
import { maskUrl } from './mask.js';
import { type LeaseStore, openLeases } from './memory/leases.js';
import { backendOf } from './memory/open-backend.js';
import { type ConversationStoreHandle, openConversationStore } from './memory/open-store.js';
import { lockSqliteStore, type StoreLock } from './memory/store-lock.js';
import { type OpsHandle, startOps } from './ops/start-ops.js';
import { carryOn, type HandOverDeps, takeOver } from './replica-handover.js';
import { createReplicas, type LeaseTiming, type Replicas } from './replicas.js';
import { conversationOf } from './telegram/addressing.js';
import type { UpdateOffset } from './telegram/api-setup.js';
import { checkToken, setupErrorText } from './telegram/check-token.js';
import { createFleetLimit, type FleetLimits } from './telegram/fleet-limit.js';
import type { MemoryPort } from './telegram/handler-deps.js';
import { type BotDeps, type BotHandle, startBot } from './telegram/start-bot.js';
import type { BotLifecycleOptions } from './telegram/supervisor.js';

/** Knobs of `startFleet`, mostly for tests. */
export interface FleetOptions {
  readonly lifecycle?: BotLifecycleOptions;
  /** "typing…" refresh interval in ms. Default DEFAULT_TYPING_INTERVAL_MS. */
  readonly typingIntervalMs?: number;
  /** Lease timings of a replica on Redis. Default DEFAULT_LEASE_TIMING. */
  readonly leaseTiming?: LeaseTiming;
  /** The fleet-wide limit on runs and waiting updates (fleet-limit.ts). Default
   * FLEET_MAX_RUNNING and FLEET_MAX_WAITING. */
  readonly fleetLimits?: FleetLimits;
}

/** A running fleet. */
export interface FleetHandle {
  /** Every bot started (on Redis: held by this replica), by id. */
  readonly bots: ReadonlyMap<string, BotHandle>;
  /** This replica's id on Redis; undefined on SQLite and memory://. */
  readonly replicaId: string | undefined;
  /** The ops server's `http://host:port` (config `server`); undefined when it is off. */
  readonly opsUrl: string | undefined;
  /** Resolves, with why (`every token was rejected`, `no bot could start`, or both mixed),
   * when no bot is left running; a reload may have removed the rest. */
  readonly noBotLeft: Promise<string>;
  /** Applies a new config: starts, drains and stops, restarts or updates only the bots that
   * differ; a changed storage is reported in the plan and not applied. Calls run one at a time.
   * Rejects with AppError, having changed nothing, when a bot to start cannot be set up or the
   * fleet is stopping. */
  apply(next: FleetConfig): Promise<AppliedReload>;
  /** Stops every bot (draining up to `deadlineMs`, default DEFAULT_SHUTDOWN_DEADLINE_MS), then closes the store. No bot
   * starts once this was called, not even from a reload in progress. */
  stop(deadlineMs?: number): Promise<void>;
}

/** Opens storage and starts every enabled bot of `config`. Throws AppError('storage') when
 * the store cannot be opened (nothing is started then). */
export async function startFleet(
  config: FleetConfig,
  logger: Logger,
  options: FleetOptions = {},
): Promise<FleetHandle> {
  const bots = new Map<string, BotHandle>();
  const placement: { replicas?: Replicas } = {};
  const { store, ops, lock, leases } = await openServices(config, bots, placement, logger);
  const flags = { stopRequested: false, reloading: false, startFailed: false, replicated: leases !== undefined };
  const noBotLeft = noBotLeftWatch(bots, flags);
  const updateOffsets = new Map<string, UpdateOffset>();
  const deps: BotDeps = {
    memory: store satisfies MemoryPort,
    llmFor: createLlmCache(),
    logger,
    onRejected: noBotLeft.check,
    updateOffsets,
    fleetLimit: createFleetLimit(
      () => options.fleetLimits ?? { maxRunning: FLEET_MAX_RUNNING, maxWaiting: FLEET_MAX_WAITING },
    ),
    ...(ops.metrics ? { metrics: ops.metrics } : {}),
    ...(options.typingIntervalMs ? { typingIntervalMs: options.typingIntervalMs } : {}),
  };
  const startNow = botStarter(bots, deps, flags, options.lifecycle);
  logger.info(
    { bots: config.bots.map((bot) => bot.id), storage: store.description },
    `starting ${config.bots.length} bot(s)`,
  );
  let start = startNow;
  const handOver: HandOverDeps = {
    journal: leases ?? store.updateJournal,
    offsets: updateOffsets,
    logger,
    answered: answeredIn(store),
  };
  if (leases === undefined) {
    // One process per store: each bot replays what the last run fetched but may not have
    // answered (killed mid-reply), then goes on journaling. Read for every bot at once.
    await Promise.all(config.bots.map((bot) => takeOver(bot, handOver)));
    for (const bot of config.bots) startNow(bot);
    // Restarted by a reload: its offset goes on being stored (a new token: from 0).
    start = (bot) => {
      carryOn(bot, 0, [], handOver);
      return startNow(bot);
    };
  } else {
    const replicas = createReplicas(config.bots, {
      leases,
      logger,
      drainMs: DEFAULT_SHUTDOWN_DEADLINE_MS,
      paused: () => flags.reloading,
      startHeld: async (bot) => {
        await takeOver(bot, handOver);
        // A reload may have started it while its journal was read: never two pollers.
        if (bots.has(bot.id)) return;
        startNow(bot);
      },
      // The journal is left to expire, even after a clean hand-over: a drain that ran out of
      // time dropped updates Telegram had already confirmed, and the next holder replays them
      // (the answered marks skip the rest).
      stopHeld: async (id, deadlineMs) => {
        const bot = bots.get(id);
        await bot?.stop(deadlineMs);
        if (bots.get(id) === bot) bots.delete(id);
      },
      ...(options.leaseTiming ? { timing: options.leaseTiming } : {}),
    });
    placement.replicas = replicas;
    // A reload starts (or restarts) only the bots this replica holds; the others wait for a lease.
    start = (bot) => {
      if (!replicas.holds(bot.id)) return undefined;
      // Restarted by a reload while held: its offset goes on being stored (a new token: from 0).
      carryOn(bot, 0, [], handOver);
      return startNow(bot);
    };
    await replicas.start();
  }
  noBotLeft.check();
  const reloads = createReloadApplier({ current: config, bots, start, checkNoBotLeft: noBotLeft.check, flags });
  const closers = { lock, leases, replicas: placement.replicas };
  return fleetHandle({ bots, store, ops, flags, reloads, noBotLeft: noBotLeft.promise, logger, closers });
}

/** Which journaled updates `store` already records as answered, reading each conversation once
 * (an update that is no message is never counted answered: the handler decides). */
function answeredIn(store: ConversationStoreHandle): NonNullable<HandOverDeps['answered']> {
  return async (bot, updates) => {
    const byConversation = new Map<string, { key: ReturnType<typeof conversationOf>; ids: number[] }>();
    for (const update of updates) {
      if (update.message === undefined) continue;
      const key = conversationOf(bot.id, update.message, bot.groups.memory);
      const id = JSON.stringify(key);
      const entry = byConversation.get(id) ?? { key, ids: [] };
      entry.ids.push(update.update_id);
      byConversation.set(id, entry);
    }
    const done = new Set<number>();
    await Promise.all(
      [...byConversation.values()].map(async ({ key, ids }) => {
        const marks = new Set((await store.read(key)).answered);
        for (const id of ids) if (marks.has(id)) done.add(id);
      }),
    );
    return done;
  };
}

/** The store and the ops server (when `server` is on), opened in that order; a failure of the
 * second closes the first. */
async function openServices(
  config: FleetConfig,
  bots: ReadonlyMap<string, BotHandle>,
  placement: { readonly replicas?: Replicas },
  logger: Logger,
): Promise<{ store: ConversationStoreHandle; ops: OpsHandle; lock?: StoreLock; leases?: LeaseStore }> {
  const lock = await lockStore(config);
  let store: ConversationStoreHandle | undefined;
  let leases: LeaseStore | undefined;
  try {
    store = await openConversationStore({ storage: config.storage, logger });
    leases = store.backend === 'redis' ? await openReplicaLeases(config) : undefined;
    const botStates = () => [...bots].map(([id, bot]) => [id, bot.state()] as const);
    const elsewhere = () => placement.replicas?.elsewhere() ?? [];
    const ops = await startOps(config.server, { bots: botStates, elsewhere, pingStorage: store.ping, logger });
    return { store, ops, ...(lock ? { lock } : {}), ...(leases ? { leases } : {}) };
  } catch (error) {
    // Nothing started yet: leave nothing open.
    await leases?.close();
    await store?.close();
    await lock?.release();
    throw error;
  }
}

/** The lock of a SQLite store (one process per file); nothing for Redis and memory://. */
async function lockStore(config: FleetConfig): Promise<StoreLock | undefined> {
  if (backendOf(config.storage.url) !== 'sqlite') return undefined;
  return lockSqliteStore(config.storage.url.slice('sqlite://'.length), process.pid);
}

/** The lease connection of this replica (its own id: host, pid, a random part). */
async function openReplicaLeases(config: FleetConfig): Promise<LeaseStore> {
  try {
    return await openLeases({
      url: config.storage.url,
      namespace: config.storage.namespace,
      owner: `${hostname()}/${process.pid}/${randomUUID().slice(0, 6)}`,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      operationTimeoutMs: DEFAULT_OPERATION_TIMEOUT_MS,
      reconnectMaxDelayMs: DEFAULT_RECONNECT_MAX_DELAY_MS,
    });
  } catch (error) {
    throw new AppError('storage', `storage unreachable for the replica leases: ${maskUrl(config.storage.url)}`, {
      cause: error,
    });
  }
}

/** The FleetHandle over the running parts: reloads are counted by the ops server; a stop
 * drains the bots (and a reload in progress), then closes the ops server and the store. */
function fleetHandle(parts: {
  bots: Map<string, BotHandle>;
  store: ConversationStoreHandle;
  ops: OpsHandle;
  flags: { stopRequested: boolean };
  reloads: ReturnType<typeof createReloadApplier>;
  noBotLeft: Promise<string>;
  logger: Logger;
  closers: { lock: StoreLock | undefined; leases: LeaseStore | undefined; replicas: Replicas | undefined };
}): FleetHandle {
  const { bots, store, ops, flags, reloads, logger } = parts;
  const { lock, leases, replicas } = parts.closers;
  let stopping: Promise<void> | undefined;
  return {
    bots,
    replicaId: replicas?.id,
    opsUrl: ops.url,
    noBotLeft: parts.noBotLeft,
    async apply(next) {
      try {
        const applied = await reloads.apply(next);
        // Bots added go to whichever replica takes their lease; bots removed are released.
        replicas?.setWanted(next.bots.filter((bot) => !applied.failed.some((failed) => failed.id === bot.id)));
        ops.reloaded(applied);
        return applied;
      } catch (error) {
        ops.reloaded('rejected');
        throw error;
      }
    },
    stop(deadlineMs = DEFAULT_SHUTDOWN_DEADLINE_MS) {
      flags.stopRequested = true;
      stopping ??= (async () => {
        // Drain what runs now (a replica keeps its leases meanwhile, then releases them) and let
        // a reload in progress finish (it starts nothing more).
        await replicas?.stop(deadlineMs);
        await stopBots(bots, deadlineMs);
        await reloads.idle();
        await stopBots(bots, deadlineMs);
        await ops.close();
        await store.close();
        await leases?.close();
        await lock?.release();
        logger.info({}, 'stopped');
      })();
      return stopping;
    },
  };
}

/** `promise` resolves, with why, once `check` finds no bot running (outside a reload or a
 * stop): every bot left had its token rejected, and some may have failed to start. */
function noBotLeftWatch(
  bots: ReadonlyMap<string, BotHandle>,
  flags: {
    readonly stopRequested: boolean;
    readonly reloading: boolean;
    readonly startFailed: boolean;
    readonly replicated: boolean;
  },
): { promise: Promise<string>; check: () => void } {
  let resolve: (reason: string) => void = () => undefined;
  const promise = new Promise<string>((done) => (resolve = done));
  const check = (): void => {
    // Mid-reload the map is between states (a restarted bot is out); the reload checks after.
    if (flags.stopRequested || flags.reloading) return;
    // A replica holding no bot is a standby, not a fleet without bots.
    if (flags.replicated && bots.size === 0) return;
    if (![...bots.values()].every((bot) => bot.state() === 'rejected')) return;
    if (!flags.startFailed) resolve('every token was rejected');
    else
      resolve(
        bots.size === 0 ? 'no bot could start' : 'some bots could not start; the others had their token rejected',
      );
  };
  return { promise, check };
}

/** Starts one bot unless the fleet is stopping; returns why it did not start, if it did not. */
function botStarter(
  bots: Map<string, BotHandle>,
  deps: BotDeps,
  flags: { readonly stopRequested: boolean; startFailed: boolean },
  lifecycle: BotLifecycleOptions | undefined,
): (bot: BotConfig) => string | undefined {
  return (bot) => {
    if (flags.stopRequested) return 'botfleet is stopping';
    try {
      bots.set(bot.id, startBot(bot, deps, lifecycle));
      return undefined;
    } catch (error) {
      // Converted: a reload checks setup problems first; this is the last line of defence.
      const reason = setupErrorText(error);
      flags.startFailed = true;
      deps.logger.error({ bot: bot.id, err: reason }, 'bot cannot start');
      return reason;
    }
  };
}

async function stopBots(bots: ReadonlyMap<string, BotHandle>, deadlineMs: number): Promise<void> {
  await Promise.all([...bots.values()].map((bot) => bot.stop(deadlineMs)));
}

/** One model client per provider, rebuilt when the provider's settings change (reload). */
function createLlmCache(): (bot: BotConfig) => LlmClient {
  const clients = new Map<string, { provider: ProviderConfig; client: LlmClient }>();
  return (bot) => {
    const cached = clients.get(bot.provider.name);
    if (cached && sameProvider(cached.provider, bot.provider)) return cached.client;
    const client = createLlmClient(bot.provider);
    clients.set(bot.provider.name, { provider: bot.provider, client });
    return client;
  };
}

function sameProvider(a: ProviderConfig, b: ProviderConfig): boolean {
  return (
    a.baseUrl === b.baseUrl && a.apiKey === b.apiKey && a.timeoutMs === b.timeoutMs && a.maxRetries === b.maxRetries
  );
}

/** One line of `botfleet check --online`. */
export interface OnlineCheck {
  readonly subject: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Asks Telegram getMe for every enabled bot and the store for a round trip, concurrently.
 * Never throws: every failure becomes a line with `ok: false`. */
export async function checkFleetOnline(config: FleetConfig, logger: Logger): Promise<OnlineCheck[]> {
  const bots = config.bots.map(async (bot): Promise<OnlineCheck> => {
    const result = await checkToken(bot);
    return result.ok
      ? { subject: bot.id, ok: true, detail: `Telegram knows it as @${result.username}` }
      : { subject: bot.id, ok: false, detail: result.problem };
  });
  const storage = (async (): Promise<OnlineCheck> => {
    try {
      const store = await openConversationStore({ storage: config.storage, logger });
      await store.close();
      return { subject: 'storage', ok: true, detail: `round trip to ${store.description} worked` };
    } catch (error) {
      // The store's errors name the backend and the masked URL; report, don't crash.
      return { subject: 'storage', ok: false, detail: errorMessage(error) };
    }
  })();
  return Promise.all([...bots, storage]);
}
