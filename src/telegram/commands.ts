/**
 * The bot's commands and what kind of message a user sent: one of our commands, text, media
 * (answered with an apology until media support exists), or a service message (nothing).
 */
import type { Message, UserFromGetMe } from 'grammy/types';

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
 * `for-another-bot` (`/cmd@OtherBot`), `text`, `media` a user sent, or `service` (a member
 * joined, a pin, a topic event, a group upgrade …: anything that is neither). */
export type MessageKind =
  | (typeof BOT_COMMANDS)[number]['command']
  | 'unknown'
  | 'for-another-bot'
  | 'text'
  | 'media'
  | 'service';

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
