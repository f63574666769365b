/**
 * A bot's conversation queue (conversation-queue.ts) wired to its config, logs and error
 * handler: which messages wait for a turn, which waiting ones are answered as one
 * (`queue: collect`), and what a message that finds its conversation's waiting list full gets.
 */
import { type Bot, BotError, type Context } from 'grammy';
import type { BotConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import { conversationId } from '../memory/keys.js';
import { conversationOf, isAllowed } from './addressing.js';
import { recordAnswered } from './answered.js';
import { isForTheModel, kindToAnswer } from './commands.js';
import { type ConversationQueue, createConversationQueue } from './conversation-queue.js';
import type { HandlerDeps } from './handler-deps.js';
import { errorText } from './telegram-errors.js';

/** Sends `text` as a reply to the update's message; false when it could not be delivered. */
export type ReplyTo = (ctx: Context, text: string, log: Logger) => Promise<boolean>;

/** The ordering of `bot`: install its middleware before the handlers, which ask it which
 * updates a run answers (`joinedWith`). */
export function conversationOrder(bot: Bot, deps: HandlerDeps, replyTo: ReplyTo): ConversationQueue {
  return createConversationQueue({
    keyOf: (ctx) => orderingKey(ctx, deps.config()),
    isReplay: (ctx) => deps.isReplay?.(ctx.update) === true,
    takeTogether: (waiting) => collected(waiting, deps.config()),
    limits: () => {
      const telegram = deps.config().telegram;
      return {
        maxRunning: telegram.maxConcurrentUpdates,
        maxWaitingPerConversation: telegram.maxWaitingPerConversation,
        maxWaitingUpdates: telegram.maxWaitingUpdates,
      };
    },
    onFull: (ctx, first) => onFull(ctx, first, deps, replyTo),
    onError: async (error, ctx) => {
      try {
        await bot.errorHandler(new BotError(error, ctx));
      } catch (handlerError) {
        // The bot's error handler itself failed: log it here and keep the queue moving.
        deps.logger.error({ update: ctx.update.update_id, err: errorText(handlerError) }, 'error handler failed');
      }
    },
    onDropped: (ctxs) =>
      deps.logger.warn(
        { updates: ctxs.map((ctx) => ctx.update.update_id) },
        `shutdown deadline reached: ${ctxs.length} messages waiting for their conversation's turn were not handled`,
      ),
    track: deps.track ?? (() => undefined),
    signal: deps.signal,
    ...(deps.fleet !== undefined && { fleet: deps.fleet }),
  });
}

/** How many waiting messages of one conversation the next turn answers: with `queue: collect`,
 * every message for the model (text, a caption) up to the first that is not (a command, media
 * without a caption), which is answered on its own in its place; otherwise one. The config is
 * the one of the moment the turn starts, so a reload applies to the next turn. */
function collected(waiting: readonly Context[], config: BotConfig): number {
  if (config.queue !== 'collect') return 1;
  const stop = waiting.findIndex((ctx) => !isForTheModel(ctx.message, ctx.me, config));
  return stop === -1 ? waiting.length : Math.max(1, stop);
}

/** The conversation a message waits its turn in; undefined for what the bot will ignore
 * (other bots, group messages not meant for it, users outside access), which passes at once. */
function orderingKey(ctx: Context, config: BotConfig): string | undefined {
  const message = ctx.message;
  if (!message || kindToAnswer(message, ctx.me, config.groups.reply) === undefined) return undefined;
  // A user outside access is refused once, then ignored: that never waits, and never gets busy.
  if (!isAllowed(config.access, message.from?.id, message.chat.id)) return undefined;
  return conversationId(conversationOf(config.id, message, config.groups.memory));
}

/** A message beyond its conversation's waiting list: logged; the first since the conversation
 * last took a message gets `replies.busy`, recorded as its answer so a redelivery is not read. */
async function onFull(ctx: Context, first: boolean, deps: HandlerDeps, replyTo: ReplyTo): Promise<void> {
  const log = deps.logger.child({ chat: ctx.chat?.id, update: ctx.update.update_id });
  log.warn(
    { told: first },
    first
      ? "conversation's waiting list is full: message not read; the user was told (replies.busy)"
      : "conversation's waiting list is full: message not read (the user was already told)",
  );
  try {
    const config = deps.config();
    if (!first || ctx.message === undefined || !(await replyTo(ctx, config.replies.busy, log))) return;
    const conversation = conversationOf(config.id, ctx.message, config.groups.memory);
    await recordAnswered(deps.memory, conversation, ctx.update.update_id, log);
  } finally {
    // Handled (not read, by design, the user told): it leaves the journal, never replayed.
    deps.settled?.(ctx.update);
  }
}
