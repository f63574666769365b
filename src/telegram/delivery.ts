/**
 * Delivery to Telegram: the ReplySink of a message (split at TELEGRAM_TEXT_LIMIT, sent in the
 * message's chat and topic, as a reply in groups, "typing…" every interval), and `send` for
 * one text.
 */
import type { Context } from 'grammy';
import type { Message } from 'grammy/types';
import type { ReplySink } from '../answer/reply-sink.js';
import type { Logger } from '../logger.js';
import { isGroupChat, topicOf } from './addressing.js';
import { grammySignal } from './grammy-compat.js';
import { splitMessage } from './split-message.js';
import { AbortedByShutdown, errorText, isBlockedByUser } from './telegram-errors.js';

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
    if (error instanceof AbortedByShutdown) {
      log.warn({}, 'message not sent: aborted by shutdown (its deadline passed)');
    } else if (isBlockedByUser(error)) {
      log.info({ status: 403 }, 'the user blocked the bot or left the chat; message not delivered');
    } else {
      log.error({ err: errorText(error) }, 'could not send a message');
    }
    return false;
  }
}

/** The ReplySink answering `message`: the whole reply is collected, split into parts of at
 * most TELEGRAM_TEXT_LIMIT, and sent in order (the first as a reply in groups), stopping at the
 * first part that could not be delivered; notices are sent as plain messages. */
export function telegramSink(ctx: Context, message: Message, typingIntervalMs: number, log: Logger): ReplySink {
  return {
    startTyping: () => keepTyping(ctx, message, typingIntervalMs, log),
    async deliver(reply) {
      let text = '';
      for await (const delta of reply) text += delta;
      if (text === '') return true;
      for (const [index, part] of splitMessage(text).entries()) {
        if (!(await send(ctx, part, log, index === 0 && isGroupChat(message)))) return false;
      }
      return true;
    },
    notify: (notice) => send(ctx, notice.text, log),
  };
}

/** Shows "typing…" now and every `intervalMs` until the returned function is called, which
 * also aborts a ping still in flight (e.g. waiting out a 429): none reaches Telegram after. */
function keepTyping(ctx: Context, message: Message, intervalMs: number, log: Logger): () => void {
  const topicId = topicOf(message);
  const options = topicId === undefined ? {} : { message_thread_id: topicId };
  const stopped = new AbortController();
  const ping = (): void => {
    ctx.api.sendChatAction(message.chat.id, 'typing', options, grammySignal(stopped.signal)).catch((error: unknown) => {
      // "typing…" is cosmetic: a failure (or the abort when typing stops) must not fail the answer.
      if (!stopped.signal.aborted) log.debug({ err: errorText(error) }, 'sendChatAction failed');
    });
  };
  ping();
  const timer = setInterval(ping, intervalMs);
  return () => {
    clearInterval(timer);
    stopped.abort();
  };
}
