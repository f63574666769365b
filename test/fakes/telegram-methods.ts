/**
 * The fake's Bot API methods other than getUpdates (which holds requests and lives in
 * `telegram-api.ts`). Each handler validates like Telegram, changes the bot's state and
 * returns the `result` or the 4xx Telegram would send, with Telegram's wording.
 */
import type { MessageEntity } from 'grammy/types';
import type { BotState } from './telegram-bot-state.js';
import { applyParseMode } from './telegram-format.js';
import type { FakeChat, FakeMessage } from './telegram-updates.js';
import { defaultChatType, unixNow, withoutReply } from './telegram-updates.js';

/** What a handler decided: a result, or an error status with its description. */
export type MethodOutcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly status: number; readonly description: string };

/** What a handler gets. */
export interface MethodContext {
  readonly bot: BotState;
  readonly params: Readonly<Record<string, unknown>>;
  /** Seq, time and wall time of the recorded call. */
  readonly seq: number;
  readonly at: number;
  readonly wallAt: number;
}

type Handler = (ctx: MethodContext) => MethodOutcome;
type Failed = Extract<MethodOutcome, { ok: false }>;
type ParsedText = { readonly ok: true; readonly text: string; readonly entities: MessageEntity[] } | Failed;

/** Longest `text` Telegram accepts after entity parsing, in UTF-16 code units. */
export const MAX_TEXT_LENGTH = 4096;

const ok = (result: unknown): MethodOutcome => ({ ok: true, result });
const bad = (description: string, status = 400): Failed => ({ ok: false, status, description });
const TOO_LONG = bad('Bad Request: message is too long');
const BLOCKED = bad('Forbidden: bot was blocked by the user', 403);
const NOT_MODIFIED = bad(
  'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
);
const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

/** Reads `chat_id` as Telegram does: a number, or a string of digits; '@name' → not found. */
function chatIdOf(params: Readonly<Record<string, unknown>>): number | MethodOutcome {
  const raw = params.chat_id;
  if (raw === undefined || raw === '') return bad('Bad Request: chat_id is empty');
  const id = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  return Number.isSafeInteger(id) && id !== 0 ? id : bad('Bad Request: chat not found');
}

function intParam(params: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const value = params[name];
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
}

function chatFor(bot: BotState, chatId: number): FakeChat {
  const known = bot.chats.get(chatId);
  if (known !== undefined) return known;
  const type = defaultChatType(chatId);
  return type === 'private'
    ? { id: chatId, type, first_name: `User ${chatId}` }
    : { id: chatId, type, title: `Group ${chatId}` };
}

/** Parses and length-checks a text parameter; returns text + entities or the 400. */
function parseText(params: Readonly<Record<string, unknown>>, allowEmpty = false): ParsedText {
  const raw = params.text;
  if (raw === undefined && !allowEmpty) return bad('Bad Request: message text is empty');
  const formatted = applyParseMode(
    typeof raw === 'string' ? raw : String(raw ?? ''),
    params.parse_mode,
    params.entities,
  );
  if (!formatted.ok) return bad(formatted.description);
  if (!allowEmpty && formatted.text.trim().length === 0) return bad('Bad Request: message text is empty');
  if (formatted.text.length > MAX_TEXT_LENGTH) return TOO_LONG;
  return formatted;
}

function replyTarget(
  bot: BotState,
  chatId: number,
  params: Readonly<Record<string, unknown>>,
): { readonly target: FakeMessage | undefined } | Failed {
  const reply = params.reply_parameters as
    | { message_id?: number; chat_id?: number; allow_sending_without_reply?: boolean }
    | undefined;
  const messageId = reply?.message_id ?? intParam(params, 'reply_to_message_id');
  if (messageId === undefined) return { target: undefined };
  const replyChat = typeof reply?.chat_id === 'number' ? reply.chat_id : chatId;
  const target = bot.getMessage(replyChat, messageId);
  const allowMissing = reply?.allow_sending_without_reply ?? params.allow_sending_without_reply === true;
  if (target === undefined && !allowMissing) return bad('Bad Request: message to be replied not found');
  return { target };
}

const sendMessage: Handler = ({ bot, params, seq, at, wallAt }) => {
  const chatId = chatIdOf(params);
  if (typeof chatId !== 'number') return chatId;
  const text = parseText(params);
  if (!text.ok) return text;
  if (bot.blocked.has(chatId)) return BLOCKED;
  const reply = replyTarget(bot, chatId, params);
  if ('ok' in reply) return reply;
  const replyTo = reply.target;
  const chat = chatFor(bot, chatId);
  const threadId = intParam(params, 'message_thread_id');
  const isTopic = threadId !== undefined && (chat.is_forum === true || chat.type === 'private');
  const message: FakeMessage = {
    message_id: bot.nextMessageId(chatId),
    from: bot.me,
    chat,
    date: unixNow(),
    ...(threadId !== undefined && { message_thread_id: threadId }),
    ...(isTopic && { is_topic_message: true as const }),
    ...(replyTo !== undefined && { reply_to_message: withoutReply(replyTo) }),
    text: text.text,
    ...(text.entities.length > 0 && { entities: text.entities }),
    ...(params.reply_markup !== undefined && { reply_markup: params.reply_markup }),
    ...(params.link_preview_options !== undefined && { link_preview_options: params.link_preview_options }),
  };
  bot.putMessage(message);
  bot.recordSent({
    seq,
    token: bot.token,
    botId: bot.me.id,
    chatId,
    messageId: message.message_id,
    text: text.text,
    threadId,
    replyToMessageId:
      replyTo?.message_id ?? (params.reply_parameters as { message_id?: number } | undefined)?.message_id,
    params,
    at,
    wallAt,
  });
  return ok(message);
};

const editMessageText: Handler = ({ bot, params }) => {
  if (params.inline_message_id !== undefined) {
    const inline = parseText(params);
    return inline.ok ? ok(true) : inline;
  }
  const chatId = chatIdOf(params);
  if (typeof chatId !== 'number') return chatId;
  const messageId = intParam(params, 'message_id');
  if (messageId === undefined) return bad('Bad Request: message identifier is not specified');
  const text = parseText(params);
  if (!text.ok) return text;
  const current = bot.getMessage(chatId, messageId);
  if (current === undefined) return bad('Bad Request: message to edit not found');
  if (current.from?.id !== bot.me.id) return bad("Bad Request: message can't be edited");
  const sameEntities = JSON.stringify(current.entities ?? []) === JSON.stringify(text.entities);
  const sameMarkup = JSON.stringify(current.reply_markup) === JSON.stringify(params.reply_markup);
  if (current.text === text.text && sameEntities && sameMarkup) return NOT_MODIFIED;
  const { entities: _old, ...rest } = current;
  const edited: FakeMessage = {
    ...rest,
    edit_date: unixNow(),
    text: text.text,
    ...(text.entities.length > 0 && { entities: text.entities }),
    ...(params.reply_markup !== undefined && { reply_markup: params.reply_markup }),
  };
  bot.putMessage(edited);
  return ok(edited);
};

const sendMessageDraft: Handler = ({ bot, params }) => {
  const chatId = chatIdOf(params);
  if (typeof chatId !== 'number') return chatId;
  if (chatId < 0) return bad('Bad Request: method is available only for private chats');
  const draftId = intParam(params, 'draft_id');
  if (draftId === undefined || draftId === 0) return bad('Bad Request: draft_id must be non-zero');
  const text = parseText(params, true);
  if (!text.ok) return text;
  return bot.blocked.has(chatId) ? BLOCKED : ok(true);
};

const sendChatAction: Handler = ({ bot, params }) => {
  const chatId = chatIdOf(params);
  if (typeof chatId !== 'number') return chatId;
  if (typeof params.action !== 'string' || !CHAT_ACTIONS.has(params.action))
    return bad('Bad Request: wrong parameter action in request');
  return bot.blocked.has(chatId) ? BLOCKED : ok(true);
};

const deleteMessage: Handler = ({ bot, params }) => {
  const chatId = chatIdOf(params);
  if (typeof chatId !== 'number') return chatId;
  const messageId = intParam(params, 'message_id');
  if (messageId === undefined || !bot.deleteMessage(chatId, messageId))
    return bad('Bad Request: message to delete not found');
  return ok(true);
};

const commandsKey = (params: Readonly<Record<string, unknown>>): string =>
  JSON.stringify([params.scope ?? { type: 'default' }, params.language_code ?? '']);

const setMyCommands: Handler = ({ bot, params }) => {
  const commands = params.commands;
  if (!Array.isArray(commands)) return bad('Bad Request: parameter "commands" is required');
  if (commands.length > 100) return bad('Bad Request: BOT_COMMANDS_TOO_MUCH');
  for (const entry of commands as Array<{ command?: unknown; description?: unknown }>) {
    if (typeof entry.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(entry.command))
      return bad('Bad Request: BOT_COMMAND_INVALID');
    const description = typeof entry.description === 'string' ? entry.description.trim() : '';
    if (description.length === 0 || description.length > 256)
      return bad('Bad Request: command description must be non-empty');
  }
  bot.commands.set(commandsKey(params), commands);
  return ok(true);
};

/** `allowed_updates` of a getUpdates or setWebhook call, when it sent a list. */
export function allowedUpdatesOf(params: Readonly<Record<string, unknown>>): readonly string[] | undefined {
  return Array.isArray(params.allowed_updates) ? (params.allowed_updates as string[]) : undefined;
}

/** Every supported method except getUpdates, keyed by lower-cased name (Telegram matches
 * method names case-insensitively). */
export const METHODS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  [
    'getme',
    ({ bot }) =>
      ok({
        ...bot.me,
        can_join_groups: true,
        can_read_all_group_messages: bot.canReadAllGroupMessages,
        supports_inline_queries: false,
        can_connect_to_business: false,
        has_main_web_app: false,
      }),
  ],
  ['logout', () => ok(true)],
  ['close', () => ok(true)],
  [
    'deletewebhook',
    ({ bot, params, at }) => {
      bot.webhookUrl = '';
      if (params.drop_pending_updates === true) bot.dropPending(at);
      return ok(true);
    },
  ],
  [
    'setwebhook',
    ({ bot, params }) => {
      if (typeof params.url !== 'string') return bad('Bad Request: bad webhook: URL must be provided for webhook');
      bot.webhookUrl = params.url;
      bot.allowedUpdates = allowedUpdatesOf(params) ?? bot.allowedUpdates;
      return ok(true);
    },
  ],
  [
    'getwebhookinfo',
    ({ bot }) =>
      ok({
        url: bot.webhookUrl,
        has_custom_certificate: false,
        pending_update_count: bot.pendingCount(),
        ...(bot.allowedUpdates !== undefined && { allowed_updates: bot.allowedUpdates }),
      }),
  ],
  ['setmycommands', setMyCommands],
  ['getmycommands', ({ bot, params }) => ok(bot.commands.get(commandsKey(params)) ?? [])],
  ['deletemycommands', ({ bot, params }) => ok(bot.commands.delete(commandsKey(params)) || true)],
  ['sendmessage', sendMessage],
  ['sendmessagedraft', sendMessageDraft],
  ['sendchataction', sendChatAction],
  ['editmessagetext', editMessageText],
  ['deletemessage', deleteMessage],
  [
    'answercallbackquery',
    ({ params }) =>
      params.callback_query_id === undefined
        ? bad('Bad Request: query is too old and response timeout expired or query ID is invalid')
        : ok(true),
  ],
  ['setmessagereaction', () => ok(true)],
  ['leavechat', () => ok(true)],
  [
    'getchat',
    ({ bot, params }) => {
      const chatId = chatIdOf(params);
      if (typeof chatId !== 'number') return chatId;
      const chat = bot.chats.get(chatId);
      return chat === undefined
        ? bad('Bad Request: chat not found')
        : ok({ ...chat, accent_color_id: 0, max_reaction_count: 11 });
    },
  ],
]);
