/**
 * Who a message is from, whether it is meant for the bot, who may talk to the bot, and what
 * text the model sees. Pure functions over Bot API objects.
 */
import type { Message, User, UserFromGetMe } from 'grammy/types';
import type { AccessConfig, GroupsConfig } from '../config/types.js';
import type { ConversationKey } from '../memory/keys.js';

/** True for group and supergroup chats. */
export function isGroupChat(message: Message): boolean {
  return message.chat.type === 'group' || message.chat.type === 'supergroup';
}

/** The forum topic a message belongs to, only when it is a topic message (in non-forum
 * supergroups `message_thread_id` names a reply thread, which is not a conversation). */
export function topicOf(message: Message): number | undefined {
  return message.is_topic_message ? message.message_thread_id : undefined;
}

/** The conversation `message` belongs to, keyed as memory and ordering both use it. */
export function conversationOf(botId: string, message: Message, memory: GroupsConfig['memory']): ConversationKey {
  const topicId = topicOf(message);
  const perUser = memory === 'user' && isGroupChat(message) && message.from !== undefined;
  return {
    botId,
    chatId: message.chat.id,
    ...(topicId === undefined ? {} : { topicId }),
    ...(perUser && message.from ? { userId: message.from.id } : {}),
  };
}

/** Whether `from` may talk to the bot in `chatId`: sender listed in `users`, or chat listed
 * in `chats`; everyone when both lists are null. */
export function isAllowed(access: AccessConfig, userId: number | undefined, chatId: number): boolean {
  if (access.users === null && access.chats === null) return true;
  if (userId !== undefined && access.users?.includes(userId)) return true;
  return access.chats?.includes(chatId) ?? false;
}

/** Whether a group message is meant for the bot: it @mentions the bot, replies to one of
 * its messages, or is a command (grammY routes `/cmd@OtherBot` away before this). */
export function isAddressedToBot(message: Message, me: UserFromGetMe): boolean {
  if (message.reply_to_message?.from?.id === me.id) return true;
  const text = message.text ?? message.caption ?? '';
  const entities = message.entities ?? message.caption_entities ?? [];
  const handle = `@${me.username}`.toLowerCase();
  return entities.some((entity) => {
    if (entity.type === 'bot_command') return entity.offset === 0;
    if (entity.type === 'text_mention') return entity.user.id === me.id;
    return (
      entity.type === 'mention' && text.slice(entity.offset, entity.offset + entity.length).toLowerCase() === handle
    );
  });
}

/** Whether the bot should answer a message in this chat under `groups.reply`. */
export function shouldAnswer(message: Message, me: UserFromGetMe, reply: GroupsConfig['reply']): boolean {
  if (!isGroupChat(message)) return true;
  if (reply === 'never') return false;
  return reply === 'always' || isAddressedToBot(message, me);
}

/** What the model reads for a user's text. In a private chat: the text exactly as written. In
 * a group: the sender's name first (`Ana: …`, so a shared history knows who spoke) and the
 * bot's own @mention (not inside a word such as `mail@bot`) removed with the `,`/`:` and spaces right after it (and the spaces before
 * it when it ends a line); nothing else changes: newlines and indentation are kept. A text
 * that is only the mention stays as written. */
export function textForModel(message: Message, text: string, me: UserFromGetMe): string {
  if (!isGroupChat(message) || !message.from) return text;
  const mention = new RegExp(
    `([ \\t]*)(?<![A-Za-z0-9_])@${escapeRegExp(me.username)}(?![A-Za-z0-9_])[,:]?[ \\t]*(\\n?)`,
    'gi',
  );
  const clean = text.replace(mention, (match, before: string, newline: string, offset: number) => {
    const endsLine = newline !== '' || offset + match.length === text.length;
    return offset === 0 || endsLine ? newline : before;
  });
  const body = clean.trim() === '' ? text : clean;
  return `${displayName(message.from)}:${body.startsWith('\n') ? '' : ' '}${body}`;
}

/** What the model reads for a message it answers: its text (see textForModel), or for media
 * with a caption, the caption (the same way) followed by one line saying what was attached and
 * that the model cannot see it, e.g. `[The user attached a photo, which you cannot see.]`, so it
 * does not pretend to have seen it. */
export function modelInputOf(message: Message, me: UserFromGetMe): string {
  if (message.text !== undefined) return textForModel(message, message.text, me);
  const text = textForModel(message, message.caption ?? '', me);
  const attached = attachmentOf(message);
  return attached === undefined ? text : `${text}\n[The user attached ${attached}, which you cannot see.]`;
}

/** A message's attachment the bot answers from its caption, as the model reads it (`a photo`,
 * `a file (report.pdf)` …); undefined for every other message. An animation also carries a
 * `document`: it is checked first. */
export function attachmentOf(message: Message): string | undefined {
  if (message.photo !== undefined) return 'a photo';
  if (message.animation !== undefined) return 'an animation';
  if (message.video !== undefined) return 'a video';
  if (message.audio !== undefined) return 'an audio file';
  if (message.voice !== undefined) return 'a voice message';
  if (message.document === undefined) return undefined;
  const name = message.document.file_name?.replace(/\s+/g, ' ').trim();
  return name ? `a file (${name})` : 'a file';
}

/** A user's name as people see it: first (and last) name, else @username, else the id. */
export function displayName(user: User): string {
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ').trim();
  return name || (user.username ? `@${user.username}` : `user ${user.id}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
