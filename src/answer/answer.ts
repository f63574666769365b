/**
 * The answer to a text message, the heart of a bot, free of any transport: prompt window →
 * model (as a stream of text deltas) → a reply sink → the turn stored → (window.summary) the
 * turns past the window summarised in the background (summarize.ts). It stores the text the
 * model produced, never what a sink rendered of it.
 */
import type { BotConfig } from '../config/types.js';
import { UNSUMMARISED_TURNS_LIMIT } from '../defaults.js';
import { errorMessage } from '../errors.js';
import type { CompletionRequest, LlmClient } from '../llm/llm-client.js';
import { ModelError } from '../llm/model-error.js';
import type { Logger } from '../logger.js';
import type { AppendOptions } from '../memory/conversation-store.js';
import type { ConversationKey } from '../memory/keys.js';
import type { StoredSummary, Turn } from '../memory/value-format.js';
import { meterModelCall } from './metered-call.js';
import type { BotMetrics } from './metrics.js';
import { computeWindow } from './prompt-window.js';
import type { ReplySink } from './reply-sink.js';
import { type SummaryDeps, type SummaryStore, summarizeConversation } from './summarize.js';

/** The memory the answer writes to. Throws on a storage failure. */
export interface TurnStore extends Partial<SummaryStore> {
  /** Appends one complete turn, keeping the newest `options.maxTurns` (and, with a summary,
   * the turns waiting for it). */
  append(conversation: ConversationKey, turn: Turn, options: AppendOptions): Promise<void>;
}

/** What is answered: the user's text (as the model should read it) after the stored turns. */
export interface AnswerInput {
  readonly conversation: ConversationKey;
  /** The stored turns, oldest first. */
  readonly turns: readonly Turn[];
  /** The stored summary of older turns; sent when the bot's window.summary is on. */
  readonly summary?: StoredSummary | undefined;
  readonly userText: string;
  /** The Telegram update that carried the message, stored with the turn; none in a terminal. */
  readonly updateId?: number;
  /** `performance.now()` when the message arrived, for the added-latency metric. */
  readonly receivedAt?: number;
}

/** What the answer is given. */
export interface AnswerDeps {
  /** The bot's config as it is for this message. */
  readonly config: BotConfig;
  readonly memory: TurnStore;
  readonly llm: LlmClient;
  readonly sink: ReplySink;
  /** Aborts the model request (shutdown). */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Where the request and the reply are counted; none: nothing is measured. */
  readonly metrics?: BotMetrics;
  /** The model client of a provider (for window.summary's); none: `llm` when the summary uses
   * the bot's provider. */
  readonly llmFor?: (config: BotConfig) => LlmClient;
  /** Given the background summary, so shutdown (or the terminal chat's end) can wait for it. */
  readonly track?: (work: Promise<void>) => void;
}

/** The model's reply as it streams, and how the stream ended. */
interface Produced {
  /** The deltas, passed through while `text` collects them; ends early on a failure. */
  readonly deltas: AsyncIterable<string>;
  /** Everything the model produced so far. */
  readonly text: () => string;
  /** What the model request threw, once it did. */
  readonly failure: () => { readonly error: unknown } | undefined;
}

/** Answers `input` into `deps.sink`. Stores the turn only when the whole reply was delivered;
 * a model failure stores nothing and tells the user (`replies.modelError`), and so does a turn
 * that could not be stored after the reply was delivered (`replies.storeFailed`); a reply the
 * model failed to finish ends with `replies.cutOff` where the sink can show it. Never
 * rejects for a model or storage failure. */
export async function answer(input: AnswerInput, deps: AnswerDeps): Promise<void> {
  const { log, sink } = deps;
  const stopTyping = sink.startTyping();
  try {
    const userAt = Date.now();
    const { request, promptTokens } = requestFor(input, deps);
    const call = meterModelCall(request, promptTokens, deps.config, deps.metrics);
    const produced = produce(call.stream(deps.llm), stopTyping);
    const delivered = await sink.deliver(produced.deltas);
    const failure = produced.failure();
    call.finish({ failure, text: produced.text(), delivered, receivedAt: input.receivedAt });
    if (failure !== undefined) return await reportModelFailure(failure.error, deps);
    if (!delivered) return;
    log.debug({ text: produced.text() }, 'replied');
    const turn: Turn = {
      user: input.userText,
      assistant: produced.text(),
      userAt,
      assistantAt: Date.now(),
      ...(input.updateId === undefined ? {} : { updateId: input.updateId }),
    };
    if (await storeTurn(input.conversation, turn, deps)) startSummary(input.conversation, deps);
  } finally {
    stopTyping();
  }
}

/** The model request for `input` (the prompt window and the bot's model settings), and its
 * tokens as the window counted them. */
function requestFor(input: AnswerInput, deps: AnswerDeps): { request: CompletionRequest; promptTokens: number } {
  const { config, log } = deps;
  const { messages, tokens } = computeWindow({
    systemPrompt: config.systemPrompt,
    turns: input.turns,
    userText: input.userText,
    window: windowFor(config, input.turns.length),
    ...(config.window.summary !== null && input.summary !== undefined ? { summary: input.summary.text } : {}),
  });
  log.debug({ text: input.userText, messages: messages.length }, 'asking the model');
  const request = {
    model: config.model,
    messages,
    temperature: config.temperature,
    maxReplyTokens: config.maxReplyTokens,
    signal: deps.signal,
  };
  return { request, promptTokens: tokens };
}

/** The window limits for `storedTurns` turns. With window.summary on, every stored turn is one
 * the summary does not cover yet (storing a summary drops the turns it covers), so all of them
 * are candidates, still bounded by maxTokens: a turn that just left `maxTurns` is never in
 * neither the summary nor the request while its summary is being written (or keeps failing). */
function windowFor(config: BotConfig, storedTurns: number): { maxTurns: number; maxTokens: number } {
  const { maxTurns, maxTokens, summary } = config.window;
  return { maxTurns: summary === null ? maxTurns : Math.max(maxTurns, storedTurns), maxTokens };
}

/** Wraps the model's stream: collects the text, calls `onFirst` before the first delta is
 * passed on, and ends the stream (instead of throwing into the sink) when the model fails. */
function produce(stream: AsyncIterable<string>, onFirst: () => void): Produced {
  let text = '';
  let failure: { error: unknown } | undefined;
  async function* deltas(): AsyncGenerator<string> {
    try {
      for await (const delta of stream) {
        if (text === '') onFirst();
        text += delta;
        yield delta;
      }
    } catch (error) {
      // Converted: the answer reports it once the sink is done (see reportModelFailure).
      failure = { error };
    }
  }
  return { deltas: deltas(), text: () => text, failure: () => failure };
}

/** A failed model request: logged (a non-ModelError as the bug it is, with its stack). A reply
 * shown in part ends with `replies.cutOff`; otherwise the user gets the apology, unless
 * shutdown aborted the request. Nothing is stored either way. */
async function reportModelFailure(error: unknown, deps: AnswerDeps): Promise<void> {
  const { config, log } = deps;
  const cut = (await deps.sink.cutOff?.(config.replies.cutOff)) === true;
  const told = cut ? 'the reply shown so far ends with the cut-off note' : 'the user got the apology';
  if (error instanceof ModelError && error.reason === 'aborted') {
    log.warn(
      {},
      cut
        ? `model request aborted by shutdown; ${told}; nothing stored`
        : 'model request aborted by shutdown; nothing stored',
    );
    return;
  }
  if (error instanceof ModelError) {
    log.error(
      { provider: error.provider, reason: error.reason, status: error.status, model: config.model, err: error.message },
      `model request failed; ${told}, nothing stored`,
    );
  } else {
    // The client maps every failure of the call to a ModelError: anything else is our bug.
    const stack = error instanceof Error ? error.stack : undefined;
    log.error(
      { provider: config.provider.name, model: config.model, err: errorMessage(error), stack },
      `bug: the model client threw an unexpected error; ${told}, nothing stored`,
    );
  }
  if (!cut) await deps.sink.notify({ kind: 'modelError', text: config.replies.modelError, cause: errorMessage(error) });
}

/** Stores the delivered turn (true); a failure is logged and the user told (false). */
async function storeTurn(conversation: ConversationKey, turn: Turn, deps: AnswerDeps): Promise<boolean> {
  const { config, log } = deps;
  const waiting = config.window.summary === null ? {} : { unsummarisedLimit: UNSUMMARISED_TURNS_LIMIT };
  try {
    await deps.memory.append(conversation, turn, { maxTurns: config.window.maxTurns, ...waiting });
    log.debug({}, 'turn stored');
    return true;
  } catch (error) {
    deps.metrics?.error(config.id, 'storage');
    log.error(
      { err: errorMessage(error) },
      'the reply was sent but the turn could not be stored: storage failed; the user was told',
    );
    await deps.sink.notify({ kind: 'storeFailed', text: config.replies.storeFailed, cause: errorMessage(error) });
    return false;
  }
}

/** With window.summary on, summarises the turns past the window in the background (not
 * awaited: the next message does not wait for it). */
function startSummary(conversation: ConversationKey, deps: AnswerDeps): void {
  const { config, memory, log } = deps;
  const summary = config.window.summary;
  if (summary === null) return;
  if (memory.read === undefined || memory.storeSummary === undefined) {
    log.debug({}, 'this memory cannot store summaries; not summarised');
    return;
  }
  const llm = deps.llmFor?.({ ...config, provider: summary.provider }) ?? deps.llm;
  if (llm.provider !== summary.provider.name) {
    log.warn({ provider: summary.provider.name }, 'no model client for the summary provider; not summarised');
    return;
  }
  const summaryDeps: SummaryDeps = {
    config: { ...config, window: { ...config.window, summary } },
    // The memory itself (checked above); the single flight is per store (its storeSummary).
    store: memory as SummaryStore,
    llm,
    log,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    signal: deps.signal,
  };
  const work = summarizeConversation(conversation, summaryDeps);
  deps.track?.(work);
}
