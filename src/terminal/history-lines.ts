/**
 * The JSON Lines of `botfleet history export` and `import`: one object per stored turn, every
 * field always present and in this order, so an export of an import of an export is the same
 * text:
 *
 *   {"bot":"helper","chat":123456789,"topic":null,"userId":null,"user":"hi",
 *    "assistant":"Hello!","userAt":1735689600000,"assistantAt":1735689601234,"updateId":815}
 *
 * `topic` is the forum topic, `userId` the sender of a `groups.memory: user` conversation,
 * `updateId` the Telegram update of the message (null from `botfleet chat`, chat 0).
 *
 * A conversation with a running summary (window.summary) has one summary line before its turns:
 *
 *   {"bot":"helper","chat":123456789,"topic":null,"userId":null,"summary":"The user is Ada.",
 *    "summaryTurns":12,"throughUserAt":1735689500000,"at":1735689599000}
 */
import { errorMessage } from '../errors.js';
import type { ConversationKey } from '../memory/keys.js';
import type { StoredSummary, Turn } from '../memory/value-format.js';

/** One exported turn and the conversation it belongs to. */
export interface TurnLine {
  readonly conversation: ConversationKey;
  readonly turn: Turn;
}

/** One exported summary and the conversation it belongs to. */
export interface SummaryLine {
  readonly conversation: ConversationKey;
  readonly summary: StoredSummary;
}

const FIELDS = ['bot', 'chat', 'topic', 'userId', 'user', 'assistant', 'userAt', 'assistantAt', 'updateId'] as const;
const SUMMARY_FIELDS = ['bot', 'chat', 'topic', 'userId', 'summary', 'summaryTurns', 'throughUserAt', 'at'] as const;

/** The fields naming a line's conversation, first on every export line. */
function conversationFields(conversation: SummaryLine['conversation']) {
  return {
    bot: conversation.botId,
    chat: conversation.chatId,
    topic: conversation.topicId ?? null,
    userId: conversation.userId ?? null,
  };
}

/** The export line of a conversation's summary (no newline). */
export function formatSummaryLine({ conversation, summary }: SummaryLine): string {
  return JSON.stringify({
    ...conversationFields(conversation),
    summary: summary.text,
    summaryTurns: summary.turns,
    throughUserAt: summary.throughUserAt,
    at: summary.at,
  });
}

/** The export line of one turn (no newline). */
export function formatTurnLine({ conversation, turn }: TurnLine): string {
  return JSON.stringify({
    ...conversationFields(conversation),
    user: turn.user,
    assistant: turn.assistant,
    userAt: turn.userAt,
    assistantAt: turn.assistantAt,
    updateId: turn.updateId ?? null,
  });
}

/** Reads one export line, a turn or a summary, or says what is wrong with it (without the
 * line number). */
export function parseTurnLine(text: string): TurnLine | SummaryLine | { readonly error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // Converted: the caller reports the line number and stops before changing anything.
    return { error: `not JSON (${errorMessage(error)})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'not a JSON object' };
  const record = value as Record<string, unknown>;
  if ('summary' in record) return parseSummaryRecord(record);
  const extra = Object.keys(record).filter((name) => !(FIELDS as readonly string[]).includes(name));
  if (extra.length > 0) return { error: `unknown field "${extra[0]}"; the fields are ${FIELDS.join(', ')}` };
  const problem = fieldProblem(record);
  if (problem !== undefined) return { error: problem };
  const integerOrNone = (name: string): number | undefined =>
    record[name] === null ? undefined : Number(record[name]);
  const topicId = integerOrNone('topic');
  const userId = integerOrNone('userId');
  const updateId = integerOrNone('updateId');
  return {
    conversation: {
      botId: String(record.bot),
      chatId: Number(record.chat),
      ...(topicId === undefined ? {} : { topicId }),
      ...(userId === undefined ? {} : { userId }),
    },
    turn: {
      user: String(record.user),
      assistant: String(record.assistant),
      userAt: Number(record.userAt),
      assistantAt: Number(record.assistantAt),
      ...(updateId === undefined ? {} : { updateId }),
    },
  };
}

function parseSummaryRecord(record: Record<string, unknown>): SummaryLine | { readonly error: string } {
  const extra = Object.keys(record).filter((name) => !(SUMMARY_FIELDS as readonly string[]).includes(name));
  if (extra.length > 0)
    return { error: `unknown field "${extra[0]}"; a summary line's fields are ${SUMMARY_FIELDS.join(', ')}` };
  const missing = SUMMARY_FIELDS.find((name) => !(name in record));
  if (missing !== undefined) return { error: `field "${missing}" is missing` };
  const problem = whereProblem(record);
  if (problem !== undefined) return { error: problem };
  if (typeof record.summary !== 'string') return { error: '"summary" must be a string' };
  if (!Number.isSafeInteger(record.summaryTurns) || (record.summaryTurns as number) < 0)
    return { error: '"summaryTurns" must be an integer >= 0' };
  for (const name of ['throughUserAt', 'at'])
    if (typeof record[name] !== 'number' || !Number.isFinite(record[name]))
      return { error: `"${name}" must be a time in ms since the epoch` };
  const topicId = record.topic === null ? undefined : Number(record.topic);
  const userId = record.userId === null ? undefined : Number(record.userId);
  return {
    conversation: {
      botId: String(record.bot),
      chatId: Number(record.chat),
      ...(topicId === undefined ? {} : { topicId }),
      ...(userId === undefined ? {} : { userId }),
    },
    summary: {
      text: record.summary,
      turns: Number(record.summaryTurns),
      throughUserAt: Number(record.throughUserAt),
      at: Number(record.at),
    },
  };
}

/** What is wrong with the conversation fields (bot, chat, topic, userId), if anything. */
function whereProblem(record: Record<string, unknown>): string | undefined {
  if (typeof record.bot !== 'string' || !/^[A-Za-z0-9_-]+$/.test(record.bot))
    return '"bot" must be a bot id (letters, digits, _ and -)';
  if (!Number.isSafeInteger(record.chat)) return '"chat" must be an integer';
  for (const name of ['topic', 'userId'])
    if (record[name] !== null && !Number.isSafeInteger(record[name])) return `"${name}" must be an integer or null`;
  return undefined;
}

function fieldProblem(record: Record<string, unknown>): string | undefined {
  const missing = FIELDS.find((name) => !(name in record));
  if (missing !== undefined) return `field "${missing}" is missing`;
  if (typeof record.bot !== 'string' || !/^[A-Za-z0-9_-]+$/.test(record.bot))
    return '"bot" must be a bot id (letters, digits, _ and -)';
  if (!Number.isSafeInteger(record.chat)) return '"chat" must be an integer';
  for (const name of ['topic', 'userId', 'updateId'])
    if (record[name] !== null && !Number.isSafeInteger(record[name])) return `"${name}" must be an integer or null`;
  for (const name of ['user', 'assistant']) if (typeof record[name] !== 'string') return `"${name}" must be a string`;
  for (const name of ['userAt', 'assistantAt'])
    if (typeof record[name] !== 'number' || !Number.isFinite(record[name]))
      return `"${name}" must be a time in ms since the epoch`;
  return undefined;
}
