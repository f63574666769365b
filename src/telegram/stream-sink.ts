/**
 * The reply side of telegramSink (delivery.ts): collects the model's deltas and shows them as
 * the bot's `streaming` setting says (growing messages, a draft in private chats, or whole),
 * in its `formatting`, paced by stream-pacer.ts; a reply the model did not finish gets
 * `replies.cutOff` appended.
 */
import type { Context } from 'grammy';
import type { Message } from 'grammy/types';
import type { ReplySink } from '../answer/reply-sink.js';
import type { BotConfig } from '../config/types.js';
import type { FormattedText } from '../format/types.js';
import type { Logger } from '../logger.js';
import { isGroupChat } from './addressing.js';
import type { UpdateBudget } from './stream-budget.js';
import { draftTarget } from './stream-drafts.js';
import { editTarget, partsOf, type StreamTarget, withNote } from './stream-edits.js';
import { type PartCalls, partCalls } from './stream-out.js';
import { createPacer, type Pacer } from './stream-pacer.js';

/** The settings of a bot that shape its replies. */
export type ReplyStyle = Pick<BotConfig, 'streaming' | 'formatting' | 'telegram'>;

/** The `deliver` and `cutOff` of a ReplySink answering `message` in `style`, within the bot's
 * update `budget`; `signal` (the bot's shutdown deadline) cuts the pacing waits of an
 * unfinished reply short, so its cut-off note goes out at once. */
export function streamedReply(
  ctx: Context,
  message: Message,
  options: { style: ReplyStyle; budget: UpdateBudget; log: Logger; signal: AbortSignal; replyFirst?: boolean },
): Pick<ReplySink, 'deliver'> & Required<Pick<ReplySink, 'cutOff'>> {
  const { style, budget, log, signal } = options;
  const replyFirst = options.replyFirst ?? isGroupChat(message);
  const target = targetFor(partCalls(ctx, message, log), message, style, replyFirst);
  let text = '';
  let delivering = true;
  const pacer = pacerFor(message, style, signal, async () => {
    if (!delivering) return true;
    if (!budget.take(!target.shown())) return false; // over the bot's budget: the next update carries it
    delivering = await target.show(partsOf(text, style.formatting, false), false);
    return true;
  });
  const finalParts = (): FormattedText[] => partsOf(text, style.formatting, true);
  return {
    async deliver(reply) {
      for await (const delta of reply) {
        text += delta;
        if (!delivering) break; // the reply cannot reach the user: stop the model
        if (style.streaming !== 'off') pacer.poke();
      }
      if (text === '' || !delivering) return delivering;
      await pacer.finish(async () => {
        budget.take(true);
        delivering = await target.show(finalParts(), true);
      });
      return delivering;
    },
    async cutOff(note) {
      if (!target.shown()) return false;
      // At shutdown too: the deadline aborted the model, the Bot API calls go on a little longer
      // (drain.ts); a note that cannot go out leaves the part shown as it is.
      await pacer.finish(() => target.show(withNote(finalParts(), note), true));
      return true;
    },
  };
}

/** The pacer of a reply to `message`: its floor is the group one in groups. */
function pacerFor(message: Message, style: ReplyStyle, signal: AbortSignal, update: () => Promise<boolean>): Pacer {
  const { firstMessageDelayMs, editIntervalMs, groupEditIntervalMs } = style.telegram;
  return createPacer({
    signal,
    firstDelayMs: firstMessageDelayMs,
    intervalMs: isGroupChat(message) ? groupEditIntervalMs : editIntervalMs,
    update,
  });
}

/** Where a reply to `message` is shown: a draft in a private chat when `style` says so, else
 * messages kept up to date by edits (the first a reply to `message` when `replyFirst`). */
function targetFor(calls: PartCalls, message: Message, style: ReplyStyle, replyFirst: boolean): StreamTarget {
  if (style.streaming === 'draft' && message.chat.type === 'private')
    return draftTarget(calls, draftIdOf(message), replyFirst);
  return editTarget(calls, replyFirst);
}

/** A non-zero draft id for the reply to `message` (Telegram animates changes to one id). */
function draftIdOf(message: Message): number {
  return message.message_id % 2 ** 31 || 1;
}
