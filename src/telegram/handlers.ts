/**
 * What a bot does with each message: ordering per conversation, group and access rules,
 * commands, and the answer itself (typing… → history window → model → split reply → the
 * turn stored). Depends on narrow memory and model interfaces, not on Keyv or the SDK.
 */
import { type Bot, type Context, GrammyError } from 'grammy';
import type { Message, UserFromGetMe } from 'grammy/types';
import type { BotConfig, WindowConfig } from '../config/types.js';
import type { ChatMessage, LlmClient } from '../llm/llm-client.js';
import { ModelError } from '../llm/llm-client.js';
import type { Logger } from '../logger.js';
import type { ConversationKey } from '../memory/keys.js';
import { conversationOf, isAllowed, isGroupChat, shouldAnswer, textForModel, topicOf } from './addressing.js';
import { conversationOrder } from './conversation-order.js';
import { splitMessage } from './split-message.js';

/** One stored exchange, as the handlers need it. */
export interface StoredTurn {
  readonly user: string;
  readonly assistant: string;
  readonly updateId?: number;
}

/** The memory operations a bot uses. Every method throws on a storage failure. */
export interface MemoryPort {
  load(ref: ConversationKey): Promise<readonly StoredTurn[]>;
  append(
    ref: ConversationKey,
    turn: StoredTurn & { userAt: number; assistantAt: number },
    options: { keepTurns: number },
  ): Promise<void>;
  reset(ref: ConversationKey): Promise<void>;
}

/** Builds one model request: the system prompt, the turns that fit the window, the message. */
export type BuildWindow = (input: {
  systemPrompt: string;
  turns: readonly StoredTurn[];
  userText: string;
  window: WindowConfig;
}) => readonly ChatMessage[];

/** What the handlers are given. `config` is read per message, so a live reload applies to the
 * next message; `signal` aborts in-flight model calls at the shutdown deadline. */
export interface HandlerDeps {
  readonly config: () => BotConfig;
  readonly memory: MemoryPort;
  readonly buildWindow: BuildWindow;
  readonly llmFor: (config: BotConfig) => LlmClient;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** How often "typing…" is re-sent while the model works, in ms. Default 4000. */
  readonly typingIntervalMs?: number;
  /** Given work that outlives its update's runner slot (messages waiting for their
   * conversation's turn, and their answers); never rejects. Shutdown waits for it. */
  readonly track?: (work: Promise<void>) => void;
}

/** The command menu set with setMyCommands, also the /help text. */
export const BOT_COMMANDS = [
  { command: 'start', description: 'Say hello' },
  { command: 'help', description: 'List the commands' },
  { command: 'reset', description: 'Forget this conversation and start a new one' },
  { command: 'new', description: 'Same as /reset' },
] as const;

const HELP_TEXT = [
  'Send me a message and I will answer.',
  '',
  ...BOT_COMMANDS.map((c) => `/${c.command}: ${c.description}`),
].join('\n');

/** Installs ordering (see conversation-queue.ts) and message handling on `bot`. */
export function installHandlers(bot: Bot, deps: HandlerDeps): void {
  bot.use(conversationOrder(bot, deps, (ctx, text, log) => send(ctx, text, log, true)));
  bot.on('message', (ctx) => handleMessage(ctx, ctx.message, deps));
}

async function handleMessage(ctx: Context, message: Message, deps: HandlerDeps): Promise<void> {
  const config = deps.config();
  const log = deps.logger.child({ chat: message.chat.id, update: ctx.update.update_id });
  if (message.from?.is_bot || !shouldAnswer(message, ctx.me, config.groups.reply)) return;
  const command = commandOf(message, ctx.me);
  if (command === 'for-another-bot') return;
  const userId = message.from?.id;
  if (!isAllowed(config.access, userId, message.chat.id)) {
    log.info({ user: userId }, 'message from a user outside access; refused');
    await send(ctx, config.replies.notAllowed.replaceAll('{userId}', String(userId ?? 'unknown')), log);
    return;
  }
  const ref = conversationOf(config.id, message, config.groups.memory);
  switch (command) {
    case 'start':
      await send(ctx, config.greeting, log);
      return;
    case 'help':
      await send(ctx, HELP_TEXT, log);
      return;
    case 'reset':
    case 'new':
      try {
        await deps.memory.reset(ref);
      } catch (error) {
        log.error({ err: errorText(error) }, 'could not reset the conversation: storage failed');
        await send(ctx, config.replies.storageError, log);
        return;
      }
      log.info({}, 'conversation reset');
      await send(ctx, config.replies.reset, log);
      return;
    case 'unknown':
      await send(ctx, `I don't know that command.\n\n${HELP_TEXT}`, log);
      return;
    default:
      if (message.text === undefined) await send(ctx, config.replies.nonText, log);
      else await answer(ctx, message, message.text, ref, deps, log);
  }
}

/** The answer to a text message: the heart of the bot. Stores the turn only when the whole
 * reply was delivered; a failure stores nothing and tells the user. */
async function answer(
  ctx: Context,
  message: Message,
  text: string,
  ref: ConversationKey,
  deps: HandlerDeps,
  log: Logger,
): Promise<void> {
  const config = deps.config();
  const updateId = ctx.update.update_id;
  const stopTyping = keepTyping(ctx, message, deps, log);
  try {
    let turns: readonly StoredTurn[];
    try {
      turns = await deps.memory.load(ref);
    } catch (error) {
      log.error(
        { err: errorText(error) },
        'could not load the conversation: storage failed; the user was asked to retry',
      );
      await send(ctx, config.replies.storageError, log);
      return;
    }
    if (turns.some((turn) => turn.updateId === updateId)) {
      log.info({}, 'update was already answered before a restart; skipped');
      return;
    }
    const userText = textForModel(message, text, ctx.me);
    const userAt = Date.now();
    const messages = deps.buildWindow({ systemPrompt: config.systemPrompt, turns, userText, window: config.window });
    log.debug({ text: userText, messages: messages.length }, 'asking the model');
    let reply: string;
    try {
      const completion = await deps.llmFor(config).complete({
        model: config.model,
        messages,
        temperature: config.temperature,
        maxReplyTokens: config.maxReplyTokens,
        signal: deps.signal,
      });
      reply = completion.text;
    } catch (error) {
      if (error instanceof ModelError && error.reason === 'aborted') {
        log.warn({}, 'model request aborted by shutdown; nothing stored');
        return;
      }
      const fields =
        error instanceof ModelError
          ? { provider: error.provider, reason: error.reason, status: error.status }
          : { provider: config.provider.name };
      log.error(
        { ...fields, model: config.model, err: errorText(error) },
        'model request failed; the user got the apology, nothing stored',
      );
      await send(ctx, config.replies.modelError, log);
      return;
    }
    stopTyping();
    for (const [index, part] of splitMessage(reply).entries()) {
      if (!(await send(ctx, part, log, index === 0 && isGroupChat(message)))) return;
    }
    log.debug({ text: reply }, 'replied');
    try {
      await deps.memory.append(
        ref,
        { user: userText, assistant: reply, userAt, assistantAt: Date.now(), updateId },
        { keepTurns: config.window.maxTurns },
      );
    } catch (error) {
      log.error({ err: errorText(error) }, 'the reply was sent but the turn could not be stored: storage failed');
    }
  } finally {
    stopTyping();
  }
}

/** Sends `text` in the message's chat and topic (as a reply when `asReply`). Returns false
 * when it could not be delivered; a user who blocked the bot is not an error. */
async function send(ctx: Context, text: string, log: Logger, asReply = false): Promise<boolean> {
  const message = ctx.message;
  const replyTo =
    asReply && message
      ? { reply_parameters: { message_id: message.message_id, allow_sending_without_reply: true } }
      : {};
  try {
    await ctx.reply(text, { ...replyTo, link_preview_options: { is_disabled: true } });
    return true;
  } catch (error) {
    if (error instanceof GrammyError && error.error_code === 403) {
      log.info({ status: 403 }, 'the user blocked the bot or left the chat; message not delivered');
    } else {
      log.error({ err: errorText(error) }, 'could not send a message');
    }
    return false;
  }
}

/** Shows "typing…" now and every few seconds until the returned function is called. */
function keepTyping(ctx: Context, message: Message, deps: HandlerDeps, log: Logger): () => void {
  const topicId = topicOf(message);
  const options = topicId === undefined ? {} : { message_thread_id: topicId };
  const ping = (): void => {
    ctx.api.sendChatAction(message.chat.id, 'typing', options).catch((error: unknown) => {
      // "typing…" is cosmetic: a failure must not fail the answer.
      log.debug({ err: errorText(error) }, 'sendChatAction failed');
    });
  };
  ping();
  const timer = setInterval(ping, deps.typingIntervalMs ?? 4000);
  return () => clearInterval(timer);
}

/** The command a message starts with, if any: one of ours, `unknown`, or `for-another-bot`
 * (`/cmd@OtherBot` in a group). */
function commandOf(
  message: Message,
  me: UserFromGetMe,
): (typeof BOT_COMMANDS)[number]['command'] | 'unknown' | 'for-another-bot' | undefined {
  const entity = message.entities?.find((e) => e.type === 'bot_command' && e.offset === 0);
  if (entity === undefined || message.text === undefined) return undefined;
  const [name = '', target] = message.text.slice(1, entity.length).split('@');
  if (target !== undefined && target.toLowerCase() !== me.username.toLowerCase()) return 'for-another-bot';
  const known = BOT_COMMANDS.find((c) => c.command === name.toLowerCase());
  return known?.command ?? 'unknown';
}

/** A short, secret-free description of an error for logs (grammY errors never hold the token). */
export function errorText(error: unknown): string {
  if (error instanceof GrammyError) return `${error.error_code} ${error.description}`;
  return error instanceof Error ? error.message : String(error);
}
