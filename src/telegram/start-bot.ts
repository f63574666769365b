/**
 * One bot's lifecycle: its client, its update handling, a supervisor (supervisor.ts) that
 * polls until stopped, restarting after a 409 or a network failure and giving up only when
 * Telegram rejects the token. Once stop() began no runner starts; the drain (drain.ts) bounds
 * the whole stop by its deadline, then aborts the model requests (a reply cut off posts its
 * cut-off note) and, a little later, every Telegram call (api-setup.ts).
 */
import { setMaxListeners } from 'node:events';
import { Bot, type Transformer } from 'grammy';
import type { Update } from 'grammy/types';
import type { BotMetrics } from '../answer/metrics.js';
import type { BotConfig } from '../config/types.js';
import {
  DEFAULT_INIT_TIMEOUT_MS,
  DEFAULT_POLL_TIMEOUT_SECONDS,
  DEFAULT_RETRY_INITIAL_MS,
  DEFAULT_RETRY_MAX_MS,
} from '../defaults.js';
import type { Logger } from '../logger.js';
import { installApiTransformers, type UpdateOffset } from './api-setup.js';
import { drainWithin, trackUntilSettled } from './drain.js';
import type { FleetLane, FleetLimit } from './fleet-limit.js';
import type { HandlerDeps } from './handler-deps.js';
import { installHandlers } from './handlers.js';
import { type BotLifecycleOptions, type BotRun, type BotState, supervise } from './supervisor.js';
import { errorText } from './telegram-errors.js';

/** What a running bot needs from the rest of the app. */
export interface BotDeps extends Omit<HandlerDeps, 'config' | 'signal' | 'track' | 'fleet'> {
  readonly logger: Logger;
  /** Called once when the bot stops for good on its own (token rejected). */
  readonly onRejected: (botId: string) => void;
  /** The update offset reached per token, kept by the fleet so a bot restarted by a reload
   * does not fetch again what its predecessor took. Default: this bot's own. */
  readonly updateOffsets?: Map<string, UpdateOffset>;
  /** The limit on runs and waiting updates shared by every bot of the fleet (fleet-limit.ts):
   * the bot joins it when started and leaves it when stopped. None: per-bot bounds only. */
  readonly fleetLimit?: FleetLimit;
}

/** A started bot. */
export interface BotHandle {
  readonly id: string;
  /** Resolves once the first runner is polling, or the bot gave up or was stopped first
   * (see `state`). */
  readonly ready: Promise<void>;
  /** See BotState. */
  state(): BotState;
  /** Stops polling at once (no runner starts after this call) and waits for in-flight replies
   * until `deadlineMs` after the call (a later call with a sooner deadline brings the one of a
   * stop in progress forward); then aborts their model requests (nothing is stored for them; a
   * reply shown in part ends with `replies.cutOff`) and gives them ABORT_GRACE_MS to unwind,
   * aborting every Telegram call CUT_OFF_GRACE_MS into it. Never waits longer, and makes no
   * Telegram call once it resolved. */
  stop(deadlineMs: number): Promise<void>;
  /** Replaces the config used from the next message on (live reload). */
  update(config: BotConfig): void;
}

/** Starts `config`'s bot in the background and returns its handle at once. */
export function startBot(initial: BotConfig, deps: BotDeps, options: BotLifecycleOptions = {}): BotHandle {
  const self = createRun(initial, deps.logger.child({ bot: initial.id }), options, deps.metrics);
  const lane = deps.fleetLimit?.join();
  try {
    installUpdateHandling(self, deps, lane);
  } catch (error) {
    lane?.leave(); // a bot that cannot start takes no share of the fleet
    throw error;
  }
  trackUntilSettled(
    self.pending,
    supervise(self, deps.onRejected)
      .catch((error: unknown) => {
        // A bug, not a Telegram fault (those are retried or end in `rejected`): say so, loudly.
        self.state = 'stopped';
        self.log.error({ err: errorText(error) }, 'the bot supervisor failed; this bot is stopped');
        self.markReady();
      })
      .finally(() => {
        // Stopped on its own (token rejected, supervisor failure): it takes no share of the fleet
        // any more. A stop() leaves once its drain is over instead.
        if (stopping === undefined) lane?.leave();
      }),
  );
  let stopping: Promise<void> | undefined;
  const deadline = shutdownDeadline();
  return {
    id: initial.id,
    ready: self.ready,
    state: () => self.state,
    update(next) {
      self.config = next;
    },
    stop(deadlineMs) {
      if (!deadline.done) deadline.within(deadlineMs);
      stopping ??= drainAndStop(self, deadline.signal).finally(() => {
        deadline.finish();
        lane?.leave(); // gives back what the drain left counted (runs cut off, dropped updates)
      });
      return stopping;
    },
  };
}

/** The bot's client and state; no I/O. */
function createRun(config: BotConfig, log: Logger, options: BotLifecycleOptions, metrics?: BotMetrics): BotRun {
  const deadlineReached = new AbortController();
  const abortReplies = new AbortController();
  // every in-flight call listens to them
  setMaxListeners(0, deadlineReached.signal);
  setMaxListeners(0, abortReplies.signal);
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
    deadlineReached,
    abortReplies,
    inFlight: new Set(),
    pending: new Set(),
    ready,
    markReady: () => markReady(),
    config,
    state: 'starting',
    runner: undefined,
    ...(metrics ? { metrics } : {}),
  };
}

/** The API call stack, the drain's bookkeeping around every update, the handlers, and the
 * error boundary. */
function installUpdateHandling(self: BotRun, deps: BotDeps, lane: FleetLane | undefined): void {
  const { bot, log } = self;
  const shutdown = { deadline: self.deadlineReached.signal, all: self.abortReplies.signal };
  const offset = offsetFor(self.config.token, deps.updateOffsets);
  installApiTransformers(bot, shutdown, offset);
  if (lane !== undefined) bot.api.config.use(fetchWithinFleet(lane, () => self.config.telegram.maxWaitingUpdates));
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
  const isReplay = (update: object): boolean => offset.replayed?.has(update as never) === true;
  const settled = (update: Update): void => offset.settled?.(update);
  const { fleetLimit: _fleet, ...handlerDeps } = deps;
  installHandlers(bot, {
    ...handlerDeps,
    logger: log,
    config,
    signal: self.deadlineReached.signal,
    track,
    isReplay,
    settled,
    ...(lane !== undefined && { fleet: lane }),
  });
  bot.catch((error) => {
    deps.metrics?.error(self.config.id, 'unexpected');
    // One bad update never disturbs the others: log it with its update id and carry on.
    log.error(
      { update: error.ctx.update.update_id, err: errorText(error.error) },
      'unexpected error while handling an update',
    );
  });
}

/** A transformer (outermost) that holds a getUpdates back while the fleet has its waiting
 * updates, and asks for no more than this bot's share of the fleet's room: overload waits at
 * Telegram, and a runner never fetches 100 updates it cannot start (fleet-limit.ts). Within
 * that share it asks for up to 100 even when the runner asks for fewer, as long as the bot's
 * own waiting bound (`maxWaiting`, telegram.maxWaitingUpdates) has room for them: the runner
 * polls again as soon as one of its slots frees and asks for that one, so after a batch of 100
 * (a flood, a restart's backlog) every other poll fetched a single update, doubling the round
 * trips a burst takes to drain while other chats' messages wait behind it at Telegram. Once the
 * bot's waiting bound is reached, the runner's own ask (its free slots) holds, so the rest waits
 * at Telegram (conversation-queue.ts). The runner's stop aborts the wait with the poll. */
function fetchWithinFleet(lane: FleetLane, maxWaiting: () => number): Transformer {
  return async (prev, method, payload, signal) => {
    if (method !== 'getUpdates') return prev(method, payload, signal);
    const room = await lane.fetchRoom(signal as unknown as AbortSignal | undefined);
    const asked = (payload as { limit?: number }).limit ?? TELEGRAM_FETCH_LIMIT;
    const wanted = Math.max(asked, maxWaiting() - lane.held());
    return prev(method, { ...payload, limit: Math.max(1, Math.min(TELEGRAM_FETCH_LIMIT, room, wanted)) }, signal);
  };
}

/** The most updates one getUpdates returns (Bot API). */
const TELEGRAM_FETCH_LIMIT = 100;

/** The offset kept for `token` in `offsets` (created there on first use). */
function offsetFor(token: string, offsets: Map<string, UpdateOffset> | undefined): UpdateOffset {
  const offset = offsets?.get(token) ?? { next: 0 };
  offsets?.set(token, offset);
  return offset;
}

/** A drain's deadline: aborts `signal` at the earliest `within(ms)` asked for (every stop()
 * call asks; a later, shorter one brings it forward). `finish()` clears the timers. */
function shutdownDeadline(): { signal: AbortSignal; done: boolean; within(ms: number): void; finish(): void } {
  const reached = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  return {
    signal: reached.signal,
    done: false,
    within(ms) {
      timers.push(setTimeout(() => reached.abort(), ms));
    },
    finish() {
      this.done = true;
      for (const timer of timers) clearTimeout(timer);
    },
  };
}

/** stop(): no new runner, the runner wound down, the drain bounded by `deadline`. */
async function drainAndStop(self: BotRun, deadline: AbortSignal): Promise<void> {
  self.halt.abort();
  // The runner's loop may be waiting for a free update slot: track it, never await it bare.
  const winding = self.runner?.stop();
  if (winding !== undefined) trackUntilSettled(self.pending, winding);
  const cutOff = (): void => self.deadlineReached.abort();
  const abort = (): void => self.abortReplies.abort();
  const deps = { pending: self.pending, inFlight: () => self.inFlight.size, cutOff, abort, log: self.log };
  await drainWithin(deps, deadline);
  // Whatever the drain left (a "typing…" ping waiting out a 429, work past the grace) must not
  // reach Telegram after stop() resolved: abort it now, even when the drain ended early.
  cutOff();
  abort();
  self.state = self.state === 'rejected' ? 'rejected' : 'stopped';
  self.markReady();
}
