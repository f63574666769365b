/**
 * One bot's lifecycle: getMe (with a timeout), deleteWebhook, setMyCommands, then a grammY
 * runner that long-polls until stopped. A supervisor restarts the runner after a 409 or a
 * network failure with capped exponential backoff, and gives up only when Telegram rejects
 * the token. Stopping drains in-flight replies up to a deadline, then aborts the rest.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { autoRetry } from '@grammyjs/auto-retry';
import { type RunnerHandle, run } from '@grammyjs/runner';
import { Bot, GrammyError } from 'grammy';
import type { BotConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import { BOT_COMMANDS, errorText, type HandlerDeps, installHandlers } from './handlers.js';
import { retryNetworkErrors } from './network-retry.js';

/** Timing knobs of a bot's lifecycle, all in milliseconds. */
export interface BotLifecycleOptions {
  /** Longest wait for getMe at start before retrying. Default 15000. */
  readonly initTimeoutMs?: number;
  /** First backoff after a 409 or a network failure; doubles each time. Default 1000. */
  readonly retryInitialMs?: number;
  /** Backoff cap. Default 60000. */
  readonly retryMaxMs?: number;
  /** Long-poll timeout of getUpdates, in seconds. Default 30. */
  readonly pollTimeoutSeconds?: number;
}

/** What a running bot needs from the rest of the app. */
export interface BotDeps extends Omit<HandlerDeps, 'config' | 'signal' | 'track'> {
  readonly logger: Logger;
  /** Called once when the bot stops for good on its own (token rejected). */
  readonly onRejected: (botId: string) => void;
}

/** A started bot. */
export interface BotHandle {
  readonly id: string;
  /** Resolves once the first runner is polling (or the bot gave up: see `state`). */
  readonly ready: Promise<void>;
  /** `starting` → `polling` ⇄ `retrying`; `rejected` (token refused) and `stopped` are final. */
  state(): 'starting' | 'polling' | 'retrying' | 'rejected' | 'stopped';
  /** Stops polling, waits up to `deadlineMs` for in-flight replies, then aborts what is left
   * (nothing is stored for it). Resolves when every handler has returned. */
  stop(deadlineMs: number): Promise<void>;
  /** Replaces the config used from the next message on (live reload). */
  update(config: BotConfig): void;
}

/** Starts `config`'s bot in the background and returns its handle at once. */
export function startBot(initial: BotConfig, deps: BotDeps, options: BotLifecycleOptions = {}): BotHandle {
  const log = deps.logger.child({ bot: initial.id });
  let config = initial;
  let state: ReturnType<BotHandle['state']> = 'starting';
  let runner: RunnerHandle | undefined;
  const halt = new AbortController(); // stops the supervisor's waits
  const abortReplies = new AbortController(); // aborts in-flight model calls at the deadline
  setMaxListeners(0, abortReplies.signal); // every in-flight model call listens to it
  const inFlight = new Set<Promise<unknown>>();

  const bot = new Bot(initial.token, { client: { apiRoot: initial.telegram.apiRoot } });
  // 429 (honouring retry_after) and 5xx: auto-retry; network failures: a few quick retries.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 60, rethrowHttpErrors: true }));
  bot.api.config.use(retryNetworkErrors());
  bot.use(async (_ctx, next) => {
    const work = next();
    inFlight.add(work);
    try {
      await work;
    } finally {
      inFlight.delete(work);
    }
  });
  // Messages waiting for their conversation's turn, and their answers, outlive their update's
  // middleware call: the conversation queue hands that work over here so the drain waits for it.
  const track = (work: Promise<void>): void => {
    inFlight.add(work);
    void work.then(() => inFlight.delete(work));
  };
  installHandlers(bot, { ...deps, logger: log, config: () => config, signal: abortReplies.signal, track });
  bot.catch((error) => {
    // One bad update never disturbs the others: log it with its update id and carry on.
    log.error(
      { update: error.ctx.update.update_id, err: errorText(error.error) },
      'unexpected error while handling an update',
    );
  });

  let stopping: Promise<void> | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const supervisor = supervise();

  async function supervise(): Promise<void> {
    let delayMs = options.retryInitialMs ?? 1000;
    while (!halt.signal.aborted) {
      try {
        if (!bot.isInited())
          await bot.init(
            grammySignal(AbortSignal.any([halt.signal, AbortSignal.timeout(options.initTimeoutMs ?? 15_000)])),
          );
        await bot.api.deleteWebhook({}, grammySignal(halt.signal));
        await setCommands();
        runner = run(bot, {
          runner: {
            fetch: { allowed_updates: ['message'], timeout: options.pollTimeoutSeconds ?? 30 },
            silent: true,
            maxRetryTime: 0,
          },
          sink: { concurrency: config.telegram.maxConcurrentUpdates },
        });
        state = 'polling';
        log.info(
          {
            username: bot.botInfo.username,
            groups: bot.botInfo.can_read_all_group_messages ? 'all messages' : 'privacy mode',
          },
          'bot is polling',
        );
        markReady();
        const startedAt = Date.now();
        await runner.task();
        if (Date.now() - startedAt > 60_000) delayMs = options.retryInitialMs ?? 1000;
      } catch (error) {
        if (halt.signal.aborted) break;
        if (isRejectedToken(error)) {
          state = 'rejected';
          log.error(
            { status: (error as GrammyError).error_code },
            'Telegram rejected the bot token; this bot is stopped (the others keep running). Check its token from @BotFather.',
          );
          markReady();
          deps.onRejected(config.id);
          return;
        }
        state = 'retrying';
        const conflict = error instanceof GrammyError && error.error_code === 409;
        log.warn(
          { err: errorText(error), retryInMs: delayMs },
          conflict
            ? 'another process is polling this bot token (409 Conflict); retrying'
            : 'cannot reach the Telegram Bot API; retrying',
        );
        await sleep(delayMs, undefined, { signal: halt.signal }).catch((waitError: unknown) => {
          // Only stop() aborts this wait; anything else is a bug worth surfacing.
          if (!halt.signal.aborted) throw waitError;
        });
        delayMs = Math.min(delayMs * 2, options.retryMaxMs ?? 60_000);
      }
    }
  }

  async function setCommands(): Promise<void> {
    try {
      await bot.api.setMyCommands(BOT_COMMANDS, {}, grammySignal(halt.signal));
    } catch (error) {
      // The command menu is a convenience: a bot without one still answers.
      log.warn({ err: errorText(error) }, 'setMyCommands failed; the command menu may be missing');
    }
  }

  return {
    id: initial.id,
    ready,
    state: () => state,
    update(next) {
      config = next;
    },
    stop(deadlineMs) {
      stopping ??= drainAndStop(deadlineMs);
      return stopping;
    },
  };

  async function drainAndStop(deadlineMs: number): Promise<void> {
    halt.abort();
    if (runner?.isRunning()) await runner.stop();
    await supervisor;
    const drained = await settleWithin([...inFlight], deadlineMs);
    if (!drained) {
      log.warn(
        { inFlight: inFlight.size },
        'shutdown deadline reached; aborting unfinished replies (nothing is stored for them)',
      );
      abortReplies.abort();
      await settleWithin([...inFlight], 2_000);
    }
    state = state === 'rejected' ? 'rejected' : 'stopped';
  }
}

/** A 401 (revoked or wrong token) or 404 (malformed token) from the Bot API. */
function isRejectedToken(error: unknown): boolean {
  return error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404);
}

/** Waits for every promise to settle, or `ms` to pass; true when all settled in time. */
async function settleWithin(work: Promise<unknown>[], ms: number): Promise<boolean> {
  if (work.length === 0) return true;
  const timer = new AbortController();
  const all = Promise.allSettled(work).then(() => true);
  // The timer is cancelled in `finally` once the work settled first: that rejection is expected.
  const timeout = sleep(ms, false, { signal: timer.signal }).catch(() => false);
  try {
    return await Promise.race([all, timeout]);
  } finally {
    timer.abort();
  }
}

/** grammY types signals with an older AbortSignal shim; Node's own signal is what it uses at
 * run time, so this is a type-level conversion only. */
export function grammySignal(signal: AbortSignal): Parameters<Bot['init']>[0] {
  return signal as unknown as Parameters<Bot['init']>[0];
}
