/**
 * The composition root: opens the one shared store, makes a model client per provider, and
 * starts one bot per enabled entry, all concurrently. One bot's failure never stops the
 * others; the fleet reports when no bot is left. A reload applies only what changed.
 */
import type { BotConfig, FleetConfig, ProviderConfig } from './config/types.js';
import { type FleetPlan, planReload } from './fleet-plan.js';
import { createLlmClient, type LlmClient } from './llm/llm-client.js';
import type { Logger } from './logger.js';
import { openConversationStore } from './memory/open-store.js';
import { buildWindow } from './memory/window.js';
import { checkToken } from './telegram/check-token.js';
import type { MemoryPort } from './telegram/handlers.js';
import { type BotHandle, type BotLifecycleOptions, startBot } from './telegram/start-bot.js';

/** Default time in-flight replies get to finish on shutdown, in ms. */
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 10_000;

/** Knobs of `startFleet`, mostly for tests. */
export interface FleetOptions {
  readonly lifecycle?: BotLifecycleOptions;
  /** "typing…" refresh interval in ms. Default 4000. */
  readonly typingIntervalMs?: number;
}

/** A running fleet. */
export interface FleetHandle {
  /** Every bot started, by id. */
  readonly bots: ReadonlyMap<string, BotHandle>;
  /** Resolves when every bot has stopped on its own (all tokens rejected). */
  readonly noBotLeft: Promise<void>;
  /** Applies a new config: starts, drains and stops, restarts or updates only the bots that
   * differ; a changed storage is reported in the plan and not applied. Calls run one at a time. */
  apply(next: FleetConfig): Promise<FleetPlan>;
  /** Stops every bot (draining up to `deadlineMs`, default 10 s), then closes the store. */
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
  const memory: MemoryPort = store;
  const llmFor = createLlmCache();
  const bots = new Map<string, BotHandle>();
  let resolveNoBotLeft: () => void = () => undefined;
  const noBotLeft = new Promise<void>((resolve) => (resolveNoBotLeft = resolve));
  const onRejected = (): void => {
    if (bots.size > 0 && [...bots.values()].every((bot) => bot.state() === 'rejected')) resolveNoBotLeft();
  };
  const deps = {
    memory,
    buildWindow,
    llmFor,
    logger,
    onRejected,
    ...(options.typingIntervalMs ? { typingIntervalMs: options.typingIntervalMs } : {}),
  };
  const start = (bot: BotConfig): void => void bots.set(bot.id, startBot(bot, deps, options.lifecycle));
  const drainAndStop = async (id: string): Promise<void> => {
    await bots.get(id)?.stop(DEFAULT_SHUTDOWN_DEADLINE_MS);
    bots.delete(id);
  };
  config.bots.forEach(start);
  logger.info(
    { bots: config.bots.map((bot) => bot.id), storage: store.description },
    `starting ${config.bots.length} bot(s)`,
  );
  if (bots.size === 0) resolveNoBotLeft();

  let current = config;
  let applying = Promise.resolve();
  let stopping: Promise<void> | undefined;
  return {
    bots,
    noBotLeft,
    apply(next) {
      const applied = applying.then(async () => {
        const plan = planReload(current, next);
        // Removed and restarted bots drain first, so a restarted token never polls twice.
        await Promise.all([
          ...plan.removed.map(drainAndStop),
          ...plan.restarted.map(async (bot) => {
            await drainAndStop(bot.id);
            start(bot);
          }),
        ]);
        plan.added.forEach(start);
        for (const bot of plan.updated) bots.get(bot.id)?.update(bot);
        current = { ...next, storage: current.storage };
        return plan;
      });
      // The next apply waits for this one whatever its outcome; the caller gets the outcome.
      applying = applied.then(
        () => undefined,
        () => undefined,
      );
      return applied;
    },
    stop(deadlineMs = DEFAULT_SHUTDOWN_DEADLINE_MS) {
      stopping ??= (async () => {
        await applying;
        await Promise.all([...bots.values()].map((bot) => bot.stop(deadlineMs)));
        await store.close();
        logger.info({}, 'stopped');
      })();
      return stopping;
    },
  };
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
      return { subject: 'storage', ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
  })();
  return Promise.all([...bots, storage]);
}
