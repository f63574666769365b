/**
 * The Bot API calls of a streamed (or whole) reply, one formatted part each: send, edit and
 * draft in the message's chat and topic. A 400 on a part with entities is resent once as plain
 * text (plainTextOf, logged at warn), so nothing is lost to "can't parse entities"; a 429 was
 * already waited out by auto-retry (api-setup.ts) before an error reaches here.
 */
import { type Context, GrammyError } from 'grammy';
import type { Message, MessageEntity } from 'grammy/types';
import { plainTextOf } from '../format/render.js';
import type { FormattedText } from '../format/types.js';
import type { Logger } from '../logger.js';
import { topicOf } from './addressing.js';
import { errorText, logUndelivered } from './telegram-errors.js';

/** The calls a streamed reply makes for its parts. None rejects. */
export interface PartCalls {
  /** Sends `part` (as a reply to the user's message when `asReply`); its message id, or
   * undefined when it could not be delivered (logged). */
  send(part: FormattedText, asReply: boolean): Promise<number | undefined>;
  /** Replaces message `messageId`'s text by `part`; false when that failed (logged). */
  edit(messageId: number, part: FormattedText): Promise<boolean>;
  /** Shows `part` as draft `draftId` (private chats only); false when that failed (logged). */
  draft(draftId: number, part: FormattedText): Promise<boolean>;
}

/** A 400 whose description says the edit changed nothing: the text is already shown. */
function isNotModified(error: unknown): boolean {
  return error instanceof GrammyError && error.error_code === 400 && /message is not modified/i.test(error.description);
}

/** Runs `call` with the part's entities; on a 400 (not "not modified") retries once as plain text. */
async function withFallback<T>(
  part: FormattedText,
  log: Logger,
  call: (text: string, entities: MessageEntity[] | undefined) => Promise<T>,
): Promise<T> {
  const entities = part.entities.length > 0 ? (part.entities as MessageEntity[]) : undefined;
  try {
    return await call(part.text, entities);
  } catch (error) {
    const rejected = error instanceof GrammyError && error.error_code === 400 && !isNotModified(error);
    if (!rejected || entities === undefined) throw error;
    log.warn({ err: errorText(error) }, 'Telegram rejected a formatted message; resent as plain text');
    return await call(plainTextOf(part), undefined);
  }
}

/** The PartCalls for replies to `message`. */
export function partCalls(ctx: Context, message: Message, log: Logger): PartCalls {
  return {
    send: (part, asReply) => sendPart(ctx, message, part, asReply, log),
    edit: (messageId, part) => editPart(ctx, message.chat.id, messageId, part, log),
    draft: (draftId, part) => draftPart(ctx, message, draftId, part, log),
  };
}

const NO_PREVIEW = { link_preview_options: { is_disabled: true } } as const;

/** PartCalls.send, in the message's chat and topic (ctx.reply adds the topic). */
async function sendPart(
  ctx: Context,
  message: Message,
  part: FormattedText,
  asReply: boolean,
  log: Logger,
): Promise<number | undefined> {
  const replyTo = asReply
    ? { reply_parameters: { message_id: message.message_id, allow_sending_without_reply: true } }
    : {};
  try {
    const sent = await withFallback(part, log, (text, entities) =>
      ctx.reply(text, { ...replyTo, ...NO_PREVIEW, ...(entities && { entities }) }),
    );
    return sent.message_id;
  } catch (error) {
    logUndelivered(log, 'send a message', error);
    return undefined;
  }
}

/** PartCalls.edit; "message is not modified" counts as done. */
async function editPart(
  ctx: Context,
  chatId: number,
  messageId: number,
  part: FormattedText,
  log: Logger,
): Promise<boolean> {
  try {
    await withFallback(part, log, (text, entities) =>
      ctx.api.editMessageText(chatId, messageId, text, { ...NO_PREVIEW, ...(entities && { entities }) }),
    );
    return true;
  } catch (error) {
    if (isNotModified(error)) return true;
    logUndelivered(log, 'edit a streamed message', error);
    return false;
  }
}

/** PartCalls.draft, in the message's topic when it has one. */
async function draftPart(
  ctx: Context,
  message: Message,
  draftId: number,
  part: FormattedText,
  log: Logger,
): Promise<boolean> {
  const topicId = topicOf(message);
  try {
    await withFallback(part, log, (text, entities) =>
      ctx.api.sendMessageDraft(message.chat.id, draftId, text, {
        ...(topicId === undefined ? {} : { message_thread_id: topicId }),
        ...(entities && { entities }),
      }),
    );
    return true;
  } catch (error) {
    logUndelivered(log, 'update a draft', error);
    return false;
  }
}
