/**
 * The bot's commands and what kind of message a user sent: one of our commands, text, media
 * with a caption (answered from the caption), other media (answered with an apology until
 * media support exists), or a service message (nothing); and the fixed texts that answer
 * commands and media.
 */
import type { Message, UserFromGetMe } from 'grammy/types';
import type { BotConfig, GroupsConfig } from '../config/types.js';
import { attachmentOf, shouldAnswer } from './addressing.js';

/** The command menu set with setMyCommands, also the /help text. */
export const BOT_COMMANDS = [
  { command: 'start', description: 'Say hello' },
  { command: 'help', description: 'List the commands' },
  { command: 'reset', description: 'Forget this conversation and start a new one' },
  { command: 'new', description: 'Same as /reset' },
] as const;

/** The /help text. */
export const HELP_TEXT = [
  'Send me a message and I will answer.',
  '',
  ...BOT_COMMANDS.map((c) => `/${c.command}: ${c.description}`),
].join('\n');

/** What a message is, for the handlers: one of our commands, `unknown` command,
 * `for-another-bot` (`/cmd@OtherBot`), `text`, `caption` (a photo, video, animation, audio,
 * voice note or document with a caption: the model reads the caption, see addressing.ts'
 * modelInputOf; a caption is never a command), other `media` a user sent, or `service` (a
 * member joined, a pin, a topic event, a group upgrade …: anything that is neither). */
export type MessageKind =
  | (typeof BOT_COMMANDS)[number]['command']
  | 'unknown'
  | 'for-another-bot'
  | 'text'
  | 'caption'
  | 'media'
  | 'service';

/** A kind of message the bot answers (every kind but service messages and commands for
 * another bot). */
export type AnswerableKind = Exclude<MessageKind, 'service' | 'for-another-bot'>;

/** Fields that carry something a user sent that is not text. */
const USER_CONTENT = [
  'animation',
  'audio',
  'document',
  'paid_media',
  'photo',
  'sticker',
  'story',
  'video',
  'video_note',
  'voice',
  'contact',
  'dice',
  'game',
  'poll',
  'venue',
  'location',
  'checklist',
] as const;

/** The kind of `message` (see MessageKind). */
export function messageKind(message: Message, me: UserFromGetMe): MessageKind {
  if (message.text !== undefined) return commandOf(message, me) ?? 'text';
  if (message.caption !== undefined && attachmentOf(message) !== undefined) return 'caption';
  const fields = message as unknown as Record<string, unknown>;
  return USER_CONTENT.some((field) => fields[field] !== undefined) ? 'media' : 'service';
}

/** The command a text message starts with, if any. */
function commandOf(message: Message, me: UserFromGetMe): MessageKind | undefined {
  const entity = message.entities?.find((e) => e.type === 'bot_command' && e.offset === 0);
  if (entity === undefined || message.text === undefined) return undefined;
  const [name = '', target] = message.text.slice(1, entity.length).split('@');
  if (target !== undefined && target.toLowerCase() !== me.username.toLowerCase()) return 'for-another-bot';
  const known = BOT_COMMANDS.find((c) => c.command === name.toLowerCase());
  return known?.command ?? 'unknown';
}

/** The kind of a message the bot answers in some way, or undefined for one it ignores: from a
 * bot, a group message not meant for it under `groups.reply`, a service message, or a command
 * for another bot (those last two are also passed to `onIgnoredKind`). The one rule both the
 * ordering and the handlers apply. */
export function kindToAnswer(
  message: Message,
  me: UserFromGetMe,
  reply: GroupsConfig['reply'],
  onIgnoredKind: (kind: MessageKind) => void = () => undefined,
): AnswerableKind | undefined {
  if (message.from?.is_bot || !shouldAnswer(message, me, reply)) return undefined;
  const kind = messageKind(message, me);
  if (kind !== 'service' && kind !== 'for-another-bot') return kind;
  onIgnoredKind(kind);
  return undefined;
}

/** Whether `message` is one the model answers (text that is not a command, or a caption),
 * under `config`'s rules: those are the messages `queue: collect` joins. */
export function isForTheModel(message: Message | undefined, me: UserFromGetMe, config: BotConfig): boolean {
  if (message === undefined) return false;
  const kind = kindToAnswer(message, me, config.groups.reply);
  return kind === 'text' || kind === 'caption';
}

/** The text answering a command or a non-text message. */
export function fixedReply(kind: 'start' | 'help' | 'unknown' | 'media', config: BotConfig): string {
  switch (kind) {
    case 'start':
      return config.greeting;
    case 'help':
      return HELP_TEXT;
    case 'unknown':
      return `I don't know that command.\n\n${HELP_TEXT}`;
    case 'media':
      return config.replies.nonText;
  }
}
