/**
 * The running summary (window.summary): after a reply was delivered and stored, the oldest
 * turns past `maxTurns` are folded, with the summary so far, into a new summary by one model
 * call, and stored in one write that drops exactly the turns it covers (the store's
 * `storeSummary`). Never on the user's time: the answer starts it and does not wait; the next
 * message reads whatever is stored then.
 *
 * At most one summary runs per conversation in this process (single flight, per store): a turn
 * stored while one runs is picked up by it, since it reads the conversation again after each
 * summary it stored. A failed, timed-out or empty call, or a store failure, changes nothing
 * (logged at warn); the waiting turns stay stored and the next turn tries again.
 */
import type { BotConfig, SummaryConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { CompletionRequest, LlmClient, ModelMessage } from '../llm/llm-client.js';
import { ModelError } from '../llm/model-error.js';
import type { Logger } from '../logger.js';
import type { SummaryUpdate } from '../memory/conversation-store.js';
import { type ConversationKey, conversationId } from '../memory/keys.js';
import type { StoredSummary, Turn } from '../memory/value-format.js';
import type { BotMetrics, SummaryOutcome } from './metrics.js';
import {
  countTextTokens,
  MESSAGE_OVERHEAD_TOKENS,
  REQUEST_OVERHEAD_TOKENS,
  truncateToTokens,
} from './prompt-window.js';

/** The memory a summary reads and writes. Throws on a storage failure. */
export interface SummaryStore {
  read(conversation: ConversationKey): Promise<{ readonly turns: readonly Turn[]; readonly summary?: StoredSummary }>;
  /** Stores the summary and drops the turns it covers in one write; false when the
   * conversation changed meanwhile (nothing written). */
  storeSummary(conversation: ConversationKey, update: SummaryUpdate): Promise<boolean>;
}

/** What a summary needs. */
export interface SummaryDeps {
  /** The bot's config; its `window.summary` is on. */
  readonly config: BotConfig & { readonly window: { readonly summary: SummaryConfig } };
  readonly store: SummaryStore;
  /** The client of `config.window.summary.provider`. */
  readonly llm: LlmClient;
  readonly log: Logger;
  readonly metrics?: BotMetrics;
  /** Aborts the summary request (shutdown). */
  readonly signal?: AbortSignal;
}

/** Opens the summary request's user message; the fake model recognises it by this. */
export const SUMMARY_INPUT_HEADING = 'Summary so far:';
/** Introduces the turns to fold in. */
export const SUMMARY_TURNS_HEADING = 'Conversation to fold in (oldest first):';

/** Conversations summarising right now, per store (single flight), keyed by the store's
 * `storeSummary` function: a wrapper of the store (e.g. one that also marks joined updates
 * answered) spreads the same function. */
const running = new WeakMap<SummaryStore['storeSummary'], Set<string>>();

/** Summarises `conversation` if turns wait past the window and no summary of it is running
 * here; resolves when done. Never rejects: every failure is logged and changes nothing. */
export async function summarizeConversation(conversation: ConversationKey, deps: SummaryDeps): Promise<void> {
  const id = conversationId(conversation);
  const mine = running.get(deps.store.storeSummary) ?? new Set<string>();
  running.set(deps.store.storeSummary, mine);
  if (mine.has(id)) return;
  mine.add(id);
  try {
    // Each round folds what fits in one request; a round that stored nothing ends the loop.
    while (await summarizeOnce(conversation, deps));
  } finally {
    mine.delete(id);
  }
}

/** One summary call; true when a summary was stored (more turns may wait). */
async function summarizeOnce(conversation: ConversationKey, deps: SummaryDeps): Promise<boolean> {
  const { config, log } = deps;
  const summary = config.window.summary;
  let state: Awaited<ReturnType<SummaryStore['read']>>;
  try {
    state = await deps.store.read(conversation);
  } catch (error) {
    log.warn(
      { err: errorMessage(error) },
      'could not read the conversation to summarise it; retried after the next turn',
    );
    return false;
  }
  const waiting = state.turns.length - config.window.maxTurns;
  if (waiting <= 0) return false;
  const { messages, covered } = summaryRequest(state.summary?.text, state.turns.slice(0, waiting), config);
  const request: CompletionRequest = {
    model: summary.model,
    messages,
    temperature: null,
    maxReplyTokens: summary.maxTokens,
    ...(deps.signal ? { signal: deps.signal } : {}),
  };
  const promptTokens = messages.reduce(
    (sum, message) => sum + countTextTokens(message.content) + MESSAGE_OVERHEAD_TOKENS,
    REQUEST_OVERHEAD_TOKENS,
  );
  const done = (outcome: SummaryOutcome, tokens: { prompt?: number; completion?: number } = {}): void =>
    deps.metrics?.summaryCall({
      bot: config.id,
      provider: summary.provider.name,
      model: summary.model,
      outcome,
      promptTokens: tokens.prompt ?? 0,
      completionTokens: tokens.completion ?? 0,
    });
  let text: string;
  let tokens: { prompt: number; completion: number };
  try {
    const completion = await deps.llm.complete(request);
    text = completion.text.trim();
    tokens = {
      prompt: completion.promptTokens ?? promptTokens,
      completion: completion.replyTokens ?? countTextTokens(completion.text),
    };
  } catch (error) {
    const outcome = error instanceof ModelError ? error.reason : 'error';
    done(outcome);
    log.warn(
      { provider: summary.provider.name, model: summary.model, reason: outcome, err: errorMessage(error) },
      'summary request failed; the turns past the window stay stored and are summarised after the next turn',
    );
    return false;
  }
  if (text === '') {
    done('empty', tokens);
    log.warn({ model: summary.model }, 'the summary model wrote nothing; nothing changed, retried after the next turn');
    return false;
  }
  const update: SummaryUpdate = { text, covered, basedOn: state.summary, at: Date.now() };
  try {
    const stored = await deps.store.storeSummary(conversation, update);
    done(stored ? 'ok' : 'stale', tokens);
    if (stored) log.debug({ covered: covered.length }, 'summary stored');
    return stored;
  } catch (error) {
    done('storage', tokens);
    log.warn(
      { err: errorMessage(error) },
      'could not store the summary: storage failed; nothing changed, retried after the next turn',
    );
    return false;
  }
}

/** The summary request: the prompt, then the summary so far and the oldest waiting turns that
 * fit in `window.maxTokens` with it (at least one, its texts truncated if it alone is over). */
export function summaryRequest(
  previous: string | undefined,
  waiting: readonly Turn[],
  config: SummaryDeps['config'],
): { readonly messages: readonly ModelMessage[]; readonly covered: readonly Turn[] } {
  const { prompt } = config.window.summary;
  const head = `${SUMMARY_INPUT_HEADING}\n${previous === undefined || previous === '' ? '(none yet)' : previous}\n\n${SUMMARY_TURNS_HEADING}`;
  const fixed = REQUEST_OVERHEAD_TOKENS + 2 * MESSAGE_OVERHEAD_TOKENS + countTextTokens(prompt) + countTextTokens(head);
  const budget = config.window.maxTokens;
  const lines: string[] = [];
  const covered: Turn[] = [];
  let used = fixed;
  for (const turn of waiting) {
    const line = turnText(turn);
    const cost = countTextTokens(line) + 1;
    if (used + cost > budget && covered.length > 0) break;
    lines.push(used + cost > budget ? truncateToTokens(line, Math.max(budget - used - 1, 64)) : line);
    covered.push(turn);
    used += cost;
  }
  return {
    messages: [
      { role: 'system', content: prompt },
      { role: 'user', content: `${head}\n${lines.join('\n')}` },
    ],
    covered,
  };
}

function turnText(turn: Turn): string {
  return `User: ${turn.user}\nAssistant: ${turn.assistant}`;
}
