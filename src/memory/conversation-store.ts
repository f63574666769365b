/**
 * The conversation store: what the rest of the app depends on, and its implementation over one
 * Keyv instance shared by every bot.
 *
 * Ordering and concurrency: each operation takes the conversation's lock (keyed-mutex.ts), so
 * a load, append or reset of one conversation runs after the previous one has finished, in
 * call order, and an append's read-modify-write can never lose a concurrent append. Different
 * conversations never wait on each other. The lock is in this process only: one botfleet per
 * SQLite file (store-lock.ts), and replicas on one Redis each answer only the bots whose lease
 * they hold (src/replicas.ts), so no two processes answer one conversation at once.
 *
 * Failures: every backend call has a deadline (`operationTimeoutMs`); a failed or late call
 * rejects with a StoreError (retryable when the backend was unreachable, slow or busy), never
 * with an empty history. A Redis command that timed out on a frozen server may still run when
 * the server wakes, in order with the later ones (one connection), so at worst an append the
 * caller saw fail was stored after all; SQLite gives up lock waits before the deadline. The
 * only empty history returned on a problem is for a stored value that cannot be read: it is
 * moved aside to `{key}:corrupt:{ms}`, logged at error level (with `bot` and `chat`), and
 * reported in the state `read` returns (`lost`) so the user can be told.
 *
 * Summaries (window.summary): an append with `unsummarisedLimit` keeps the turns past
 * `maxTurns` (up to that many more) until `storeSummary` stores a summary covering them; that
 * one write replaces the summary and drops exactly the turns it covers, so no crash can leave a
 * summary stored with its turns, or the turns dropped without it. Past the limit (summaries kept
 * failing) the oldest turns are dropped, each time with a warning. `reset` forgets the summary.
 *
 * Round trips (issue 15): a turn is `read` before the model is asked and `append` after the reply
 * was delivered. The append reuses the state that read found, so a turn costs one get and one
 * set, when nothing else touched the key since: the store remembers, per key, the state its last
 * operation there read (recent-reads.ts), and any other operation on the key (another read, an
 * append, markAnswered, storeSummary, reset, from this or another store over the same Keyv
 * object) consumes or drops it, as does a failed read. Otherwise the update reads again, as
 * before. Another PROCESS writing the key is invisible to that memory, so a remembered state is
 * reused only within `reuseReadMs` of the read (see recent-reads.ts for why that keeps the Redis
 * hand-over window no wider than the read-modify-write's own). A joined turn (`queue: collect`)
 * records its other updates answered in the same write (`alsoAnswered`): one write per turn.
 *
 * Answered once: besides the turns, a conversation remembers which Telegram updates were
 * answered (see value-format.ts); `read` returns them, `append`, `markAnswered` and `reset`
 * record them. A refusal is remembered per bot and user (`claimRefusal`).
 */
import type { Logger } from '../logger.js';
import { type ConversationKey, conversationKey, corruptKey, refusalKey } from './keys.js';
import { type RecentReads, recentReadsOf, reuseReadMsFor } from './recent-reads.js';
import { type Call, createCall, createGuard, type Guard } from './store-calls.js';
import type { StoreBackend, StoreOperation } from './store-error.js';
import { assertSummary, assertTurn, decodeValue, encodeValue, type StoredSummary, type Turn } from './value-format.js';

/** How an append bounds the stored conversation. */
export interface AppendOptions {
  /** Keep only the newest `maxTurns` turns (the bot's window.maxTurns), an integer >= 1. */
  readonly maxTurns: number;
  /** With window.summary: how many turns past `maxTurns` are kept while they wait for a
   * summary (an integer >= 0). Absent: none, they are dropped at once. */
  readonly unsummarisedLimit?: number;
  /** Other updates this turn answers (`queue: collect`'s joined messages before the last),
   * recorded answered in the same write; recorded even when the turn itself is not stored. */
  readonly alsoAnswered?: readonly number[];
}

/** A new summary and what it was built from (see ConversationStore.storeSummary). */
export interface SummaryUpdate {
  /** The new summary: `basedOn`'s text with `covered` folded in. */
  readonly text: string;
  /** The oldest stored turns it folds in, oldest first, exactly as read. */
  readonly covered: readonly Turn[];
  /** The stored summary it was built on (undefined: there was none). */
  readonly basedOn: StoredSummary | undefined;
  /** When it was made, ms since the epoch. */
  readonly at: number;
}

/** What a bot needs to know of a conversation before answering in it. */
export interface ConversationState {
  /** The stored turns, oldest first. */
  readonly turns: readonly Turn[];
  /** Every Telegram update id already answered here (the kept turns' and the others). */
  readonly answered: readonly number[];
  /** The running summary of the turns no longer kept (window.summary), if there is one. */
  readonly summary?: StoredSummary;
  /** Set when the stored value could not be read: it was moved aside to `corruptKey`, and
   * the history starts empty. Reported by the one read that found it. */
  readonly lost?: { readonly corruptKey: string; readonly reason: string };
}

/** Conversation memory. Every method rejects with StoreError when storage fails. */
export interface ConversationStore {
  /** The stored turns of a conversation, oldest first; [] when there are none. */
  load(key: ConversationKey): Promise<readonly Turn[]>;
  /** The turns and answered update ids of a conversation (see ConversationState). */
  read(key: ConversationKey): Promise<ConversationState>;
  /** Appends one complete turn and trims to `maxTurns` (a trimmed turn's update id stays
   * answered). A turn of an update already answered here is not stored. Throws
   * RangeError/TypeError on bad input. */
  append(key: ConversationKey, turn: Turn, options: AppendOptions): Promise<void>;
  /** Records that update `updateId` was answered without a turn (a command, an apology). */
  markAnswered(key: ConversationKey, updateId: number): Promise<void>;
  /** Stores `update`'s summary and drops the turns it covers, in one write, when the stored
   * state is still the one it was built on (the same summary, `covered` still the oldest turns);
   * true when stored, false (nothing written) when the conversation changed meanwhile (a
   * /reset, another summary). Throws TypeError on bad input. */
  storeSummary(key: ConversationKey, update: SummaryUpdate): Promise<boolean>;
  /** Forgets a conversation's turns and summary; other conversations are untouched. Which updates were
   * answered is kept, and `updateId` (the /reset's own) is added to them. */
  reset(key: ConversationKey, updateId?: number): Promise<void>;
  /** Records that `botId` refused `subjectId` (a user id) with update `updateId`. True the
   * first time, false when it was already refused (then nothing is written). */
  claimRefusal(botId: string, subjectId: number, updateId: number): Promise<boolean>;
}

/** What createKeyvConversationStore needs. `url` is the masked storage URL. */
export interface KeyvConversationStoreDeps {
  readonly keyv: {
    get(key: string): Promise<string | undefined>;
    set(key: string, value: string): Promise<boolean>;
    delete(key: string): Promise<boolean>;
  };
  readonly namespace: string;
  readonly backend: StoreBackend;
  readonly url: string;
  readonly logger: Logger;
  /** Deadline of one backend call, in ms. */
  readonly operationTimeoutMs: number;
  /** How long after a read its state may stand in for an update's own read, in ms (see
   * recent-reads.ts). Default: unbounded on SQLite and memory:// (one process per store), the
   * lease margin (LEASE_TTL_MS - LEASE_SAFE_MS) on Redis. 0: every update reads. */
  readonly reuseReadMs?: number;
}

/** The store plus a way to stop taking work and wait for what is in flight. */
export interface DrainableConversationStore extends ConversationStore {
  /** Makes every later call reject (StoreError, not retryable) and resolves when the calls
   * already started have settled. */
  drain(): Promise<void>;
}

/** A conversation's state as the store works on it: `others` are the answered update ids no
 * kept turn carries (the stored `answered` list). */
interface Located extends ConversationState {
  readonly others: readonly number[];
}

/** A ConversationStore over `deps.keyv`. No I/O until a method is called. */
export function createKeyvConversationStore(deps: KeyvConversationStoreDeps): DrainableConversationStore {
  const { keyv, namespace } = deps;
  const guard = createGuard(deps);
  const call = createCall(deps);
  const readState = createReader(deps, call);
  const recent = recentReadsOf<Located>(
    keyv,
    deps.reuseReadMs ?? reuseReadMsFor(deps.backend),
    // A value set aside as unreadable: the next update reads what is there now.
    (state) => state.lost === undefined,
  );
  const update = createUpdater(deps, guard, call, readState, recent);
  const read = (key: ConversationKey): Promise<ConversationState> => {
    const storageKey = conversationKey(namespace, key);
    return guard('load', storageKey, async () => {
      const state = await recent.reading(storageKey, () => readState('load', storageKey, key));
      const { turns, answered, summary, lost } = state;
      return { turns, answered, ...(summary ? { summary } : {}), ...(lost ? { lost } : {}) };
    });
  };
  return {
    read,
    load: async (key) => (await read(key)).turns,
    async append(key, turn, options) {
      if (!Number.isSafeInteger(options.maxTurns) || options.maxTurns < 1) {
        throw new RangeError(`maxTurns must be an integer >= 1, got ${options.maxTurns}`);
      }
      const extra = options.unsummarisedLimit;
      if (extra !== undefined && (!Number.isSafeInteger(extra) || extra < 0))
        throw new RangeError(`unsummarisedLimit must be an integer >= 0, got ${extra}`);
      assertTurn(turn);
      if (options.alsoAnswered !== undefined && !options.alsoAnswered.every((id) => Number.isSafeInteger(id)))
        throw new TypeError('alsoAnswered must hold integer update ids');
      await update('append', key, (state) => appended(state, turn, options, deps, key));
    },
    async markAnswered(key, updateId) {
      await update('answered', key, (state) =>
        state.answered.includes(updateId)
          ? undefined
          : { turns: state.turns, answered: [...state.others, updateId], summary: state.summary },
      );
    },
    async storeSummary(key, summaryUpdate) {
      summaryUpdate.covered.forEach(assertTurn);
      const last = summaryUpdate.covered.at(-1);
      if (last === undefined) throw new RangeError('a summary must cover at least one turn');
      const summary: StoredSummary = {
        text: summaryUpdate.text,
        turns: (summaryUpdate.basedOn?.turns ?? 0) + summaryUpdate.covered.length,
        throughUserAt: last.userAt,
        at: summaryUpdate.at,
      };
      assertSummary(summary);
      let stored = false;
      await update('summary', key, (state) => {
        if (!builtOn(state, summaryUpdate)) {
          deps.logger.debug(
            { ...fieldsOf(key), storage: deps.url },
            'the conversation changed while it was summarised; that summary is not stored',
          );
          return undefined;
        }
        stored = true;
        const { covered } = summaryUpdate;
        return { turns: state.turns.slice(covered.length), answered: [...state.others, ...idsOf(covered)], summary };
      });
      return stored;
    },
    async reset(key, updateId) {
      await update('reset', key, (state) => ({
        turns: [],
        answered: [...state.others, ...idsOf(state.turns), ...(updateId === undefined ? [] : [updateId])],
      }));
    },
    async claimRefusal(botId, subjectId, updateId) {
      const storageKey = refusalKey(namespace, botId, subjectId);
      return guard('refusal', storageKey, async () => {
        if ((await call('refusal', storageKey, () => keyv.get(storageKey))) != null) return false;
        const value = JSON.stringify({ v: 1, at: Date.now(), updateId });
        await call('refusal', storageKey, () => keyv.set(storageKey, value));
        return true;
      });
    },
    drain: guard.drain,
  };
}

/** A new stored value: its turns, the answered ids no kept turn carries, the summary. */
type NextValue = { turns: readonly Turn[]; answered: readonly number[]; summary?: StoredSummary | undefined };

/** `update(operation, key, next)`: reads `key`'s state (or takes the one the read just before
 * found, see recent-reads.ts) and writes `next(state)` (when defined; an empty value deletes
 * the key) under the conversation's lock. */
function createUpdater(
  deps: KeyvConversationStoreDeps,
  guard: Guard,
  call: Call,
  readState: ReturnType<typeof createReader>,
  recent: RecentReads<Located>,
): (operation: StoreOperation, key: ConversationKey, next: (state: Located) => NextValue | undefined) => Promise<void> {
  const { keyv, namespace } = deps;
  return (operation, key, next) => {
    const storageKey = conversationKey(namespace, key);
    return guard(operation, storageKey, async () => {
      try {
        const value = next(recent.take(storageKey) ?? (await readState(operation, storageKey, key)));
        if (value === undefined) return;
        if (value.turns.length === 0 && value.answered.length === 0 && value.summary === undefined)
          await call(operation, storageKey, () => keyv.delete(storageKey));
        else {
          const text = encodeValue(value.turns, value.answered, value.summary);
          await call(operation, storageKey, () => keyv.set(storageKey, text));
        }
      } catch (error) {
        // A failed or late write may still land after a later read: never reuse one meanwhile.
        recent.distrust(storageKey);
        throw error;
      } finally {
        // Written, failed or late: the next operation reads (another store's read meanwhile may
        // predate this write).
        recent.forget(storageKey);
      }
    });
  };
}

/** The value after appending `turn` and keeping the newest `maxTurns` (plus, with a summary,
 * up to `unsummarisedLimit` turns waiting for it; dropping one of those is logged), a trimmed
 * turn's id staying answered; undefined when the turn's update was already answered. */
function appended(
  state: Located,
  turn: Turn,
  options: AppendOptions,
  deps: KeyvConversationStoreDeps,
  key: ConversationKey,
): NextValue | undefined {
  const also = [...new Set(options.alsoAnswered ?? [])].filter((id) => !state.answered.includes(id));
  if (turn.updateId !== undefined && state.answered.includes(turn.updateId)) {
    deps.logger.debug(
      { ...fieldsOf(key), storage: deps.url, update: turn.updateId },
      'update already answered; turn not stored again',
    );
    return also.length === 0
      ? undefined
      : { turns: state.turns, answered: [...state.others, ...also], summary: state.summary };
  }
  const all = [...state.turns, turn];
  const keep = options.maxTurns + (options.unsummarisedLimit ?? 0);
  const trimmed = all.slice(0, Math.max(0, all.length - keep));
  if (trimmed.length > 0 && options.unsummarisedLimit !== undefined) {
    deps.logger.warn(
      { ...fieldsOf(key), storage: deps.url, dropped: trimmed.length, waiting: options.unsummarisedLimit },
      `${trimmed.length} turn(s) dropped never summarised: ${options.unsummarisedLimit} turns past the window were already waiting for a summary (summaries keep failing?)`,
    );
  }
  return { turns: all.slice(-keep), answered: [...state.others, ...also, ...idsOf(trimmed)], summary: state.summary };
}

/** Whether `state` is still what `update` was built on: the same summary (or none), and its
 * covered turns still the oldest stored ones. */
function builtOn(state: Located, update: SummaryUpdate): boolean {
  const { basedOn, covered } = update;
  const current = state.summary;
  const sameSummary =
    current === undefined || basedOn === undefined
      ? current === basedOn
      : current.text === basedOn.text && current.turns === basedOn.turns && current.at === basedOn.at;
  return (
    sameSummary && covered.length <= state.turns.length && covered.every((turn, i) => sameTurn(turn, state.turns[i]))
  );
}

function sameTurn(a: Turn, b: Turn | undefined): boolean {
  return (
    b !== undefined &&
    a.user === b.user &&
    a.assistant === b.assistant &&
    a.userAt === b.userAt &&
    a.assistantAt === b.assistantAt &&
    a.updateId === b.updateId
  );
}

/** The update ids the turns carry. */
function idsOf(turns: readonly Turn[]): number[] {
  return turns.flatMap((turn) => (turn.updateId === undefined ? [] : [turn.updateId]));
}

/** The log fields naming a conversation. */
function fieldsOf(key: ConversationKey): Record<string, number | string> {
  return {
    bot: key.botId,
    chat: key.chatId,
    ...(key.topicId === undefined ? {} : { topic: key.topicId }),
    ...(key.userId === undefined ? {} : { user: key.userId }),
  };
}

/** Reads a conversation's state; an unreadable value is moved aside and reported as `lost`. */
function createReader(deps: KeyvConversationStoreDeps, call: Call) {
  const { keyv, url, logger } = deps;
  return async (operation: StoreOperation, storageKey: string, key: ConversationKey): Promise<Located> => {
    const raw: unknown = await call(operation, storageKey, () => keyv.get(storageKey));
    if (raw === undefined || raw === null) return { turns: [], answered: [], others: [] };
    const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
    const decoded =
      typeof raw === 'string' ? decodeValue(text) : { ok: false as const, reason: `not text but ${typeof raw}` };
    if (decoded.ok)
      return {
        turns: decoded.turns,
        answered: [...decoded.answered, ...idsOf(decoded.turns)],
        others: decoded.answered,
        ...(decoded.summary ? { summary: decoded.summary } : {}),
      };
    const aside = corruptKey(storageKey, Date.now());
    await call(operation, aside, () => keyv.set(aside, text));
    await call(operation, storageKey, () => keyv.delete(storageKey));
    logger.error(
      { ...fieldsOf(key), storage: url, key: storageKey, corruptKey: aside, reason: decoded.reason },
      `stored conversation ${storageKey} could not be read (${decoded.reason}); its history is lost for the bot, the value was kept under ${aside}`,
    );
    return { turns: [], answered: [], others: [], lost: { corruptKey: aside, reason: decoded.reason } };
  };
}
