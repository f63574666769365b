/**
 * The history commands that change the store: `import` (every line checked before anything is
 * written) and `forget --user` (every key about one user, across every bot).
 */
import { type HistoryStore, parseStorageKey, type StoredKey } from '../memory/history.js';
import { type ConversationKey, conversationId } from '../memory/keys.js';
import type { StoredSummary, Turn } from '../memory/value-format.js';
import type { HistoryIo } from './history.js';
import { parseTurnLine } from './history-lines.js';

/** Imports the JSON Lines `text` (history-lines.ts). Every line is checked first: an invalid
 * one is reported with its line number and nothing is written (exit 1); so is a conversation
 * that already holds turns, unless `replace`. The answered update ids already stored are
 * kept. Blank lines are skipped. */
export async function importLines(history: HistoryStore, text: string, replace: boolean, io: HistoryIo) {
  const incoming = new Map<string, { conversation: ConversationKey; turns: Turn[]; summary?: StoredSummary }>();
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const parsed = parseTurnLine(line);
    if ('error' in parsed) {
      io.writeError(`botfleet: line ${index + 1}: ${parsed.error}; nothing was imported\n`);
      return 1;
    }
    const id = conversationId(parsed.conversation);
    const entry = incoming.get(id) ?? { conversation: parsed.conversation, turns: [] };
    if ('summary' in parsed) entry.summary = parsed.summary;
    else entry.turns.push(parsed.turn);
    incoming.set(id, entry);
  }
  const { conversations: stored } = await history.conversations((c) => incoming.has(conversationId(c)));
  const taken = stored.find((c) => c.turns.length > 0 || c.summary !== undefined);
  if (taken !== undefined && !replace) {
    io.writeError(
      `botfleet: ${taken.key} already holds ${taken.turns.length} turns; nothing was imported (use --replace to overwrite the conversations in the file)\n`,
    );
    return 1;
  }
  const answeredOf = new Map(stored.map((c) => [conversationId(c.conversation), c.answered]));
  let turns = 0;
  for (const [id, { conversation, turns: list, summary }] of incoming) {
    await history.write(conversation, list, answeredOf.get(id) ?? [], summary);
    turns += list.length;
  }
  io.write(`imported ${turns} turns in ${incoming.size} conversations\n`);
  return 0;
}

/** Deletes every key about `userId` (their private chats with every bot, their
 * `groups.memory: user` conversations, refusal marks, and values of those kept aside as
 * corrupt) and prints each deleted key. */
export async function forgetUser(history: HistoryStore, userId: number, io: HistoryIo): Promise<number> {
  const doomed: [string, string][] = [];
  for (const [key] of await history.entries()) {
    const what = aboutUser(parseStorageKey(history.namespace, key), userId);
    if (what !== undefined) doomed.push([key, what]);
  }
  await history.delete(doomed.map(([key]) => key));
  for (const [key, what] of doomed) io.write(`deleted ${key} (${what})\n`);
  io.write(
    doomed.length === 0
      ? `nothing was stored about user ${userId}\n`
      : `deleted ${doomed.length} key${doomed.length === 1 ? '' : 's'} about user ${userId}\n`,
  );
  io.writeError(
    'note: a group conversation shared by its members (groups.memory: chat) does not record who said what and was not changed; clear one with botfleet history reset BOT --chat ID\n',
  );
  return 0;
}

/** What `stored` is about `userId`, or undefined when it is not about them. */
function aboutUser(stored: StoredKey | undefined, userId: number): string | undefined {
  switch (stored?.kind) {
    case 'refusal':
      return stored.subjectId === userId ? `refusal mark of bot ${stored.botId}` : undefined;
    case 'conversation':
    case 'corrupt': {
      const c = stored.conversation;
      const aside = stored.kind === 'corrupt' ? ', kept aside as unreadable' : '';
      if (c.userId === userId) return `their memory in group ${c.chatId} of bot ${c.botId}${aside}`;
      if (c.chatId === userId && c.userId === undefined) return `private chat with bot ${c.botId}${aside}`;
      return undefined;
    }
    default:
      return undefined;
  }
}
