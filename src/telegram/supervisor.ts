/**
 * A bot's supervisor: getMe (with a timeout), deleteWebhook, setMyCommands, then a grammY
 * runner; restarted after a 409 or a network failure with capped exponential backoff (reset
 * after a healthy run of HEALTHY_RUN_MS), given up only when Telegram rejects the token. Once
 * `halt` aborted, no runner starts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunnerHandle, run } from '@grammyjs/runner';
import type { Bot, GrammyError } from 'grammy';
import type { BotMetrics } from '../answer/metrics.js';
import type { BotConfig } from '../config/types.js';
import { HEALTHY_RUN_MS } from '../defaults.js';
import type { Logger } from '../logger.js';
import { BOT_COMMANDS } from './commands.js';
import { grammySignal } from './grammy-compat.js';
import { errorText, isPollingConflict, isTokenRejected } from './telegram-errors.js';

/** Timing knobs of a bot's lifecycle (defaults in src/defaults.ts). */
export interface BotLifecycleOptions {
  /** Longest wait for getMe at start before retrying, in ms. Default DEFAULT_INIT_TIMEOUT_MS. */
  readonly initTimeoutMs?: number;
  /** First backoff after a 409 or a network failure, in ms; doubles each time. Default
   * DEFAULT_RETRY_INITIAL_MS. */
  readonly retryInitialMs?: number;
  /** Backoff cap, in ms. Default DEFAULT_RETRY_MAX_MS. */
  readonly retryMaxMs?: number;
  /** Long-poll timeout of getUpdates, in seconds. Default DEFAULT_POLL_TIMEOUT_SECONDS. */
  readonly pollTimeoutSeconds?: number;
}

/** Where a bot is in its lifecycle: `starting` → `polling` ⇄ `retrying`; `rejected` (token
 * refused) and `stopped` are final. */
export type BotState = 'starting' | 'polling' | 'retrying' | 'rejected' | 'stopped';

/** One running bot's shared state, built by start-bot.ts, used by the supervisor's steps. */
export interface BotRun {
  readonly bot: Bot;
  readonly log: Logger;
  readonly timing: Required<BotLifecycleOptions>;
  /** Stops the supervisor and its start-up calls. */
  readonly halt: AbortController;
  /** Aborted at the shutdown deadline: model requests, waiting messages, pacing waits and the
   * Bot API calls begun before it (replies cut off may still post their cut-off note). */
  readonly deadlineReached: AbortController;
  /** Aborted once the cut-off notes had their time (CUT_OFF_GRACE_MS) and when stop() ends:
   * every Bot API call but getUpdates. */
  readonly abortReplies: AbortController;
  /** Reply handlers still running. */
  readonly inFlight: Set<Promise<unknown>>;
  /** Everything the drain waits for: handlers, the supervisor, a stopping runner. */
  readonly pending: Set<Promise<unknown>>;
  readonly ready: Promise<void>;
  markReady(): void;
  config: BotConfig;
  state: BotState;
  runner: RunnerHandle | undefined;
  /** Counts the backoffs (`polling` errors); none: not counted. */
  readonly metrics?: BotMetrics;
}

/** Runs the runner until stop(), restarting it after 409s and network failures; calls
 * `onRejected` once when Telegram rejects the token (then the bot is `rejected`). */
export async function supervise(self: BotRun, onRejected: (botId: string) => void): Promise<void> {
  let delayMs = self.timing.retryInitialMs;
  while (!self.halt.signal.aborted) {
    try {
      const polling = await startRunner(self);
      if (polling === undefined) break; // stop() began while starting
      const startedAt = Date.now();
      await polling;
      if (Date.now() - startedAt > HEALTHY_RUN_MS) delayMs = self.timing.retryInitialMs;
    } catch (error) {
      if (self.halt.signal.aborted) break;
      if (isTokenRejected(error)) return giveUp(self, onRejected, error);
      await waitBeforeRetry(self, error, delayMs);
      delayMs = Math.min(delayMs * 2, self.timing.retryMaxMs);
    }
  }
}

/** Logs why polling stopped and waits `delayMs`, or less when stop() begins. */
async function waitBeforeRetry(self: BotRun, error: unknown, delayMs: number): Promise<void> {
  self.state = 'retrying';
  self.metrics?.error(self.config.id, 'polling');
  self.log.warn(
    { err: errorText(error), retryInMs: delayMs },
    isPollingConflict(error)
      ? 'another process is polling this bot token (409 Conflict); retrying'
      : 'cannot reach the Telegram Bot API; retrying',
  );
  await sleep(delayMs, undefined, { signal: self.halt.signal }).catch((waitError: unknown) => {
    // Only stop() aborts this wait; anything else is a bug worth surfacing.
    if (!self.halt.signal.aborted) throw waitError;
  });
}

/** getMe, deleteWebhook, setMyCommands, then a runner; resolves with the runner's task, or
 * undefined when stop() began meanwhile (then no runner is started). */
async function startRunner(self: BotRun): Promise<Promise<void> | undefined> {
  const { bot, halt, timing } = self;
  if (!bot.isInited())
    await bot.init(grammySignal(AbortSignal.any([halt.signal, AbortSignal.timeout(timing.initTimeoutMs)])));
  await bot.api.deleteWebhook({}, grammySignal(halt.signal));
  await setCommands(self);
  // No await between this check and run(): stop() either sees the runner or prevents it.
  if (halt.signal.aborted) return undefined;
  self.runner = run(bot, {
    runner: {
      fetch: { allowed_updates: ['message'], timeout: timing.pollTimeoutSeconds },
      silent: true,
      maxRetryTime: 0,
    },
    sink: { concurrency: self.config.telegram.maxConcurrentUpdates },
  });
  self.state = 'polling';
  const groups = bot.botInfo.can_read_all_group_messages ? 'all messages' : 'privacy mode';
  self.log.info({ username: bot.botInfo.username, groups }, 'bot is polling');
  self.markReady();
  return self.runner.task() ?? Promise.resolve();
}

/** Sets the command menu; a failure is logged, not fatal. */
async function setCommands(self: BotRun): Promise<void> {
  try {
    await self.bot.api.setMyCommands(BOT_COMMANDS, {}, grammySignal(self.halt.signal));
  } catch (error) {
    if (self.halt.signal.aborted) return; // stopped while starting: the caller checks the halt
    // The command menu is a convenience: a bot without one still answers.
    self.log.warn({ err: errorText(error) }, 'setMyCommands failed; the command menu may be missing');
  }
}

/** Telegram rejected the token: this bot stops for good (the others keep running). */
function giveUp(self: BotRun, onRejected: (botId: string) => void, error: GrammyError): void {
  self.state = 'rejected';
  self.log.error(
    { status: error.error_code },
    'Telegram rejected the bot token; this bot is stopped (the others keep running). Check its token from @BotFather.',
  );
  self.markReady();
  onRejected(self.config.id);
}
