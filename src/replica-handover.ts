/**
 * What a bot carries from one replica to the next, or from a killed `botfleet run` to its restart
 * (memory/leases.ts keeps it in Redis, memory/update-journal.ts in a SQLite or memory:// store):
 *   - its update offset: when a getUpdates returns updates (the transformer raises `next`), the
 *     offset that request was sent with, i.e. what Telegram has confirmed;
 *   - its journal: the updates fetched and not yet handled. A replica killed mid-reply had its
 *     next poll confirm updates it never answered; the new holder replays the journal before its
 *     first batch (polling from past it), and the answered marks skip what was answered. An
 *     update is thus never lost, and answered twice only if the killed replica delivered the
 *     reply but died before recording it.
 * Each batch is journaled before the next poll confirms it to Telegram, and each write removes the updates the bot
 * settled since the last (also on an empty poll), so the journal holds about what is held in
 * memory: the fleet limit bounds that far below JOURNAL_MAX_UPDATES, a safety bound (the oldest
 * go past it). An answered update leaves at the first write after it (a new holder's first write
 * removes what the marks say was answered), long before its conversation's marks (ANSWERED_LIMIT)
 * can forget it. The journal is never deleted, only left to expire (JOURNAL_TTL_MS after the
 * last write): even a clean hand-over may have dropped queued updates at its drain deadline; a
 * holder restarted after it expired replays nothing. A failed journal write is logged and the
 * batch handled anyway (answering during a storage outage matters more): a kill then may lose it.
 */
import type { BotConfig } from './config/types.js';
import { JOURNAL_MAX_UPDATES, JOURNAL_TTL_MS } from './defaults.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import type { UpdateJournal } from './memory/update-journal.js';
import type { UpdateOffset } from './telegram/api-setup.js';

type Update = ReturnType<NonNullable<UpdateOffset['replay']>>[number];

/** What the hand-over works with: where offsets and journals are kept (the Redis leases, or the
 * SQLite/memory store itself), and the fleet's offsets by token. */
export interface HandOverDeps {
  readonly journal: UpdateJournal;
  readonly offsets: Map<string, UpdateOffset>;
  readonly logger: Logger;
  /** Which of `updates` were already answered (the conversation store's marks): these are not
   * replayed, so a replay never fills a conversation's waiting list with updates that would
   * only be skipped, and new messages are not turned away as busy meanwhile. Rejects when the
   * store cannot tell (then every update is replayed, and the marks skip them one by one). */
  readonly answered?: (bot: BotConfig, updates: readonly Update[]) => Promise<ReadonlySet<number>>;
}

/** How many handled update ids wait for the next journal write at most. */
const SETTLED_MEMORY = 10 * JOURNAL_MAX_UPDATES;

/** The public bot id before a token's colon (never the secret after it). */
export function telegramIdOf(token: string): string {
  return token.slice(0, Math.max(0, token.indexOf(':')));
}

/** Before a replica polls a bot it just took: its stored offset and journal, installed as the
 * bot's offset (never throws: what cannot be read is logged and started without). */
export async function takeOver(bot: BotConfig, deps: HandOverDeps): Promise<void> {
  const telegramId = telegramIdOf(bot.token);
  let stored = 0;
  let replays: Update[] = [];
  try {
    const [offset, journal] = await Promise.all([
      deps.journal.readOffset(bot.id, telegramId),
      deps.journal.readJournal(bot.id, telegramId),
    ]);
    stored = offset;
    replays = journal.map((text) => JSON.parse(text) as Update);
  } catch (error) {
    // Handled: Telegram keeps the confirmed offset too, and the answered marks stop repeats.
    deps.logger.warn({ bot: bot.id, err: errorMessage(error) }, 'could not read what the last holder left');
  }
  const unique = [...new Map(replays.map((update) => [update.update_id, update])).values()];
  const past = unique.reduce((max, update) => Math.max(max, update.update_id + 1), 0);
  const pending = await unanswered(bot, unique, deps);
  if (pending.length > 0) deps.logger.info({ bot: bot.id, updates: pending.length }, 'replaying the journal');
  // The answered ones leave the journal with its next write.
  const replayed = new Set(pending.map((update) => update.update_id));
  const answered = unique.map((update) => update.update_id).filter((id) => !replayed.has(id));
  carryOn(bot, Math.max(stored, past), pending, deps, answered);
}

/** `updates` less those already answered (all of them when that cannot be read). */
async function unanswered(bot: BotConfig, updates: Update[], deps: HandOverDeps): Promise<Update[]> {
  if (updates.length === 0 || deps.answered === undefined) return updates;
  try {
    const done = await deps.answered(bot, updates);
    if (done.size > 0)
      deps.logger.info({ bot: bot.id, answered: done.size }, 'journaled updates answered before: not replayed');
    return updates.filter((update) => !done.has(update.update_id));
  } catch (error) {
    // Handled: replaying an answered update is safe, its mark makes the handler skip it.
    deps.logger.warn({ bot: bot.id, err: errorMessage(error) }, 'could not read which journaled updates were answered');
    return updates;
  }
}

/** Makes the fleet's offset entry for `bot`'s token one that stores its offset and journals
 * its batches in the store, starting from `stored` (or further, if this process got further), and
 * hands `replays` to the first poll. `settled`: journaled update ids known handled already.
 *
 * Each journal write also removes the updates handled since the last one (`settled`, reported
 * by the bot as each run ends), so the journal's JOURNAL_MAX_UPDATES bound counts updates still
 * to be handled: a replayed update waiting its turn is never pushed out by a big batch of newer
 * ones (a restart after a long wait fetches one) and lost to the next kill. */
export function carryOn(
  bot: BotConfig,
  stored: number,
  replays: Update[],
  deps: HandOverDeps,
  settled: readonly number[] = [],
): void {
  const { journal, logger } = deps;
  const telegramId = telegramIdOf(bot.token);
  const previous = deps.offsets.get(bot.token);
  let next = Math.max(previous?.next ?? 0, stored);
  // Restarted by a reload (same bot, same token): what was not handed over yet, and what was
  // settled but not yet written, carry on.
  const carried = previous?.carried?.botId === bot.id ? previous.carried : undefined;
  let pending = [...replays, ...(carried?.takePending() ?? [])];
  const handled = new Set([...(carried?.handled ?? []), ...settled]);
  const warn = (what: string) => (error: unknown) => {
    // Handled: the next batch writes again; a new holder at worst meets answered marks.
    logger.warn({ bot: bot.id, err: errorMessage(error) }, `could not store the ${what}`);
  };
  deps.offsets.set(bot.token, {
    // A write the replaced entry began: this entry's first poll waits for it too.
    ...(previous?.journaling !== undefined && { journaling: previous.journaling }),
    carried: {
      botId: bot.id,
      handled,
      takePending() {
        const out = pending;
        pending = [];
        return out;
      },
    },
    get next() {
      return next;
    },
    set next(value) {
      if (value <= next) return;
      const confirmed = next;
      next = value;
      if (confirmed > 0) journal.writeOffset(bot.id, telegramId, confirmed).catch(warn('update offset'));
    },
    // Awaited before the next poll (keepUpdateOffset), which confirms the batch to Telegram.
    fetched(updates) {
      if (updates.length === 0 && handled.size === 0) return;
      // update_id first (as Telegram sends it, though not every sender does): journal writes
      // find an entry's id by its text (journaledUpdateId, and the Redis script alike).
      const texts = updates.map(({ update_id: id, ...rest }) => JSON.stringify({ update_id: id, ...rest }));
      const removed = [...handled];
      return journal
        .journal(bot.id, telegramId, texts, JOURNAL_TTL_MS, JOURNAL_MAX_UPDATES, removed)
        .then(() => {
          for (const id of removed) handled.delete(id);
        })
        .catch(warn('update journal'));
    },
    settled(update) {
      handled.add(update.update_id);
      // Bounded while writes fail: the oldest are forgotten (they only crowd the journal).
      if (handled.size > SETTLED_MEMORY) handled.delete(handled.values().next().value as number);
    },
    replay() {
      const out = pending;
      pending = [];
      return out;
    },
    replayLater(updates) {
      pending = [...updates, ...pending];
    },
  });
}
