/**
 * Storage keys. Keyv's own prefixing is turned off (no `keyv:` or `namespace::` in front), so
 * the key built here is exactly the key in Redis and in the `key` column of SQLite's `keyv`
 * table:
 *
 *   {namespace}:{botId}:{chatId}[:t{topicId}][:u{userId}]   one conversation
 *   {namespace}:{botId}:{chatId}…:corrupt:{ms epoch}        a value that did not parse, kept aside
 *   {namespace}:{botId}:refused:{userId}                    a user outside `access` who got the refusal
 *   {namespace}:probe:{uuid}                                 written and deleted by the start-up probe
 *
 * e.g. `botfleet:helper:123456789` (private chat), `botfleet:chef:-1001234567890:t42` (forum
 * topic 42), `botfleet:chef:-1001234567890:u123456789` (`groups.memory: user`), and
 * `botfleet:helper:0`, the conversation of `botfleet chat helper` (TERMINAL_CHAT_ID: Telegram
 * never uses chat id 0, so a terminal conversation is never mixed with a Telegram chat). Namespace and
 * bot ids are `[A-Za-z0-9_-]` (the config schema enforces it), so `:` only separates fields.
 *
 * The value of a conversation key is one JSON text (see value-format.ts), newest turn last:
 *
 *   {"v":1,"turns":[{"user":"hi","assistant":"Hello!","userAt":1735689600000,
 *                    "assistantAt":1735689601234,"updateId":815}]}
 *
 * It never holds more than the bot's `window.maxTurns` turns: every append trims it (with
 * window.summary, the turns waiting for a summary stay too, and `"summary"` holds the summary
 * of the turns dropped; see value-format.ts). Update ids
 * answered without a kept turn (commands, apologies, /reset, trimmed turns) are listed in
 * `"answered"` (see value-format.ts), which /reset keeps, so a redelivered update is never
 * answered twice, even after a restart:
 *
 *   {"v":1,"turns":[],"answered":[812,813,814]}
 *
 * A refusal key (the id is the sender's, or the chat's when a message has no sender) holds
 * `{"v":1,"at":1735689600000,"updateId":815}`: when the refusal was sent; the user is not
 * refused again. Its third field is never an integer, so it cannot be taken for a chat id.
 */

/** The chat id of the terminal conversation (`botfleet chat`): one no Telegram chat has. */
export const TERMINAL_CHAT_ID = 0;

/** One conversation: a bot + a chat, plus the forum topic when there is one, plus the sender
 * when the bot keeps one history per user in groups. */
export interface ConversationKey {
  readonly botId: string;
  readonly chatId: number;
  readonly topicId?: number;
  readonly userId?: number;
}

/** A conversation's identity, `{botId}:{chatId}[:t{topicId}][:u{userId}]`: the one form every
 * part uses (the storage key is the namespace and this; the ordering queue keys by it). Throws
 * RangeError for ids that would make it ambiguous (a bot id with `:`, a non-integer chat/topic/
 * user id). */
export function conversationId(key: ConversationKey): string {
  if (key.botId === '' || key.botId.includes(':'))
    throw new RangeError(`bot id ${JSON.stringify(key.botId)} cannot be part of a storage key`);
  for (const [name, value] of [
    ['chatId', key.chatId],
    ['topicId', key.topicId],
    ['userId', key.userId],
  ] as const) {
    if (value !== undefined && !Number.isSafeInteger(value))
      throw new RangeError(`${name} must be an integer, got ${String(value)}`);
  }
  const topic = key.topicId === undefined ? '' : `:t${key.topicId}`;
  const user = key.userId === undefined ? '' : `:u${key.userId}`;
  return `${key.botId}:${key.chatId}${topic}${user}`;
}

/** The storage key of a conversation under `namespace`: `{namespace}:` + conversationId.
 * Throws RangeError like conversationId. */
export function conversationKey(namespace: string, key: ConversationKey): string {
  return `${namespace}:${conversationId(key)}`;
}

/** Where an unreadable value of `key` is kept aside; `atMs` is the time it was found. */
export function corruptKey(key: string, atMs: number): string {
  return `${key}:corrupt:${atMs}`;
}

/** The throw-away key the start-up round trip writes, reads and deletes. */
export function probeKey(namespace: string, id: string): string {
  return `${namespace}:probe:${id}`;
}

/** The key that remembers `botId` refused `subjectId` (a user id, or a chat id). */
export function refusalKey(namespace: string, botId: string, subjectId: number): string {
  if (!Number.isSafeInteger(subjectId)) throw new RangeError(`user id must be an integer, got ${String(subjectId)}`);
  return `${namespace}:${botId}:refused:${subjectId}`;
}
