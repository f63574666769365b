/**
 * What a bot does with each message: ordering per conversation, group and access rules, the
 * one "already answered" check, commands, and handing text to the transport-free answer
 * (answer/answer.ts) with a Telegram reply sink (delivery.ts). Depends on the narrow ports of
 * handler-deps.ts, never on Keyv or the model SDK (the architecture test checks it).
 */
import type { Bot, Context } from 'grammy';
import type { Message } from 'grammy/types';
import { answer } from '../answer/answer.js';
import { secondsSince } from '../answer/metrics.js';
import type { ReplySink } from '../answer/reply-sink.js';
import type { BotConfig } from '../config/types.js';
import { DEFAULT_TYPING_INTERVAL_MS, STREAM_UPDATES_PER_SECOND } from '../defaults.js';
import type { Logger } from '../logger.js';
import type { ConversationKey } from '../memory/keys.js';
import { conversationOf, isAllowed, modelInputOf } from './addressing.js';
import { type AlbumMemory, createAlbumMemory } from './albums.js';
import { markingSink, recordAnswered } from './answered.js';
import { type AnswerableKind, fixedReply, kindToAnswer, type MessageKind } from './commands.js';
import { conversationOrder } from './conversation-order.js';
import { send, telegramSink } from './delivery.js';
import type { HandlerDeps, MemoryPort, MemoryState } from './handler-deps.js';
import { createBudget, type UpdateBudget } from './stream-budget.js';
import { errorText } from './telegram-errors.js';

/** Installs ordering (see conversation-queue.ts) and message handling on `bot`. */
export function installHandlers(bot: Bot, deps: HandlerDeps): void {
  // One budget of streamed-reply updates for the bot, shared by all its chats.
  const budget = createBudget(STREAM_UPDATES_PER_SECOND);
  const order = conversationOrder(bot, deps, (ctx, text, log) => send(ctx, text, log, true));
  bot.use(order.middleware);
  // Runs inside each run the queue starts: once it ends, the updates it answered need no replay.
  // A run that threw is settled too: the error handler told the user and logged it, and a
  // replay would throw again.
  bot.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      if (!deps.signal.aborted) for (const done of order.joinedWith(ctx)) deps.settled?.(done.update);
    }
  });
  const albums = createAlbumMemory();
  bot.on('message', (ctx) => handleMessages(order.joinedWith(ctx), deps, budget, albums));
}

/** One answer, for one bot's config as it is now: to one message, or to several joined
 * (`queue: collect`), answered as a reply to the last of them. */
interface Turnaround {
  /** The update answered: the last of `joined`. */
  readonly ctx: Context;
  readonly message: Message;
  /** Every update this answer answers, oldest first (`ctx` last). */
  readonly joined: readonly Context[];
  readonly config: BotConfig;
  readonly conversation: ConversationKey;
  readonly sink: ReplySink;
  readonly deps: HandlerDeps;
  readonly log: Logger;
  /** `performance.now()` when the message reached the handlers. */
  readonly receivedAt: number;
}

/** What every Turnaround of one run shares. */
type Shared = Omit<Turnaround, 'ctx' | 'message' | 'joined' | 'sink'> & { readonly budget: UpdateBudget };

/** Handles `joined`, the updates of one run of the conversation queue: one message, or several
 * of one conversation joined by `queue: collect` (then all for the model, see isForTheModel). */
async function handleMessages(
  joined: readonly Context[],
  deps: HandlerDeps,
  budget: UpdateBudget,
  albums: AlbumMemory,
): Promise<void> {
  const config = deps.config();
  const receivedAt = performance.now();
  for (const _update of joined) deps.metrics?.updateReceived(config.id);
  const ctx = joined.at(-1) as Context;
  const message = ctx.message as Message; // bot.on('message') runs only for messages
  const log = logFor(deps.logger, joined);
  const ignored = (kind: MessageKind): void => log.debug({ kind }, 'not for this bot to answer; ignored');
  const kind = kindToAnswer(message, ctx.me, config.groups.reply, ignored);
  if (kind === undefined) return;
  if (!isAllowed(config.access, message.from?.id, message.chat.id)) return refuse(ctx, message, deps, log);
  if (kind === 'caption') albums.seen(message);
  if (kind === 'media' && !albums.answersMedia(message))
    return log.debug({ album: message.media_group_id }, 'another item of an album already answered; ignored');
  const conversation = conversationOf(config.id, message, config.groups.memory);
  const shared: Shared = { config, conversation, deps, log, receivedAt, budget };
  const first = turnaround(joined, shared);
  const state = await readConversation(first);
  if (state === undefined) return;
  // A redelivered update already answered is left out (of a joined turn too); the rest is answered.
  const fresh = joined.filter((update) => !alreadyAnswered(state, update, deps.logger));
  if (fresh.length === 0) return;
  const t = fresh.length === joined.length ? first : turnaround(fresh, { ...shared, log: logFor(deps.logger, fresh) });
  if (state.lost !== undefined && kind !== 'reset' && kind !== 'new') {
    await t.sink.notify({ kind: 'historyLost', text: config.replies.historyLost });
  }
  await respond(kind, state, t);
}

/** The log of an answer to `joined`: its chat, the update answered, and the joined ones. */
function logFor(logger: Logger, joined: readonly Context[]): Logger {
  const last = joined.at(-1) as Context;
  const ids = joined.map((update) => update.update.update_id);
  return logger.child({
    chat: last.chat?.id,
    update: last.update.update_id,
    ...(ids.length > 1 ? { joined: ids } : {}),
  });
}

/** The Turnaround answering `joined` (not empty): its sink replies to the last message (a
 * joined answer as a reply in every chat, so the user sees what it answers) and, whenever
 * something reaches the user that no stored turn records, records every joined update answered. */
function turnaround(joined: readonly Context[], shared: Shared): Turnaround {
  const { config, deps, log, budget, conversation } = shared;
  const ctx = joined.at(-1) as Context;
  const message = ctx.message as Message;
  const toTelegram = telegramSink(ctx, message, {
    style: config,
    budget,
    typingIntervalMs: deps.typingIntervalMs ?? DEFAULT_TYPING_INTERVAL_MS,
    log,
    signal: deps.signal,
    ...(joined.length > 1 ? { replyFirst: true } : {}),
  });
  const record = async (): Promise<void> => {
    for (const update of joined) await recordAnswered(deps.memory, conversation, update.update.update_id, log);
  };
  return { ...shared, ctx, message, joined, sink: markingSink(toTelegram, record) };
}

/** The conversation's state, or undefined when storage failed (the user was asked to retry). */
async function readConversation(t: Turnaround): Promise<MemoryState | undefined> {
  try {
    return await t.deps.memory.read(t.conversation);
  } catch (error) {
    t.deps.metrics?.error(t.config.id, 'storage');
    t.log.error(
      { err: errorText(error) },
      'could not load the conversation: storage failed; the user was asked to retry',
    );
    await t.sink.notify({ kind: 'storageError', text: t.config.replies.storageError });
    return undefined;
  }
}

/** The one "already answered" check, for every kind of answer: a redelivered update (after a
 * restart or a runner restart) is answered at most once. */
function alreadyAnswered(state: MemoryState, update: Context, logger: Logger): boolean {
  if (!state.answered.includes(update.update.update_id)) return false;
  logger
    .child({ chat: update.chat?.id, update: update.update.update_id })
    .info({}, 'update was already answered; skipped');
  return true;
}

/** Answers a message of `kind` that was not answered before (several joined: text). */
async function respond(kind: AnswerableKind, state: MemoryState, t: Turnaround): Promise<void> {
  if (kind === 'text' || kind === 'caption') await answerText(state, t);
  else if (kind === 'reset' || kind === 'new') await resetConversation(t);
  else await replyOnce(fixedReply(kind, t.config), t);
}

/** Hands the text of the joined messages (one per line) to the model: one call, one answer, one
 * stored turn carrying the last update id; the others are recorded answered in the write that
 * stores that turn (so a redelivered batch is not answered again), and by the sink otherwise. */
async function answerText(state: MemoryState, t: Turnaround): Promise<void> {
  const { config, deps } = t;
  const userText = t.joined.map((update) => modelText(update)).join('\n');
  if (t.joined.length > 1) t.log.debug({ count: t.joined.length }, 'messages joined into one turn');
  const updateId = t.ctx.update.update_id;
  const input = {
    conversation: t.conversation,
    turns: state.turns,
    summary: state.summary,
    userText,
    updateId,
    receivedAt: t.receivedAt,
  };
  const metrics = deps.metrics ? { metrics: deps.metrics } : {};
  const track = deps.track ? { track: deps.track } : {};
  await answer(input, {
    llmFor: deps.llmFor,
    ...track,
    config,
    memory: withOthersAnswered(t),
    llm: deps.llmFor(config),
    sink: t.sink,
    signal: deps.signal,
    log: t.log,
    ...metrics,
  });
}

/** What the model reads for one message (text, or a caption with its attachment note). */
function modelText(update: Context): string {
  return modelInputOf(update.message as Message, update.me);
}

/** The memory the answer stores its turn in: for joined messages, the updates before the last
 * are recorded answered in the same write as the turn (which carries the last). */
function withOthersAnswered(t: Turnaround): MemoryPort {
  const others = t.joined.slice(0, -1).map((update) => update.update.update_id);
  if (others.length === 0) return t.deps.memory;
  const memory = t.deps.memory;
  return {
    // The port is a plain object of functions (see memory/open-store.ts): spreading keeps them all.
    ...memory,
    append: (conversation, turn, options) => memory.append(conversation, turn, { ...options, alsoAnswered: others }),
  };
}

/** Sends `text`, then records the update as answered once delivered. */
async function replyOnce(text: string, t: Turnaround): Promise<void> {
  // Not delivered (blocked, network): not answered, so a redelivery may try again.
  if (!(await send(t.ctx, text, t.log))) return;
  t.deps.metrics?.replySent(t.config.id, secondsSince(t.receivedAt));
  await recordAnswered(t.deps.memory, t.conversation, t.ctx.update.update_id, t.log);
}

/** /reset and /new: clears the turns and records the update as answered, in one write. */
async function resetConversation(t: Turnaround): Promise<void> {
  try {
    await t.deps.memory.reset(t.conversation, t.ctx.update.update_id);
  } catch (error) {
    t.deps.metrics?.error(t.config.id, 'storage');
    t.log.error({ err: errorText(error) }, 'could not reset the conversation: storage failed');
    await t.sink.notify({ kind: 'storageError', text: t.config.replies.storageError });
    return;
  }
  t.log.info({}, 'conversation reset');
  if (await send(t.ctx, t.config.replies.reset, t.log))
    t.deps.metrics?.replySent(t.config.id, secondsSince(t.receivedAt));
}

/** A user outside `access`: refused once per bot (remembered in the store), then ignored. */
async function refuse(ctx: Context, message: Message, deps: HandlerDeps, log: Logger): Promise<void> {
  const config = deps.config();
  const userId = message.from?.id;
  let first = true;
  try {
    first = await deps.memory.claimRefusal(config.id, userId ?? message.chat.id, ctx.update.update_id);
  } catch (error) {
    // Handled: better to refuse again later than to leave the user without an answer now.
    log.error(
      { user: userId, err: errorText(error) },
      'could not remember the refusal: storage failed; refused anyway',
    );
  }
  if (!first) {
    log.debug({ user: userId }, 'message from a user outside access who was already refused; ignored');
    return;
  }
  log.info({ user: userId }, 'message from a user outside access; refused (once: later messages are ignored)');
  await send(ctx, config.replies.notAllowed.replaceAll('{userId}', String(userId ?? 'unknown')), log);
}
