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
import { Bot, type GrammyError } from 'grammy';
import type { BotConfig } from '../config/types.js';
import {
  DEFAULT_INIT_TIMEOUT_MS,
  DEFAULT_POLL_TIMEOUT_SECONDS,
  DEFAULT_RETRY_INITIAL_MS,
  DEFAULT_RETRY_MAX_MS,
  HEALTHY_RUN_MS,
} from '../defaults.js';
import type { Logger } from '../logger.js';
import { installApiTransformers } from './api-setup.js';
import { BOT_COMMANDS } from './commands.js';
import { drainWithin, trackUntilSettled } from './drain.js';
import { grammySignal } from './grammy-compat.js';
import type { HandlerDeps } from './handler-deps.js';
import { installHandlers } from './handlers.js';
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

/** What a running bot needs from the rest of the app. */
export interface BotDeps extends Omit<HandlerDeps, 'config' | 'signal' | 'track'> {
  readonly logger: Logger;
  /** Called once when the bot stops for good on its own (token rejected). */
  readonly onRejected: (botId: string) => void;
}

/** Where a bot is in its lifecycle: `starting` → `polling` ⇄ `retrying`; `rejected` (token
 * refused) and `stopped` are final. */
export type BotState = 'starting' | 'polling' | 'retrying' | 'rejected' | 'stopped';

/** A started bot. */
export interface BotHandle {
  readonly id: string;
  /** Resolves once the first runner is polling, or the bot gave up or was stopped first
   * (see `state`). */
  readonly ready: Promise<void>;
  /** See BotState. */
  state(): BotState;
  /** Stops polling at once (no runner starts after this call) and waits for in-flight replies
   * until `deadlineMs` after the call; then aborts them, model and Telegram calls alike
   * (nothing is stored for them), and gives them ABORT_GRACE_MS to unwind. Never waits longer. */
  stop(deadlineMs: number): Promise<void>;
  /** Replaces the config used from the next message on (live reload). */
  update(config: BotConfig): void;
}

/** One running bot's shared state, for the steps below. */
interface BotRun {
  readonly bot: Bot;
  readonly log: Logger;
  readonly timing: Required<BotLifecycleOptions>;
  /** Stops the supervisor and its start-up calls. */
  readonly halt: AbortController;
  /** Aborts in-flight model and Telegram calls at the shutdown deadline. */
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
}

/** Starts `config`'s bot in the background and returns its handle at once. */
export function startBot(initial: BotConfig, deps: BotDeps, options: BotLifecycleOptions = {}): BotHandle {
  const self = createRun(initial, deps.logger.child({ bot: initial.id }), options);
  installUpdateHandling(self, deps);
  trackUntilSettled(
    self.pending,
    supervise(self, deps).catch((error: unknown) => {
      // A bug, not a Telegram fault (those are retried or end in `rejected`): say so, loudly.
      self.state = 'stopped';
      self.log.error({ err: errorText(error) }, 'the bot supervisor failed; this bot is stopped');
      self.markReady();
    }),
  );
  let stopping: Promise<void> | undefined;
  return {
    id: initial.id,
    ready: self.ready,
    state: () => self.state,
    update(next) {
      self.config = next;
    },
    stop(deadlineMs) {
      stopping ??= drainAndStop(self, deadlineMs);
      return stopping;
    },
  };
}

/** The bot's client and state; no I/O. */
function createRun(config: BotConfig, log: Logger, options: BotLifecycleOptions): BotRun {
  const abortReplies = new AbortController();
  setMaxListeners(0, abortReplies.signal); // every in-flight call listens to it
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  return {
    bot: new Bot(config.token, { client: { apiRoot: config.telegram.apiRoot } }),
    log,
    timing: {
      initTimeoutMs: options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS,
      retryInitialMs: options.retryInitialMs ?? DEFAULT_RETRY_INITIAL_MS,
      retryMaxMs: options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS,
      pollTimeoutSeconds: options.pollTimeoutSeconds ?? DEFAULT_POLL_TIMEOUT_SECONDS,
    },
    halt: new AbortController(),
    abortReplies,
    inFlight: new Set(),
    pending: new Set(),
    ready,
    markReady: () => markReady(),
    config,
    state: 'starting',
    runner: undefined,
  };
}

/** The API call stack, the drain's bookkeeping around every update, the handlers, and the
 * error boundary. */
function installUpdateHandling(self: BotRun, deps: BotDeps): void {
  const { bot, log } = self;
  installApiTransformers(bot, self.abortReplies.signal);
  bot.use(async (_ctx, next) => {
    const work = next();
    trackUntilSettled(self.inFlight, work);
    await trackUntilSettled(self.pending, work);
  });
  // Messages waiting for their conversation's turn, and their answers, outlive their update's
  // middleware call: the conversation queue hands that work over here so the drain waits for it.
  const track = (work: Promise<void>): void => {
    trackUntilSettled(self.inFlight, work);
    trackUntilSettled(self.pending, work);
  };
  const config = (): BotConfig => self.config;
  installHandlers(bot, { ...deps, logger: log, config, signal: self.abortReplies.signal, track });
  bot.catch((error) => {
    // One bad update never disturbs the others: log it with its update id and carry on.
    log.error(
      { update: error.ctx.update.update_id, err: errorText(error.error) },
      'unexpected error while handling an update',
    );
  });
}

/** Runs the runner until stop(), restarting it after 409s and network failures. */
async function supervise(self: BotRun, deps: BotDeps): Promise<void> {
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
      if (isTokenRejected(error)) return giveUp(self, deps, error);
      await waitBeforeRetry(self, error, delayMs);
      delayMs = Math.min(delayMs * 2, self.timing.retryMaxMs);
    }
  }
}

/** Logs why polling stopped and waits `delayMs`, or less when stop() begins. */
async function waitBeforeRetry(self: BotRun, error: unknown, delayMs: number): Promise<void> {
  self.state = 'retrying';
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
function giveUp(self: BotRun, deps: BotDeps, error: GrammyError): void {
  self.state = 'rejected';
  self.log.error(
    { status: error.error_code },
    'Telegram rejected the bot token; this bot is stopped (the others keep running). Check its token from @BotFather.',
  );
  self.markReady();
  deps.onRejected(self.config.id);
}

/** stop(): no new runner, the runner wound down, the drain bounded by `deadlineMs`. */
async function drainAndStop(self: BotRun, deadlineMs: number): Promise<void> {
  self.halt.abort();
  // The runner's loop may be waiting for a free update slot: track it, never await it bare.
  const winding = self.runner?.stop();
  if (winding !== undefined) trackUntilSettled(self.pending, winding);
  const abort = (): void => self.abortReplies.abort();
  await drainWithin({ pending: self.pending, inFlight: () => self.inFlight.size, abort, log: self.log }, deadlineMs);
  self.state = self.state === 'rejected' ? 'rejected' : 'stopped';
  self.markReady();
}
