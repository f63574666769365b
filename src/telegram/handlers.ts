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
import { conversationOf, isAllowed, textForModel } from './addressing.js';
import { markingSink, recordAnswered } from './answered.js';
import { type AnswerableKind, fixedReply, kindToAnswer, type MessageKind } from './commands.js';
import { conversationOrder } from './conversation-order.js';
import { send, telegramSink } from './delivery.js';
import type { HandlerDeps, MemoryState } from './handler-deps.js';
import { createBudget, type UpdateBudget } from './stream-budget.js';
import { errorText } from './telegram-errors.js';

/** Installs ordering (see conversation-queue.ts) and message handling on `bot`. */
export function installHandlers(bot: Bot, deps: HandlerDeps): void {
  // One budget of streamed-reply updates for the bot, shared by all its chats.
  const budget = createBudget(STREAM_UPDATES_PER_SECOND);
  bot.use(conversationOrder(bot, deps, (ctx, text, log) => send(ctx, text, log, true)));
  bot.on('message', (ctx) => handleMessage(ctx, ctx.message, deps, budget));
}

/** One message, for one bot's config as it is now. */
interface Turnaround {
  readonly ctx: Context;
  readonly message: Message;
  readonly config: BotConfig;
  readonly conversation: ConversationKey;
  readonly sink: ReplySink;
  readonly deps: HandlerDeps;
  readonly log: Logger;
  /** `performance.now()` when the message reached the handlers. */
  readonly receivedAt: number;
}

async function handleMessage(ctx: Context, message: Message, deps: HandlerDeps, budget: UpdateBudget): Promise<void> {
  const config = deps.config();
  const receivedAt = performance.now();
  deps.metrics?.updateReceived(config.id);
  const log = deps.logger.child({ chat: message.chat.id, update: ctx.update.update_id });
  const ignored = (kind: MessageKind): void => log.debug({ kind }, 'not for this bot to answer; ignored');
  const kind = kindToAnswer(message, ctx.me, config.groups.reply, ignored);
  if (kind === undefined) return;
  if (!isAllowed(config.access, message.from?.id, message.chat.id)) return refuse(ctx, message, deps, log);
  const conversation = conversationOf(config.id, message, config.groups.memory);
  const toTelegram = telegramSink(ctx, message, {
    style: config,
    budget,
    typingIntervalMs: deps.typingIntervalMs ?? DEFAULT_TYPING_INTERVAL_MS,
    log,
    signal: deps.signal,
  });
  const sink = markingSink(toTelegram, () => recordAnswered(deps.memory, conversation, ctx.update.update_id, log));
  const turnaround: Turnaround = { ctx, message, config, conversation, sink, deps, log, receivedAt };
  const state = await readConversation(turnaround);
  if (state === undefined || alreadyAnswered(state, ctx.update.update_id, log)) return;
  if (state.lost !== undefined && kind !== 'reset' && kind !== 'new') {
    await sink.notify({ kind: 'historyLost', text: config.replies.historyLost });
  }
  await respond(kind, state, turnaround);
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
function alreadyAnswered(state: MemoryState, updateId: number, log: Logger): boolean {
  if (!state.answered.includes(updateId)) return false;
  log.info({}, 'update was already answered; skipped');
  return true;
}

/** Answers a message of `kind` that was not answered before. */
async function respond(kind: AnswerableKind, state: MemoryState, t: Turnaround): Promise<void> {
  if (kind === 'text') {
    const { ctx, message, config, deps } = t;
    const userText = textForModel(message, message.text ?? '', ctx.me);
    const updateId = ctx.update.update_id;
    const input = {
      conversation: t.conversation,
      turns: state.turns,
      summary: state.summary,
      userText,
      updateId,
      receivedAt: t.receivedAt,
    };
    const llm = deps.llmFor(config);
    const metrics = deps.metrics ? { metrics: deps.metrics } : {};
    const track = deps.track ? { track: deps.track } : {};
    await answer(input, {
      llmFor: deps.llmFor,
      ...track,
      config,
      memory: deps.memory,
      llm,
      sink: t.sink,
      signal: deps.signal,
      log: t.log,
      ...metrics,
    });
  } else if (kind === 'reset' || kind === 'new') await resetConversation(t);
  else await replyOnce(fixedReply(kind, t.config), t);
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
