/**
 * Builders for the Bot API objects the fake hands out: users, chats, text messages with the
 * entities Telegram would attach, and the service message that opens a forum topic.
 */
import type { MessageEntity } from 'grammy/types';
import type { SendTextOptions } from './telegram-types.js';

/** A Bot API User as the fake builds it. */
export interface FakeUser {
  readonly id: number;
  readonly is_bot: boolean;
  readonly first_name: string;
  readonly last_name?: string;
  readonly username?: string;
  readonly language_code?: string;
}

/** A Bot API Chat as the fake builds it. */
export interface FakeChat {
  readonly id: number;
  readonly type: 'private' | 'group' | 'supergroup' | 'channel';
  readonly title?: string;
  readonly first_name?: string;
  readonly last_name?: string;
  readonly username?: string;
  readonly is_forum?: true;
}

/** A Bot API Message as the fake stores and returns it (only the fields it sets). */
export interface FakeMessage {
  readonly message_id: number;
  readonly from?: FakeUser;
  readonly chat: FakeChat;
  readonly date: number;
  readonly edit_date?: number;
  readonly message_thread_id?: number;
  readonly is_topic_message?: true;
  readonly reply_to_message?: FakeMessage;
  readonly text?: string;
  readonly entities?: readonly MessageEntity[];
  readonly forum_topic_created?: { readonly name: string; readonly icon_color: number };
  readonly [extra: string]: unknown;
}

/** Current Unix time in seconds, as Telegram's `date` fields. */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** The chat type Telegram would report for `chatId` when the caller did not say. */
export function defaultChatType(chatId: number): 'private' | 'group' | 'supergroup' {
  if (chatId > 0) return 'private';
  return String(chatId).startsWith('-100') ? 'supergroup' : 'group';
}

/** The sender described by `options` (first name defaults to `User <userId>`). */
export function buildUser(options: SendTextOptions): FakeUser {
  return {
    id: options.userId,
    is_bot: false,
    first_name: options.firstName ?? `User ${options.userId}`,
    ...(options.lastName !== undefined && { last_name: options.lastName }),
    ...(options.username !== undefined && { username: options.username }),
    ...(options.languageCode !== undefined && { language_code: options.languageCode }),
  };
}

/** The chat described by `options`; private chats carry the sender's names, groups a title,
 * supergroups with a topic `is_forum: true`. */
export function buildChat(options: SendTextOptions, user: FakeUser): FakeChat {
  const type = options.chatType ?? defaultChatType(options.chatId);
  if (type === 'private') {
    return {
      id: options.chatId,
      type,
      first_name: user.first_name,
      ...(user.last_name !== undefined && { last_name: user.last_name }),
      ...(user.username !== undefined && { username: user.username }),
    };
  }
  return {
    id: options.chatId,
    type,
    title: options.chatTitle ?? `Group ${options.chatId}`,
    ...(type === 'supergroup' && options.topicId !== undefined && { is_forum: true as const }),
  };
}

const COMMAND = /(?<![\w/@])\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])/g;
const MENTION = /(?<![\w/@])@[A-Za-z0-9_]{3,32}(?![\w@])/g;

/** The entities Telegram attaches to a plain text: `bot_command` for '/cmd' or '/cmd@bot' and
 * `mention` for '@username' (offsets in UTF-16 code units), sorted by offset. */
export function detectEntities(text: string): MessageEntity[] {
  const found: MessageEntity[] = [];
  for (const match of text.matchAll(COMMAND)) {
    found.push({ type: 'bot_command', offset: match.index, length: match[0].length });
  }
  for (const match of text.matchAll(MENTION)) {
    found.push({ type: 'mention', offset: match.index, length: match[0].length });
  }
  return found.sort((a, b) => a.offset - b.offset);
}

/** The service message Telegram shows as the parent of every message in forum topic
 * `topicId` (its `message_id` equals the topic id). */
export function topicCreatedMessage(chat: FakeChat, creator: FakeUser, topicId: number, date: number): FakeMessage {
  return {
    message_id: topicId,
    from: creator,
    chat,
    date,
    message_thread_id: topicId,
    is_topic_message: true,
    forum_topic_created: { name: `Topic ${topicId}`, icon_color: 7322096 },
  };
}

/** Drops the nested reply of a message: Telegram nests `reply_to_message` one level only. */
export function withoutReply(message: FakeMessage): FakeMessage {
  if (message.reply_to_message === undefined) return message;
  const { reply_to_message: _dropped, ...rest } = message;
  return rest as FakeMessage;
}

/** Inputs of `buildTextMessage` that the bot's state decides. */
export interface TextMessageParts {
  readonly messageId: number;
  readonly user: FakeUser;
  readonly chat: FakeChat;
  /** The replied-to message, already looked up (or the topic's service message). */
  readonly replyTo: FakeMessage | undefined;
}

/** A user's text message as Telegram delivers it: topic fields for topics; in non-forum
 * supergroups a reply carries the reply thread's `message_thread_id` without `is_topic_message`. */
export function buildTextMessage(options: SendTextOptions, parts: TextMessageParts): FakeMessage {
  const entities = options.entities ?? detectEntities(options.text);
  let threadId: number | undefined;
  if (options.topicId !== undefined) threadId = options.topicId;
  else if (parts.chat.type === 'supergroup' && parts.replyTo !== undefined) {
    threadId = parts.replyTo.message_thread_id ?? parts.replyTo.message_id;
  }
  return {
    message_id: parts.messageId,
    from: parts.user,
    chat: parts.chat,
    date: options.date ?? unixNow(),
    ...(threadId !== undefined && { message_thread_id: threadId }),
    ...(options.topicId !== undefined && { is_topic_message: true as const }),
    ...(parts.replyTo !== undefined && { reply_to_message: withoutReply(parts.replyTo) }),
    text: options.text,
    ...(entities.length > 0 && { entities: [...entities] }),
  };
}

/** The update type of an update object: its one key other than `update_id`. */
export function updateType(update: object): string | undefined {
  return Object.keys(update).find((key) => key !== 'update_id');
}

/** Update types Telegram leaves out when `allowed_updates` is unset or empty. */
export const OPT_IN_UPDATE_TYPES: ReadonlySet<string> = new Set([
  'chat_member',
  'message_reaction',
  'message_reaction_count',
]);
