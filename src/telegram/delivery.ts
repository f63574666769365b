/**
 * Delivery to Telegram: sending a message in the right chat and topic, "typing…", and short
 * descriptions of errors for logs.
 */
import type { Context } from 'grammy';
import type { Message } from 'grammy/types';
import type { Logger } from '../logger.js';
import { topicOf } from './addressing.js';
import { errorText, isBlockedByUser } from './telegram-errors.js';

/** Sends `text` in the message's chat and topic (as a reply when `asReply`). Returns false
 * when it could not be delivered; a user who blocked the bot is not an error. */
export async function send(ctx: Context, text: string, log: Logger, asReply = false): Promise<boolean> {
  const message = ctx.message;
  const replyTo =
    asReply && message
      ? { reply_parameters: { message_id: message.message_id, allow_sending_without_reply: true } }
      : {};
  try {
    await ctx.reply(text, { ...replyTo, link_preview_options: { is_disabled: true } });
    return true;
  } catch (error) {
    if (isBlockedByUser(error)) {
      log.info({ status: 403 }, 'the user blocked the bot or left the chat; message not delivered');
    } else {
      log.error({ err: errorText(error) }, 'could not send a message');
    }
    return false;
  }
}

/** Shows "typing…" now and every few seconds until the returned function is called. */
export function keepTyping(ctx: Context, message: Message, intervalMs: number, log: Logger): () => void {
  const topicId = topicOf(message);
  const options = topicId === undefined ? {} : { message_thread_id: topicId };
  const ping = (): void => {
    ctx.api.sendChatAction(message.chat.id, 'typing', options).catch((error: unknown) => {
      // "typing…" is cosmetic: a failure must not fail the answer.
      log.debug({ err: errorText(error) }, 'sendChatAction failed');
    });
  };
  ping();
  const timer = setInterval(ping, intervalMs);
  return () => clearInterval(timer);
}
