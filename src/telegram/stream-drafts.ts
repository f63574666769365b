/**
 * A reply streamed as a draft (sendMessageDraft, private chats only): while the model writes,
 * the draft shows the reply's last part (the whole reply while it fits one message); once
 * complete, every part is sent with sendMessage, the only messages that stay (later changes
 * to them are edits). A draft lives
 * about 30 s, so the steady updates keep it alive.
 */
import type { FormattedText } from '../format/types.js';
import { editTarget, type StreamTarget } from './stream-edits.js';
import type { PartCalls } from './stream-out.js';

/** The draft StreamTarget for draft `draftId` (non-zero); the first final message is a reply
 * to the user's when `replyFirst`. */
export function draftTarget(calls: PartCalls, draftId: number, replyFirst = false): StreamTarget {
  let drafted: FormattedText | undefined;
  // The final messages (and a later change to them, such as a cut-off note) are edit-mode's.
  const messages = editTarget(calls, replyFirst);
  return {
    async show(parts, final) {
      if (final) return messages.show(parts, true);
      const live = parts.at(-1);
      if (live === undefined || live.text === drafted?.text) return true;
      // A failed draft is tolerated: the next update (or the final message) carries the text.
      if (await calls.draft(draftId, live)) drafted = live;
      return true;
    },
    shown: () => drafted !== undefined || messages.shown(),
  };
}
