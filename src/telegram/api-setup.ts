/**
 * The transformer stack every Bot API call of a bot goes through, innermost first:
 * auto-retry (429 honouring retry_after; 5xx, except for calls that show the user a message),
 * quick retries of network failures, the update offset kept across runner (and reload)
 * restarts, and the bot's shutdown abort signals.
 *
 * grammY runs the transformer installed last outermost (`ApiClient.use` reduces the list
 * over the raw call), and copies the installed list into every `ctx.api`, so handlers' calls
 * go through the same stack. The abort signals are installed last so that the waits inside
 * auto-retry and the network retries see it: @grammyjs/auto-retry 2.0.2 (`out/mod.js`,
 * `pause(seconds, signal)`) clears its timer and rejects when the call's signal aborts, and
 * re-throws instead of retrying once the signal is aborted.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import type { Bot, Transformer } from 'grammy';
import type { Update } from 'grammy/types';
import { API_RETRY_ATTEMPTS, API_RETRY_MAX_DELAY_SECONDS } from '../defaults.js';
import { grammySignal } from './grammy-compat.js';
import { retryNetworkErrors, showsTheUser } from './network-retry.js';
import { AbortedByShutdown } from './telegram-errors.js';

/** Installs the stack described above on `bot.api` (see abortAlsoOn for `shutdown`); getUpdates
 * is never aborted by it (the runner's own stop aborts its poll). Call once, before the bot starts. */
export function installApiTransformers(bot: Bot, shutdown: ShutdownSignals, offset: UpdateOffset = { next: 0 }): void {
  bot.api.config.use(
    retryRateLimitsAndServerErrors(),
    retryNetworkErrors(),
    keepUpdateOffset(offset),
    abortAlsoOn(shutdown),
  );
}

/** A bot's two shutdown signals, in the order they abort. */
export interface ShutdownSignals {
  /** The deadline: ends every call begun before it (one waiting out a 429 included). */
  readonly deadline: AbortSignal;
  /** Ends every call, whenever begun (the cut-off notes posted after the deadline included). */
  readonly all: AbortSignal;
}

/** The offset after the newest update fetched for one token; shared by every Bot built for
 * that token in this process (runner restarts, reload restarts). The hand-over
 * (replica-handover.ts) adds the hooks: `fetched` sees every batch getUpdates returned (journaled
 * in the store), `replay` hands over, once, the updates a killed holder fetched, to be handled
 * before the next batch (the answered marks skip those it answered). */
export interface UpdateOffset {
  next: number;
  /** Journals a batch (an empty one too: see `settled`). The bot gets the batch at once, but
   * the next getUpdates, which confirms it to Telegram, waits until this settles (`journaling`):
   * a batch confirmed before it was journaled would be lost to a kill -9, while one killed
   * before it is confirmed only comes again (the answered marks skip what was answered). Must
   * not reject (a failed write is the hook's to report), and should be bounded (the store's
   * deadline). */
  fetched?(updates: readonly Update[]): Promise<void> | void;
  /** The last batch's journal write (`fetched`), which the next getUpdates waits for; carried
   * over a reload (the new entry's first poll waits for the old one's write). Never rejects. */
  journaling?: Promise<void>;
  /** The bot is done with `update` (its run ended: answered, refused, failed; or it was turned
   * away as busy and told): it needs no replay, and leaves the journal with its next write. Not
   * called for an update dropped or cut off at the shutdown deadline. */
  settled?(update: Update): void;
  replay?(): Update[];
  /** Gives back what `replay` handed over when the poll carrying it failed. */
  replayLater?(updates: Update[]): void;
  /** What carryOn (replica-handover.ts) takes over when a reload replaces this entry for the
   * same bot: the replays not handed over yet, and the handled ids not yet written. */
  readonly carried?: { readonly botId: string; readonly handled: Set<number>; takePending(): Update[] };
  /** The updates `replay` handed over, as handed to the bot (filled by keepUpdateOffset): the
   * conversation queue lets them wait past its bound (see conversation-queue.ts). */
  replayed?: WeakSet<Update>;
}

/** auto-retry for every call; a call that shows the user a new message (`showsTheUser`:
 * sendMessage, forwardMessage, …) is not retried after a 5xx, which a gateway may answer after
 * Telegram delivered it: sent at most once. A 429 is always waited out and retried (Telegram
 * refused the call: nothing was sent). */
function retryRateLimitsAndServerErrors(): Transformer {
  const options = { maxRetryAttempts: API_RETRY_ATTEMPTS, maxDelaySeconds: API_RETRY_MAX_DELAY_SECONDS };
  const anyCall = autoRetry({ ...options, rethrowHttpErrors: true });
  const sendCall = autoRetry({ ...options, rethrowHttpErrors: true, rethrowInternalServerErrors: true });
  return (prev, method, payload, signal) => (showsTheUser(method) ? sendCall : anyCall)(prev, method, payload, signal);
}

/** A transformer that makes every call except getUpdates end when `shutdown.all` aborts, a call
 * begun before `shutdown.deadline` aborted also when that does, and any call when the caller's
 * own signal (if any) does; a failed call that a shutdown signal ended throws
 * AbortedByShutdown. Listeners are removed when the call settles: the signals live as long as
 * the bot, and AbortSignal.any retains its composites on a long-lived source in some Node
 * versions (nodejs/node#55351). */
export function abortAlsoOn(shutdown: ShutdownSignals): Transformer {
  return async (prev, method, payload, signal) => {
    if (method === 'getUpdates') return prev(method, payload, signal);
    const own = signal as unknown as AbortSignal | undefined;
    const ending = shutdown.deadline.aborted ? [shutdown.all] : [shutdown.deadline, shutdown.all];
    const ended = (): boolean => ending.some((s) => s.aborted);
    const both = new AbortController();
    const abort = (): void => both.abort();
    if (ended() || own?.aborted) abort();
    for (const s of [...ending, own]) s?.addEventListener('abort', abort);
    try {
      return await prev(method, payload, grammySignal(both.signal));
    } catch (error) {
      // Converted: a call the shutdown aborted is no delivery failure; callers log it as such.
      throw ended() ? new AbortedByShutdown(method) : error;
    } finally {
      for (const s of [...ending, own]) s?.removeEventListener('abort', abort);
    }
  };
}

/** A transformer that remembers in `offset` the offset after the newest update any getUpdates
 * returned and never asks for less: a runner started again (after a 409, a network failure, or
 * a reload restart with a new Bot sharing `offset`) begins at offset 0 and would otherwise be
 * handed the last unconfirmed batch a second time. A negative offset (Telegram's "the last
 * N") is passed through as given. */
export function keepUpdateOffset(offset: UpdateOffset = { next: 0 }): Transformer {
  // Replayed updates still unconfirmed at Telegram come again in a later batch when the first
  // did not hold them all: each is handed to the bot once (dropped from the later batch).
  const replayedIds = new Set<number>();
  return async (prev, method, payload, signal) => {
    if (method !== 'getUpdates') return prev(method, payload, signal);
    const asked = (payload as { offset?: number }).offset ?? 0;
    const sent = asked < 0 ? asked : Math.max(asked, offset.next);
    // Updates to replay go out at once: this poll does not wait for new ones (timeout 0).
    const replays = offset.replay?.() ?? [];
    const quick = replays.length > 0 ? { timeout: 0 } : {};
    let response: Awaited<ReturnType<typeof prev>>;
    try {
      // This poll confirms the last batch to Telegram: only once that batch is journaled.
      await offset.journaling;
      response = await prev(method, { ...payload, offset: sent, ...quick }, signal);
    } catch (error) {
      offset.replayLater?.(replays); // the next poll carries them
      throw error;
    }
    if (!response.ok) {
      offset.replayLater?.(replays);
      return response;
    }
    // grammY's generic response type does not narrow on `ok`: getUpdates answers updates.
    const fetched = (response as unknown as { result: Update[] }).result;
    const newest = fetched.at(-1);
    // Also for an empty batch: the journal then only lets go of the updates handled meanwhile.
    // Not awaited here: the bot starts on the batch while it is written (see `fetched`).
    offset.journaling = Promise.resolve(offset.fetched?.(fetched));
    if (newest !== undefined) offset.next = Math.max(offset.next, newest.update_id + 1);
    const updates = replayedIds.size === 0 ? fetched : fetched.filter((u) => !replayedIds.delete(u.update_id));
    if (replays.length === 0)
      return updates === fetched ? response : ({ ...response, result: updates } as typeof response);
    offset.replayed ??= new WeakSet();
    const fresh = new Set(updates.map((update) => update.update_id));
    const handed = replays.filter((u) => !fresh.has(u.update_id));
    for (const update of handed) {
      offset.replayed.add(update);
      if (update.update_id >= sent && (newest === undefined || update.update_id > newest.update_id))
        replayedIds.add(update.update_id);
    }
    // In Telegram's order: a replay newer than this batch's first update must not overtake it.
    const result = [...handed, ...updates].sort((a, b) => a.update_id - b.update_id);
    return { ...response, result } as typeof response;
  };
}
