/**
 * How a reply is shown, part by part: the parts of a text (Markdown rendered to entities, or
 * plain text as written), and the two ways of showing them as they grow: messages kept up to
 * date by edits, or a draft (stream-drafts.ts).
 */
import type { FormattingMode } from '../config/types.js';
import { renderTelegram } from '../format/render.js';
import { splitRendered } from '../format/split.js';
import type { FormattedText } from '../format/types.js';
import { splitMessage } from './split-message.js';
import type { PartCalls } from './stream-out.js';

/** Where a reply is shown as it grows. */
export interface StreamTarget {
  /** Brings what the user sees up to `parts` (the whole reply so far); `final`: the reply is
   * complete. Resolves false when a part could not be delivered (the reply cannot continue),
   * or when the final update failed. */
  show(parts: readonly FormattedText[], final: boolean): Promise<boolean>;
  /** True once the user has seen any of the reply. */
  shown(): boolean;
}

/** `text` as Telegram-sized parts: rendered Markdown (a streamed prefix when not `final`), or
 * the text as written. Markdown that renders to nothing falls back to the text as written. */
export function partsOf(text: string, formatting: FormattingMode, final: boolean): FormattedText[] {
  const plain = (): FormattedText[] => splitMessage(text).map((part) => ({ text: part, entities: [] }));
  if (formatting === 'plain') return plain();
  const parts = splitRendered(renderTelegram(text, { partial: !final }));
  return parts.length > 0 || !final ? parts : plain();
}

/** `parts` with `note` appended to the last one as its own paragraph (a new part past the limit). */
export function withNote(parts: readonly FormattedText[], note: string): FormattedText[] {
  const last = parts.at(-1);
  if (last === undefined) return [{ text: note, entities: [] }];
  return [...parts.slice(0, -1), ...splitRendered({ text: `${last.text}\n\n${note}`, entities: last.entities })];
}

const same = (a: FormattedText, b: FormattedText): boolean =>
  a.text === b.text && JSON.stringify(a.entities) === JSON.stringify(b.entities);

/** Shows a reply as messages: a new part is sent (the first as a reply when `replyFirst`), a
 * changed one edited, an unchanged one left alone. A failed edit before the final update is
 * tolerated (the next update carries the latest text). */
export function editTarget(calls: PartCalls, replyFirst: boolean): StreamTarget {
  const messages: { id: number; part: FormattedText }[] = [];
  return {
    async show(parts, final) {
      for (const [index, part] of parts.entries()) {
        const current = messages[index];
        if (current === undefined) {
          const id = await calls.send(part, replyFirst && index === 0);
          if (id === undefined) return false;
          messages.push({ id, part });
        } else if (!same(current.part, part)) {
          if (await calls.edit(current.id, part)) current.part = part;
          else if (final) return false;
        }
      }
      return true;
    },
    shown: () => messages.length > 0,
  };
}
