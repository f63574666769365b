/**
 * "Answered at most once" bookkeeping outside the stored turn: recording an update as answered
 * after a fixed reply, a notice, a reply not delivered whole, or a busy reply.
 */
import type { ReplySink } from '../answer/reply-sink.js';
import type { Logger } from '../logger.js';
import type { ConversationKey } from '../memory/keys.js';
import type { MemoryPort } from './handler-deps.js';
import { errorText } from './telegram-errors.js';

/** Returns `sink`, recording the update as answered (`record`) whenever something reached the user
 * that no stored turn records: a delivered apology, storage notice or "not stored" notice, and
 * a reply not delivered whole (part 1 may have gone out: it is never sent again), a reply cut
 * short with `replies.cutOff`. */
export function markingSink(sink: ReplySink, record: () => Promise<void>): ReplySink {
  const cutOff = sink.cutOff?.bind(sink);
  return {
    startTyping: () => sink.startTyping(),
    // A reply cut short with the note reached the user: it is the answer, never sent again.
    ...(cutOff === undefined
      ? {}
      : {
          async cutOff(note: string) {
            const shown = await cutOff(note);
            if (shown) await record();
            return shown;
          },
        }),
    async deliver(reply) {
      const whole = await sink.deliver(reply);
      if (!whole) await record();
      return whole;
    },
    async notify(notice) {
      const delivered = await sink.notify(notice);
      // historyLost comes before the answer, which records the update itself.
      if (delivered && notice.kind !== 'historyLost') await record();
      return delivered;
    },
  };
}

/** Records `updateId` as answered in `conversation`. A failure is logged, on purpose not
 * thrown: the worst case is the same answer again if Telegram redelivers the update. */
export async function recordAnswered(
  memory: Pick<MemoryPort, 'markAnswered'>,
  conversation: ConversationKey,
  updateId: number,
  log: Logger,
): Promise<void> {
  try {
    await memory.markAnswered(conversation, updateId);
  } catch (error) {
    log.warn({ err: errorText(error) }, 'could not record the update as answered: storage failed');
  }
}
