/**
 * One conversation's messages one at a time and in order, without letting the waiting ones
 * hold the runner's slots (which `sequentialize` from @grammyjs/runner does).
 *
 * Facts about @grammyjs/runner 2.0.3 this relies on (out/runner.js, sink.js, queue.js):
 * - `run(bot, { sink: { concurrency: N } })` builds a concurrent sink over a DecayingDeque. A
 *   "slot" is one pending `bot.handleUpdate(update)` promise, i.e. the whole middleware stack
 *   of one update, from its start until it settles. `sink.handle(batch)` starts a task for
 *   every update of the batch at once, then resolves only when fewer than N are pending.
 * - The runner awaits that before its next `getUpdates`, and asks for at most `N - pending`
 *   (and at most 100) updates then (start-bot.ts raises that to 100 within the fleet's share
 *   while `maxWaitingUpdates` below has room).
 *   With all N slots pending, nothing more is fetched.
 * - `sequentialize` chains each update's `next()` after the previous one of the same key and
 *   awaits it inside the middleware: an update waiting for its turn is a pending slot. So N
 *   messages of one chat stop the whole bot from fetching: everyone else waits at Telegram.
 * - Offset confirmation: the fetcher sets `offset = last update_id + 1` after each batch and
 *   Telegram forgets updates below it on the next `getUpdates`. So an update is confirmed
 *   once the runner fetches again, whether or not its handling has finished; updates held
 *   here are already confirmed and live only in memory (hence the bounds below).
 * - `runner.stop()` aborts the pending `getUpdates` but then awaits the runner's loop, which
 *   may be waiting for a free slot: slots held for long make stopping wait.
 *
 * What this queue does instead: an update whose conversation is idle starts at once (if fewer
 * than `maxRunning` runs are going); otherwise it joins its conversation's waiting list and
 * its middleware returns, freeing its runner slot. Conversations waiting for a run take turns
 * round-robin: after each message, a conversation with more waiting goes to the back of the
 * line, so one busy chat never holds the others back. Runs happen outside runner slots; the
 * shutdown drain sees them through `track`. Bounds (all in updates):
 * - running ≤ `maxRunning`;
 * - one conversation's waiting list ≤ `maxWaitingPerConversation`. An update beyond it is not
 *   handled: `onFull` runs in its slot (the wiring tells the user once and logs each). Holding
 *   it in its slot instead (backpressure) would fill every slot with that one chat's flood and
 *   bring back the blocking this queue exists to remove;
 * - waiting updates that gave their slot back ≤ `maxWaitingUpdates`. Beyond that a waiting
 *   update keeps its slot until it starts or room frees, so once the runner's slots are all
 *   held the runner stops fetching: bot-wide overload waits at Telegram, not in this heap.
 *   Held ones are never more than N plus one fetch (the runner polls once a slot frees;
 *   start-bot.ts asks for up to 100 then, not for the slots free, while this bound still has
 *   room). So in memory, in updates, at most: maxRunning + maxWaitingUpdates + N + 100.
 * - with a fleet lane (`fleet`, fleet-limit.ts), every run also takes one of the fleet's runs
 *   (bots take turns for them when the fleet is full) and every waiting update counts toward
 *   the fleet's waiting bound, which holds every bot's getUpdates back (start-bot.ts): the
 *   per-bot bounds above then matter only for a fleet of few bots.
 * - When `signal` aborts (the shutdown deadline), nothing more starts: every waiting update is
 *   dropped, reported once through `onDropped`, and its tracked promise settles.
 *
 * Joining (`queue: collect`): when a conversation's turn comes, `takeTogether` may say that its
 * next run takes several of its waiting updates, oldest first, as one. The run is the last
 * one's middleware call (`next`); `joinedWith(ctx)` tells the handler which updates it answers.
 * The others never run on their own: their slots are given back and their tracked promises
 * settle when the joint run ends. An update that starts at once (its conversation idle) always
 * runs alone: only what waited is joined.
 */
import type { Context, MiddlewareFn, NextFunction } from 'grammy';
import type { FleetLane } from './fleet-limit.js';

/** The bounds, read per update so a live reload applies; all counts of updates, >= 1. */
export interface ConversationQueueLimits {
  readonly maxRunning: number;
  readonly maxWaitingPerConversation: number;
  readonly maxWaitingUpdates: number;
}

/** What the queue needs from its bot. */
export interface ConversationQueueDeps {
  /** The conversation an update belongs to; undefined: not ordered, run at once in its slot. */
  readonly keyOf: (ctx: Context) => string | undefined;
  /** A replayed update (the journal of a previous holder, at most JOURNAL_MAX_UPDATES): it may
   * be answered already (then skipped at its turn), so it never takes a new message's place in
   * the waiting list nor gets `onFull`: it waits past `maxWaitingPerConversation`, uncounted. */
  readonly isReplay?: (ctx: Context) => boolean;
  readonly limits: () => ConversationQueueLimits;
  /** Runs in the update's slot for an update whose conversation's waiting list is full (it is
   * not handled). `first`: none was reported since that conversation last took a message. */
  readonly onFull: (ctx: Context, first: boolean) => Promise<void>;
  /** Reports an error a run threw (runs end after their slot did). Must not throw. */
  readonly onError: (error: unknown, ctx: Context) => Promise<void>;
  /** Reports the updates dropped unhandled because `signal` aborted. */
  readonly onDropped: (ctxs: readonly Context[]) => void;
  /** Given every run and every waiting update's whole life (never rejects): the shutdown
   * drain waits for these. */
  readonly track: (work: Promise<void>) => void;
  /** Aborted at the shutdown deadline. */
  readonly signal: AbortSignal;
  /** How many of a conversation's waiting updates (oldest first, never empty) its next run
   * takes as one; clamped to 1..waiting.length. None: one at a time. */
  readonly takeTogether?: (waiting: readonly Context[]) => number;
  /** This bot's lane in the fleet-wide limit (fleet-limit.ts): every run also takes one of the
   * fleet's runs (lanes take turns when it is full) and every waiting update is counted there.
   * None: only this bot's own bounds apply. */
  readonly fleet?: FleetLane;
}

/** A bot's conversation queue. */
export interface ConversationQueue {
  /** Install before the handlers: orders keyed updates, passes the others through. */
  readonly middleware: MiddlewareFn<Context>;
  /** The updates the run of `ctx` answers, oldest first and `ctx` last: several when waiting
   * ones were joined (see takeTogether), else `[ctx]`. */
  readonly joinedWith: (ctx: Context) => readonly Context[];
}

interface Waiting {
  readonly ctx: Context;
  readonly next: NextFunction;
  /** Ends the update's middleware call, giving its runner slot back. */
  readonly release: () => void;
  /** Settles the tracked promise: the update was handled or dropped. */
  readonly settle: () => void;
  released: boolean;
  /** A replayed update (see isReplay): not counted against the conversation's bound. */
  readonly replay: boolean;
}

interface Conversation {
  readonly key: string;
  readonly waiting: Waiting[];
  running: boolean;
  /** How many of `waiting` are replays. */
  replays: number;
  /** `onFull` reported one since the conversation last took a message. */
  told: boolean;
}

/** Creates the queue of one bot (state lives in this closure). */
export function createConversationQueue(deps: ConversationQueueDeps): ConversationQueue {
  const conversations = new Map<string, Conversation>();
  const turns: Conversation[] = []; // idle conversations with messages waiting, next first
  const held: Waiting[] = []; // waiting updates still in their slot (bot-wide bound), oldest first
  let released = 0; // waiting updates that gave their slot back
  let running = 0;
  let granted = 0; // fleet runs granted to this bot (its turn in the fleet's line), not yet used
  const fleet = deps.fleet;
  if (fleet !== undefined)
    fleet.onGrant = () => {
      granted += 1;
      pump();
    };
  const joined = new WeakMap<Context, readonly Context[]>(); // last update of a joint run → all of them
  deps.signal.addEventListener('abort', dropAll, { once: true });

  const middleware: MiddlewareFn<Context> = async (ctx, next) => {
    const key = deps.keyOf(ctx);
    if (key === undefined) return next();
    if (deps.signal.aborted) return deps.onDropped([ctx]);
    const limits = deps.limits();
    const conversation = conversationOf(key);
    if (
      !conversation.running &&
      conversation.waiting.length === 0 &&
      running < limits.maxRunning &&
      turns.length === 0 &&
      (fleet === undefined || fleet.tryRun())
    ) {
      deps.track(start(conversation, ctx, next));
      return;
    }
    const replay = deps.isReplay?.(ctx) === true;
    if (!replay && conversation.waiting.length - conversation.replays >= limits.maxWaitingPerConversation) {
      const first = !conversation.told;
      conversation.told = true;
      return deps.onFull(ctx, first);
    }
    return new Promise<void>((release) => {
      let settle: () => void = () => undefined;
      deps.track(new Promise<void>((resolve) => (settle = resolve)));
      const item: Waiting = { ctx, next, release, settle, released: false, replay };
      conversation.waiting.push(item);
      fleet?.waiting(1);
      if (replay) conversation.replays += 1;
      if (!conversation.running && conversation.waiting.length === 1) turns.push(conversation);
      if (released < limits.maxWaitingUpdates) giveSlotBack(item);
      else held.push(item);
      pump();
    });
  };

  function conversationOf(key: string): Conversation {
    let conversation = conversations.get(key);
    if (conversation === undefined) {
      conversation = { key, waiting: [], running: false, replays: 0, told: false };
      conversations.set(key, conversation);
    }
    return conversation;
  }

  /** Runs one update of `conversation` (the last of a joint run); resolves (never rejects) when
   * it is done. */
  function start(conversation: Conversation, ctx: Context, next: NextFunction): Promise<void> {
    conversation.running = true;
    running += 1;
    return next()
      .catch((error: unknown) => deps.onError(error, ctx))
      .finally(() => {
        joined.delete(ctx);
        running -= 1;
        conversation.running = false;
        if (conversation.waiting.length > 0) turns.push(conversation);
        else conversations.delete(conversation.key);
        pump(); // asks the fleet for a run before giving this one back: behind bots in line
        fleet?.runEnded();
      });
  }

  /** Starts waiting updates, one per conversation in turn, while runs are free. */
  function pump(): void {
    while (turns.length > 0 && running < deps.limits().maxRunning) {
      if (granted > 0) granted -= 1;
      else if (fleet !== undefined && !fleet.tryRun()) break; // in the fleet's line: onGrant
      const conversation = turns.shift() as Conversation;
      const items = conversation.waiting.splice(0, together(conversation.waiting));
      fleet?.waiting(-items.length);
      conversation.replays -= items.filter((item) => item.replay).length;
      conversation.told = false;
      for (const item of items) {
        if (item.released) released -= 1;
        else {
          held.splice(held.indexOf(item), 1);
          item.release();
        }
      }
      const last = items.at(-1) as Waiting;
      const ctxs = items.map((item) => item.ctx);
      if (ctxs.length > 1) joined.set(last.ctx, ctxs);
      const settle = (): void => {
        for (const item of items) item.settle();
      };
      start(conversation, last.ctx, last.next).then(settle, settle);
    }
    while (held.length > 0 && released < deps.limits().maxWaitingUpdates) giveSlotBack(held.shift() as Waiting);
    // Nothing (more) to start: runs granted are given back, to the next bot in the fleet's line.
    const spare = granted;
    granted = 0;
    for (let i = 0; i < spare; i += 1) fleet?.runEnded();
  }

  /** How many of `waiting` (not empty) the next run takes. */
  function together(waiting: readonly Waiting[]): number {
    const asked = deps.takeTogether?.(waiting.map((item) => item.ctx)) ?? 1;
    return Math.min(waiting.length, Math.max(1, Math.floor(asked)));
  }

  function giveSlotBack(item: Waiting): void {
    item.released = true;
    released += 1;
    item.release();
  }

  function dropAll(): void {
    const dropped: Context[] = [];
    for (const conversation of conversations.values()) {
      conversation.replays = 0;
      for (const item of conversation.waiting.splice(0)) {
        item.release();
        item.settle();
        dropped.push(item.ctx);
      }
      if (!conversation.running) conversations.delete(conversation.key);
    }
    turns.length = 0;
    held.length = 0;
    released = 0;
    fleet?.waiting(-dropped.length);
    if (dropped.length > 0) deps.onDropped(dropped);
  }

  return { middleware, joinedWith: (ctx) => joined.get(ctx) ?? [ctx] };
}
