/**
 * Delivery to Telegram: the ReplySink of a message (its reply streamed and formatted as the
 * bot says, by stream-sink.ts; "typing…" every interval), and `send` for one text.
 */
import type { Context } from 'grammy';
import type { Message } from 'grammy/types';
import type { ReplySink } from '../answer/reply-sink.js';
import type { Logger } from '../logger.js';
import { topicOf } from './addressing.js';
import { grammySignal } from './grammy-compat.js';
import type { UpdateBudget } from './stream-budget.js';
import { partCalls } from './stream-out.js';
import { type ReplyStyle, streamedReply } from './stream-sink.js';
import { errorText } from './telegram-errors.js';

/** Sends `text`, as written, in the message's chat and topic (as a reply when `asReply`), the
 * way a streamed part is sent (stream-out.ts). Returns false when it could not be delivered;
 * a user who blocked the bot is not an error. */
export async function send(ctx: Context, text: string, log: Logger, asReply = false): Promise<boolean> {
  const message = ctx.message;
  if (message === undefined) return false; // only messages are answered
  return (await partCalls(ctx, message, log).send({ text, entities: [] }, asReply)) !== undefined;
}

/** How a bot's replies are shown: its `streaming` and `formatting` settings (`style`), its
 * budget of streamed updates shared by all its chats, "typing…" every `typingIntervalMs`, and
 * `signal` (the bot's shutdown), which cuts the pacing waits of an unfinished reply short. */
export interface SinkOptions {
  readonly style: ReplyStyle;
  readonly budget: UpdateBudget;
  readonly typingIntervalMs: number;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** Send the reply's first message as a reply to `message`; default: in groups only. */
  readonly replyFirst?: boolean;
}

/** The ReplySink answering `message`: the reply is shown as `options.style` says (see
 * stream-sink.ts), in parts of at most TELEGRAM_TEXT_LIMIT in the message's chat and topic, the
 * first as a reply in groups, stopping at the first part that could not be delivered; an
 * unfinished reply gets a cut-off note; notices are plain messages. */
export function telegramSink(ctx: Context, message: Message, options: SinkOptions): ReplySink {
  const { log, typingIntervalMs } = options;
  const { deliver, cutOff } = streamedReply(ctx, message, options);
  return {
    startTyping: () => keepTyping(ctx, message, typingIntervalMs, log),
    deliver,
    cutOff,
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
