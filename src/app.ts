/**
 * The composition root: opens the one shared store, makes a model client per provider, and
 * starts one bot per enabled entry, all concurrently. One bot's failure never stops the
 * others; the fleet reports when no bot is left. A reload applies only what changed.
 */

import type { BotConfig, FleetConfig, ProviderConfig } from './config/types.js';
import { DEFAULT_SHUTDOWN_DEADLINE_MS } from './defaults.js';
import { AppError, errorMessage } from './errors.js';
import { type FleetPlan, planReload } from './fleet-plan.js';
import { createLlmClient, type LlmClient } from './llm/llm-client.js';
import type { Logger } from './logger.js';
import { openConversationStore } from './memory/open-store.js';
import { botSetupProblem, checkToken } from './telegram/check-token.js';
import type { MemoryPort } from './telegram/handler-deps.js';
import { type BotDeps, type BotHandle, type BotLifecycleOptions, startBot } from './telegram/start-bot.js';

/** Knobs of `startFleet`, mostly for tests. */
export interface FleetOptions {
  readonly lifecycle?: BotLifecycleOptions;
  /** "typing…" refresh interval in ms. Default DEFAULT_TYPING_INTERVAL_MS. */
  readonly typingIntervalMs?: number;
}

/** What a reload did: the plan, and the bots of it that could not start after all. */
export interface AppliedReload extends FleetPlan {
  /** Added or restarted bots that failed to start (they are not running); empty normally. */
  readonly failed: readonly { readonly id: string; readonly reason: string }[];
}

/** A running fleet. */
export interface FleetHandle {
  /** Every bot started, by id. */
  readonly bots: ReadonlyMap<string, BotHandle>;
  /** Resolves when no bot is left running (every token rejected, or a reload removed the rest). */
  readonly noBotLeft: Promise<void>;
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
  const store = await openConversationStore({ storage: config.storage, logger });
  const bots = new Map<string, BotHandle>();
  const flags = { stopRequested: false, reloading: false };
  let resolveNoBotLeft: () => void = () => undefined;
  const noBotLeft = new Promise<void>((resolve) => (resolveNoBotLeft = resolve));
  const checkNoBotLeft = (): void => {
    // Mid-reload the map is between states (a restarted bot is out); the reload checks after.
    if (flags.stopRequested || flags.reloading) return;
    if ([...bots.values()].every((bot) => bot.state() === 'rejected')) resolveNoBotLeft();
  };
  const deps: BotDeps = {
    memory: store satisfies MemoryPort,
    llmFor: createLlmCache(),
    logger,
    onRejected: checkNoBotLeft,
    ...(options.typingIntervalMs ? { typingIntervalMs: options.typingIntervalMs } : {}),
  };
  const start = botStarter(bots, deps, flags, options.lifecycle);
  for (const bot of config.bots) start(bot);
  logger.info(
    { bots: config.bots.map((bot) => bot.id), storage: store.description },
    `starting ${config.bots.length} bot(s)`,
  );
  checkNoBotLeft();
  const reloads = createApplier({ current: config, bots, start, checkNoBotLeft, flags });
  let stopping: Promise<void> | undefined;
  return {
    bots,
    noBotLeft,
    apply: (next) => reloads.apply(next),
    stop(deadlineMs = DEFAULT_SHUTDOWN_DEADLINE_MS) {
      flags.stopRequested = true;
      stopping ??= (async () => {
        // Drain what runs now and let a reload in progress finish (it starts nothing more).
        await stopBots(bots, deadlineMs);
        await reloads.idle();
        await stopBots(bots, deadlineMs);
        await store.close();
        logger.info({}, 'stopped');
      })();
      return stopping;
    },
  };
}

/** Starts one bot unless the fleet is stopping; returns why it did not start, if it did not. */
function botStarter(
  bots: Map<string, BotHandle>,
  deps: BotDeps,
  flags: { readonly stopRequested: boolean },
  lifecycle: BotLifecycleOptions | undefined,
): (bot: BotConfig) => string | undefined {
  return (bot) => {
    if (flags.stopRequested) return 'botfleet is stopping';
    try {
      bots.set(bot.id, startBot(bot, deps, lifecycle));
      return undefined;
    } catch (error) {
      // Setup problems are caught by `setupProblems` first; this is the last line of defence.
      const reason = errorMessage(error);
      deps.logger.error({ bot: bot.id, err: reason }, 'bot cannot start');
      return reason;
    }
  };
}

async function stopBots(bots: ReadonlyMap<string, BotHandle>, deadlineMs: number): Promise<void> {
  await Promise.all([...bots.values()].map((bot) => bot.stop(deadlineMs)));
}

interface ApplierState {
  readonly current: FleetConfig;
  readonly bots: Map<string, BotHandle>;
  readonly start: (bot: BotConfig) => string | undefined;
  readonly checkNoBotLeft: () => void;
  /** `stopRequested`: set once by stop; `reloading`: set here while a reload changes `bots`. */
  readonly flags: { readonly stopRequested: boolean; reloading: boolean };
}

/** Runs reloads one at a time against the running `bots`. */
function createApplier(state: ApplierState): {
  apply(next: FleetConfig): Promise<AppliedReload>;
  idle(): Promise<void>;
} {
  let current = state.current;
  let applying: Promise<unknown> = Promise.resolve();
  const drainAndStop = async (id: string): Promise<void> => {
    await state.bots.get(id)?.stop(DEFAULT_SHUTDOWN_DEADLINE_MS);
    state.bots.delete(id);
  };
  const applyNow = async (next: FleetConfig): Promise<AppliedReload> => {
    const plan = planReload(current, next);
    // Everything that can be checked is checked before anything stops or starts.
    if (state.flags.stopRequested) throw new AppError('config', 'botfleet is stopping; nothing was changed');
    const problems = setupProblems([...plan.added, ...plan.restarted]);
    if (problems.length > 0) throw new AppError('config', `${problems.join('; ')}; nothing was changed`);
    state.flags.reloading = true;
    try {
      return await changeBots(plan, next);
    } finally {
      state.flags.reloading = false;
      state.checkNoBotLeft();
    }
  };
  const changeBots = async (plan: FleetPlan, next: FleetConfig): Promise<AppliedReload> => {
    const failed: { id: string; reason: string }[] = [];
    const startOrRecord = (bot: BotConfig): void => {
      const reason = state.start(bot);
      if (reason !== undefined) failed.push({ id: bot.id, reason });
    };
    // Removed and restarted bots drain first, so a restarted token never polls twice.
    await Promise.all([
      ...plan.removed.map(drainAndStop),
      ...plan.restarted.map(async (bot) => {
        await drainAndStop(bot.id);
        startOrRecord(bot);
      }),
    ]);
    plan.added.forEach(startOrRecord);
    for (const bot of plan.updated) state.bots.get(bot.id)?.update(bot);
    // What runs now: a bot that failed to start is not current, so the next reload retries it.
    const notRunning = new Set(failed.map((failure) => failure.id));
    current = { ...next, bots: next.bots.filter((bot) => !notRunning.has(bot.id)), storage: current.storage };
    return { ...plan, failed };
  };
  return {
    apply(next) {
      const applied = applying.then(() => applyNow(next));
      // The next apply waits for this one whatever its outcome; the caller gets the outcome.
      applying = applied.then(
        () => 'applied',
        () => 'rejected',
      );
      return applied;
    },
    idle: async () => {
      await applying;
    },
  };
}

/** Why some of `bots` cannot start (settings the Telegram client refuses), one line each. */
function setupProblems(bots: readonly BotConfig[]): string[] {
  return bots.flatMap((bot) => {
    const problem = botSetupProblem(bot);
    return problem === undefined ? [] : [`bot ${bot.id} cannot start (${problem})`];
  });
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
