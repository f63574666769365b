/**
 * One bot's lifecycle: getMe (with a timeout), deleteWebhook, setMyCommands, then a grammY
 * runner that long-polls until stopped. A supervisor restarts the runner after a 409 or a
 * network failure with capped exponential backoff, and gives up only when Telegram rejects
 * the token. Once stop() began no runner starts; the drain (drain.ts) bounds the whole stop
 * by its deadline, then aborts model and Telegram calls alike (api-setup.ts).
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunnerHandle, run } from '@grammyjs/runner';
import { Bot, GrammyError } from 'grammy';
import type { BotConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import { grammySignal, installApiTransformers } from './api-setup.js';
import { drainWithin, trackUntilSettled } from './drain.js';
import { BOT_COMMANDS, errorText, type HandlerDeps, installHandlers } from './handlers.js';

/** Re-exported for callers that make one-off Bot API calls with a Node signal. */
export { grammySignal } from './api-setup.js';

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
  /** Resolves once the first runner is polling, or the bot gave up or was stopped first
   * (see `state`). */
  readonly ready: Promise<void>;
  /** `starting` → `polling` ⇄ `retrying`; `rejected` (token refused) and `stopped` are final. */
  state(): 'starting' | 'polling' | 'retrying' | 'rejected' | 'stopped';
  /** Stops polling at once (no runner starts after this call) and waits for in-flight replies
   * until `deadlineMs` after the call; then aborts them, model and Telegram calls alike
   * (nothing is stored for them), and gives them up to 2 s to unwind. Never waits longer. */
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
  const halt = new AbortController(); // stops the supervisor and its start-up calls
  const abortReplies = new AbortController(); // aborts in-flight model and Telegram calls at the deadline
  setMaxListeners(0, abortReplies.signal); // every in-flight call listens to it
  const inFlight = new Set<Promise<unknown>>(); // reply handlers
  const pending = new Set<Promise<unknown>>(); // handlers, the supervisor, a stopping runner

  const bot = new Bot(initial.token, { client: { apiRoot: initial.telegram.apiRoot } });
  installApiTransformers(bot, abortReplies.signal);
  bot.use(async (_ctx, next) => {
    const work = next();
    trackUntilSettled(inFlight, work);
    await trackUntilSettled(pending, work);
  });
  // Messages waiting for their conversation's turn, and their answers, outlive their update's
  // middleware call: the conversation queue hands that work over here so the drain waits for it.
  const track = (work: Promise<void>): void => {
    trackUntilSettled(inFlight, work);
    trackUntilSettled(pending, work);
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
  trackUntilSettled(
    pending,
    supervise().catch((error: unknown) => {
      // A bug, not a Telegram fault (those are retried or end in `rejected`): say so, loudly.
      state = 'stopped';
      log.error({ err: errorText(error) }, 'the bot supervisor failed; this bot is stopped');
      markReady();
    }),
  );

  /** Runs the runner until stop(), restarting it after 409s and network failures. */
  async function supervise(): Promise<void> {
    let delayMs = options.retryInitialMs ?? 1000;
    while (!halt.signal.aborted) {
      try {
        const polling = await startRunner();
        if (polling === undefined) break; // stop() began while starting
        const startedAt = Date.now();
        await polling;
        if (Date.now() - startedAt > 60_000) delayMs = options.retryInitialMs ?? 1000;
      } catch (error) {
        if (halt.signal.aborted) break;
        if (isRejectedToken(error)) return giveUp(error as GrammyError);
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

  /** getMe, deleteWebhook, setMyCommands, then a runner; resolves with the runner's task, or
   * undefined when stop() began meanwhile (then no runner is started). */
  async function startRunner(): Promise<Promise<void> | undefined> {
    if (!bot.isInited())
      await bot.init(
        grammySignal(AbortSignal.any([halt.signal, AbortSignal.timeout(options.initTimeoutMs ?? 15_000)])),
      );
    await bot.api.deleteWebhook({}, grammySignal(halt.signal));
    await setCommands();
    // No await between this check and run(): stop() either sees the runner or prevents it.
    if (halt.signal.aborted) return undefined;
    runner = run(bot, {
      runner: {
        fetch: { allowed_updates: ['message'], timeout: options.pollTimeoutSeconds ?? 30 },
        silent: true,
        maxRetryTime: 0,
      },
      sink: { concurrency: config.telegram.maxConcurrentUpdates },
    });
    state = 'polling';
    const groups = bot.botInfo.can_read_all_group_messages ? 'all messages' : 'privacy mode';
    log.info({ username: bot.botInfo.username, groups }, 'bot is polling');
    markReady();
    return runner.task() ?? Promise.resolve();
  }

  async function setCommands(): Promise<void> {
    try {
      await bot.api.setMyCommands(BOT_COMMANDS, {}, grammySignal(halt.signal));
    } catch (error) {
      if (halt.signal.aborted) return; // stopped while starting: the caller checks the halt
      // The command menu is a convenience: a bot without one still answers.
      log.warn({ err: errorText(error) }, 'setMyCommands failed; the command menu may be missing');
    }
  }

  function giveUp(error: GrammyError): void {
    state = 'rejected';
    log.error(
      { status: error.error_code },
      'Telegram rejected the bot token; this bot is stopped (the others keep running). Check its token from @BotFather.',
    );
    markReady();
    deps.onRejected(config.id);
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
    // The runner's loop may be waiting for a free update slot: track it, never await it bare.
    const winding = runner?.stop();
    if (winding !== undefined) trackUntilSettled(pending, winding);
    await drainWithin({ pending, inFlight: () => inFlight.size, abort: () => abortReplies.abort(), log }, deadlineMs);
    state = state === 'rejected' ? 'rejected' : 'stopped';
    markReady();
  }
}

/** A 401 (revoked or wrong token) or 404 (malformed token) from the Bot API. */
function isRejectedToken(error: unknown): boolean {
  return error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404);
}
