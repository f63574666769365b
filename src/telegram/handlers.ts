/**
 * What a bot does with each message: ordering per conversation, group and access rules, the
 * one "already answered" check, commands, and handing text to the answer (answer.ts).
 * Depends on the narrow ports of ports.ts, not on Keyv or the model SDK.
 */
import type { Bot, Context } from 'grammy';
import type { Message } from 'grammy/types';
import type { BotConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import type { ConversationKey } from '../memory/keys.js';
import { conversationOf, isAllowed, shouldAnswer } from './addressing.js';
import { answer } from './answer.js';
import { HELP_TEXT, messageKind } from './commands.js';
import { conversationOrder } from './conversation-order.js';
import { send } from './delivery.js';
import type { HandlerDeps, MemoryState } from './ports.js';
import { errorText } from './telegram-errors.js';

export type { BuildWindow, HandlerDeps, MemoryPort, MemoryState, StoredTurn } from './ports.js';

/** Installs ordering (see conversation-queue.ts) and message handling on `bot`. */
export function installHandlers(bot: Bot, deps: HandlerDeps): void {
  bot.use(conversationOrder(bot, deps, (ctx, text, log) => send(ctx, text, log, true)));
  bot.on('message', (ctx) => handleMessage(ctx, ctx.message, deps));
}

async function handleMessage(ctx: Context, message: Message, deps: HandlerDeps): Promise<void> {
  const config = deps.config();
  const updateId = ctx.update.update_id;
  const log = deps.logger.child({ chat: message.chat.id, update: updateId });
  if (message.from?.is_bot || !shouldAnswer(message, ctx.me, config.groups.reply)) return;
  const kind = messageKind(message, ctx.me);
  if (kind === 'service' || kind === 'for-another-bot') {
    log.debug({ kind }, 'not for this bot to answer; ignored');
    return;
  }
  if (!isAllowed(config.access, message.from?.id, message.chat.id)) return refuse(ctx, message, deps, log);
  const ref = conversationOf(config.id, message, config.groups.memory);
  let state: MemoryState;
  try {
    state = await deps.memory.read(ref);
  } catch (error) {
    log.error(
      { err: errorText(error) },
      'could not load the conversation: storage failed; the user was asked to retry',
    );
    await send(ctx, config.replies.storageError, log);
    return;
  }
  // The one "already answered" check, for every kind of answer: a redelivered update (after a
  // restart or a runner restart) is answered at most once.
  if (state.answered.includes(updateId)) {
    log.info({}, 'update was already answered; skipped');
    return;
  }
  if (state.lost !== undefined && kind !== 'reset' && kind !== 'new') {
    await send(ctx, config.replies.historyLost, log);
  }
  if (kind === 'text') await answer(ctx, message, state.turns, ref, deps, log);
  else if (kind === 'reset' || kind === 'new') await resetConversation(ctx, ref, deps, log);
  else await replyOnce(ctx, ref, fixedReply(kind, config), deps, log);
}

/** The text answering a command or a non-text message. */
function fixedReply(kind: 'start' | 'help' | 'unknown' | 'media', config: BotConfig): string {
  switch (kind) {
    case 'start':
      return config.greeting;
    case 'help':
      return HELP_TEXT;
    case 'unknown':
      return `I don't know that command.\n\n${HELP_TEXT}`;
    case 'media':
      return config.replies.nonText;
  }
}

/** Sends `text`, then records the update as answered once delivered (a failure to record is
 * logged: the worst case is the same answer again if Telegram redelivers the update). */
async function replyOnce(
  ctx: Context,
  ref: ConversationKey,
  text: string,
  deps: HandlerDeps,
  log: Logger,
): Promise<void> {
  // Not delivered (blocked, network): not answered, so a redelivery may try again.
  if (!(await send(ctx, text, log))) return;
  try {
    await deps.memory.markAnswered(ref, ctx.update.update_id);
  } catch (error) {
    log.warn({ err: errorText(error) }, 'could not record the update as answered: storage failed');
  }
}

/** /reset and /new: clears the turns and records the update as answered, in one write. */
async function resetConversation(ctx: Context, ref: ConversationKey, deps: HandlerDeps, log: Logger): Promise<void> {
  const config = deps.config();
  try {
    await deps.memory.reset(ref, ctx.update.update_id);
  } catch (error) {
    log.error({ err: errorText(error) }, 'could not reset the conversation: storage failed');
    await send(ctx, config.replies.storageError, log);
    return;
  }
  log.info({}, 'conversation reset');
  await send(ctx, config.replies.reset, log);
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
