/**
 * The answer to a text message: history window → model → split reply → the turn stored.
 */
import type { Context } from 'grammy';
import type { Message } from 'grammy/types';
import { DEFAULT_TYPING_INTERVAL_MS } from '../defaults.js';
import { ModelError } from '../llm/model-error.js';
import type { Logger } from '../logger.js';
import type { ConversationKey } from '../memory/keys.js';
import { isGroupChat, textForModel } from './addressing.js';
import { keepTyping, send } from './delivery.js';
import type { HandlerDeps, StoredTurn } from './ports.js';
import { splitMessage } from './split-message.js';
import { errorText } from './telegram-errors.js';

/** The answer to a text message: the heart of the bot. Stores the turn only when the whole
 * reply was delivered; a failure stores nothing and tells the user, and so does a turn that
 * could not be stored after the reply was sent. */
export async function answer(
  ctx: Context,
  message: Message,
  turns: readonly StoredTurn[],
  ref: ConversationKey,
  deps: HandlerDeps,
  log: Logger,
): Promise<void> {
  const config = deps.config();
  const stopTyping = keepTyping(ctx, message, deps.typingIntervalMs ?? DEFAULT_TYPING_INTERVAL_MS, log);
  try {
    const userText = textForModel(message, message.text ?? '', ctx.me);
    const userAt = Date.now();
    const reply = await askModel(ctx, turns, userText, deps, log);
    if (reply === undefined) return;
    stopTyping();
    for (const [index, part] of splitMessage(reply).entries()) {
      if (!(await send(ctx, part, log, index === 0 && isGroupChat(message)))) return;
    }
    log.debug({ text: reply }, 'replied');
    const turn = { user: userText, assistant: reply, userAt, assistantAt: Date.now(), updateId: ctx.update.update_id };
    try {
      await deps.memory.append(ref, turn, { keepTurns: config.window.maxTurns });
      log.debug({}, 'turn stored');
    } catch (error) {
      log.error(
        { err: errorText(error) },
        'the reply was sent but the turn could not be stored: storage failed; the user was told',
      );
      await send(ctx, config.replies.storeFailed, log);
    }
  } finally {
    stopTyping();
  }
}

/** The model's reply to `userText` after `turns`, or undefined when there is none (the user
 * got the apology, or shutdown aborted the request). */
async function askModel(
  ctx: Context,
  turns: readonly StoredTurn[],
  userText: string,
  deps: HandlerDeps,
  log: Logger,
): Promise<string | undefined> {
  const config = deps.config();
  const messages = deps.buildWindow({ systemPrompt: config.systemPrompt, turns, userText, window: config.window });
  log.debug({ text: userText, messages: messages.length }, 'asking the model');
  try {
    const completion = await deps.llmFor(config).complete({
      model: config.model,
      messages,
      temperature: config.temperature,
      maxReplyTokens: config.maxReplyTokens,
      signal: deps.signal,
    });
    return completion.text;
  } catch (error) {
    if (error instanceof ModelError && error.reason === 'aborted') {
      log.warn({}, 'model request aborted by shutdown; nothing stored');
      return undefined;
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
    return undefined;
  }
}
