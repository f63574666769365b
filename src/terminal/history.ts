/**
 * `botfleet history list|show|export|import|forget|reset` on the configured store (see
 * history-lines.ts for the export format and memory/history.ts for how keys are read).
 */
import type { FleetConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import { type HistoryStore, openHistoryStore, type StoredConversation } from '../memory/history.js';
import { type ConversationKey, TERMINAL_CHAT_ID } from '../memory/keys.js';
import { formatSummaryLine, formatTurnLine } from './history-lines.js';
import { forgetUser, importLines } from './history-write.js';

/** One history command, its arguments checked. */
export type HistoryCommand =
  | { readonly verb: 'list'; readonly bot: string }
  | { readonly verb: 'show'; readonly bot: string; readonly chat: number; readonly topic?: number }
  | { readonly verb: 'export'; readonly bot?: string; readonly chat?: number }
  | { readonly verb: 'import'; readonly replace: boolean }
  | { readonly verb: 'forget'; readonly user: number }
  | { readonly verb: 'reset'; readonly bot: string; readonly chat: number; readonly topic?: number };

/** Where a history command reads and writes. */
export interface HistoryIo {
  readonly write: (text: string) => void;
  readonly writeError: (text: string) => void;
  /** The whole standard input (import). */
  readonly readInput: () => Promise<string>;
  readonly logger: Logger;
}

/** Runs `command` on `fleet`'s store; resolves to the exit code (1 when nothing matched a
 * show/reset, or an import line was invalid). Throws StoreError when the store fails. */
export async function runHistory(fleet: FleetConfig, command: HistoryCommand, io: HistoryIo): Promise<number> {
  const history = await openHistoryStore({ storage: fleet.storage, logger: io.logger });
  try {
    return await runHistoryOn(history, command, io);
  } finally {
    await history.close();
  }
}

/** runHistory on a store already opened (left open). */
export async function runHistoryOn(history: HistoryStore, command: HistoryCommand, io: HistoryIo): Promise<number> {
  switch (command.verb) {
    case 'list':
      return await list(history, command.bot, io);
    case 'show':
      return await show(history, command, io);
    case 'export':
      return await exportTurns(history, command, io);
    case 'import':
      return await importLines(history, await io.readInput(), command.replace, io);
    case 'forget':
      return await forgetUser(history, command.user, io);
    case 'reset':
      return await reset(history, command, io);
  }
}

/** The chat id as a person reads it. */
export function chatLabel(chatId: number): string {
  return chatId === TERMINAL_CHAT_ID ? `${chatId} (terminal)` : String(chatId);
}

const time = (ms: number): string => new Date(ms).toISOString();

async function scanOf(
  history: HistoryStore,
  io: HistoryIo,
  keep: (conversation: ConversationKey) => boolean,
): Promise<readonly StoredConversation[]> {
  const { conversations, unreadable } = await history.conversations(keep);
  for (const { key, reason } of unreadable) io.writeError(`botfleet: ${key} could not be read (${reason}); skipped\n`);
  return conversations;
}

async function list(history: HistoryStore, bot: string, io: HistoryIo): Promise<number> {
  const found = await scanOf(history, io, (c) => c.botId === bot);
  if (found.length === 0) {
    io.writeError(`no stored conversation of bot "${bot}"\n`);
    return 0;
  }
  const rows = found.map(({ conversation: c, turns }) => [
    chatLabel(c.chatId),
    c.topicId === undefined ? '-' : String(c.topicId),
    c.userId === undefined ? '-' : String(c.userId),
    String(turns.length),
    turns.length === 0 ? '-' : time(Math.max(...turns.map((turn) => turn.assistantAt))),
  ]);
  const table = [['CHAT', 'TOPIC', 'USER', 'TURNS', 'LAST ACTIVITY'], ...rows];
  const widths = table[0]?.map((_, column) => Math.max(...table.map((row) => row[column]?.length ?? 0))) ?? [];
  for (const row of table)
    io.write(
      `${row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
  return 0;
}

async function show(
  history: HistoryStore,
  command: { bot: string; chat: number; topic?: number },
  io: HistoryIo,
): Promise<number> {
  const found = await conversationsInChat(history, command, io);
  if (found === undefined) return 1;
  for (const { conversation: c, turns, summary } of found) {
    const where = [`chat ${chatLabel(c.chatId)}`];
    if (c.topicId !== undefined) where.push(`topic ${c.topicId}`);
    if (c.userId !== undefined) where.push(`user ${c.userId}`);
    io.write(`# ${c.botId}, ${where.join(', ')}: ${turns.length} turn${turns.length === 1 ? '' : 's'}\n`);
    if (summary !== undefined) {
      const covers = `${summary.turns} earlier turn${summary.turns === 1 ? '' : 's'}, through ${time(summary.throughUserAt)}`;
      io.write(`\n[${time(summary.at)}] summary of ${covers}:\n${indent(summary.text)}\n`);
    }
    for (const turn of turns) {
      io.write(`\n[${time(turn.userAt)}] user:\n${indent(turn.user)}\n`);
      io.write(`[${time(turn.assistantAt)}] ${c.botId}:\n${indent(turn.assistant)}\n`);
    }
    io.write('\n');
  }
  return 0;
}

const indent = (text: string): string =>
  text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');

/** The stored conversations of `where.bot` in `where.chat` (and topic); undefined, after
 * telling the user, when there is none. */
async function conversationsInChat(
  history: HistoryStore,
  where: { bot: string; chat: number; topic?: number },
  io: HistoryIo,
): Promise<Awaited<ReturnType<typeof scanOf>> | undefined> {
  const found = await scanOf(history, io, (c) => inChat(c, where));
  if (found.length > 0) return found;
  io.writeError(`no stored conversation of bot "${where.bot}" in chat ${chatLabel(where.chat)}\n`);
  return undefined;
}

/** Whether `c` is of `where.bot` in `where.chat`, and in `where.topic` when one is given. */
function inChat(c: ConversationKey, where: { bot: string; chat: number; topic?: number }): boolean {
  return c.botId === where.bot && c.chatId === where.chat && (where.topic === undefined || c.topicId === where.topic);
}

async function exportTurns(history: HistoryStore, command: { bot?: string; chat?: number }, io: HistoryIo) {
  const found = await scanOf(
    history,
    io,
    (c) =>
      (command.bot === undefined || c.botId === command.bot) &&
      (command.chat === undefined || c.chatId === command.chat),
  );
  for (const { conversation, turns, summary } of found) {
    if (summary !== undefined) io.write(`${formatSummaryLine({ conversation, summary })}\n`);
    for (const turn of turns) io.write(`${formatTurnLine({ conversation, turn })}\n`);
  }
  return 0;
}

async function reset(
  history: HistoryStore,
  command: { bot: string; chat: number; topic?: number },
  io: HistoryIo,
): Promise<number> {
  const found = await conversationsInChat(history, command, io);
  if (found === undefined) return 1;
  for (const { key, conversation, turns } of found) {
    await history.store.reset(conversation);
    io.write(`reset ${key} (${turns.length} turn${turns.length === 1 ? '' : 's'} forgotten)\n`);
  }
  return 0;
}
