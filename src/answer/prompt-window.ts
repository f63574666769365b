/**
 * The prompt window: what the model is sent for one message, i.e. which stored turns go into
 * one model request. Pure and synchronous.
 *
 * A request is [system prompt, the summary of older turns (when there is one), the kept turns
 * oldest first, the new user message]. The kept turns are the newest ones that fit both `maxTurns` and `maxTokens`, where `maxTokens` bounds
 * the whole request, counted with a real tokenizer (gpt-tokenizer, o200k_base: GPT-4o's
 * encoding; other models tokenize differently, so leave a margin) plus OpenAI's per-message
 * overhead. Turns are kept whole and contiguous: the first one (from the newest) that does not
 * fit ends the window. When the system prompt and the new message alone are over the budget,
 * the new message is truncated (its beginning kept, the cut marked) to what is left, but to no
 * less than half the budget; if still over, the system prompt is truncated the same way.
 *
 * Counting is lazy (token-count.ts): when the whole candidate window (the newest `maxTurns`
 * turns, the system prompt, the summary and the new message) fits `maxTokens` counted in UTF-8 bytes, an
 * upper bound on tokens, it is sent as is without loading the tokenizer; the exact count
 * would keep the very same turns. Only a window whose bytes do not fit is counted exactly.
 */
import type { WindowConfig } from '../config/types.js';
import type { ModelMessage } from '../llm/llm-client.js';
import type { Turn } from '../memory/value-format.js';
import { countTokens, decodeTokens, encodeText, tokenUpperBound } from './token-count.js';

/** What one model request is built from. */
export interface WindowInput {
  readonly systemPrompt: string;
  /** Stored turns, oldest first. */
  readonly turns: readonly Pick<Turn, 'user' | 'assistant'>[];
  /** The new user message, as the model should see it. */
  readonly userText: string;
  readonly window: Pick<WindowConfig, 'maxTurns' | 'maxTokens'>;
  /** The running summary of the turns that left the window (window.summary), if any: sent as a
   * second system message (SUMMARY_HEADING + it) right after the system prompt, counted like the
   * rest and truncated (after the system prompt) when it does not fit. */
  readonly summary?: string;
}

/** A built request and how it was cut. */
export interface WindowResult {
  readonly messages: readonly ModelMessage[];
  /** Tokens of the whole request as counted here (messages + overheads), <= window.maxTokens:
   * exact when `tokensExact`, else an upper bound (UTF-8 bytes). */
  readonly tokens: number;
  /** Whether `tokens` was counted with the tokenizer (false: the byte bound sufficed). */
  readonly tokensExact: boolean;
  /** How many of the newest stored turns are in `messages`. */
  readonly keptTurns: number;
  /** Which messages were truncated to fit. */
  readonly truncated: { readonly systemPrompt: boolean; readonly userText: boolean };
}

/** Tokens every message costs besides its content (role and separators), as OpenAI counts. */
export const MESSAGE_OVERHEAD_TOKENS = 3;
/** Tokens every request costs once (priming the reply). */
export const REQUEST_OVERHEAD_TOKENS = 3;
/** Starts the summary's system message. */
export const SUMMARY_HEADING = 'Summary of the earlier conversation:\n';
/** Appended to a truncated message, after its kept beginning. */
export const TRUNCATION_MARK = '\n[… message truncated to fit the conversation window]';

/** Tokens of `text` alone (no message overhead), exact. */
export function countTextTokens(text: string): number {
  return countTokens(text);
}

/** Exact tokens of a whole request: contents, MESSAGE_OVERHEAD_TOKENS each, REQUEST_OVERHEAD_TOKENS. */
export function countRequestTokens(messages: readonly ModelMessage[]): number {
  let total = REQUEST_OVERHEAD_TOKENS;
  for (const message of messages) total += countTokens(message.content) + MESSAGE_OVERHEAD_TOKENS;
  return total;
}

/** Builds the request for `input`; see the file comment for the rules. */
export function computeWindow(input: WindowInput): WindowResult {
  return withinByteBound(input) ?? countedWindow(input);
}

/** The request with every candidate turn when its UTF-8 bytes (an upper bound on its tokens)
 * fit `maxTokens`; undefined when they do not, and tokens must be counted. */
function withinByteBound(input: WindowInput): WindowResult | undefined {
  const { maxTurns, maxTokens } = input.window;
  const candidates = Math.max(0, Math.min(maxTurns, input.turns.length));
  let bound =
    REQUEST_OVERHEAD_TOKENS +
    tokenUpperBound(input.systemPrompt) +
    tokenUpperBound(input.userText) +
    2 * MESSAGE_OVERHEAD_TOKENS;
  const summary: ModelMessage[] = [];
  if (input.summary !== undefined && input.summary !== '') {
    const content = SUMMARY_HEADING + input.summary;
    bound += tokenUpperBound(content) + MESSAGE_OVERHEAD_TOKENS;
    summary.push({ role: 'system', content });
  }
  if (bound > maxTokens) return undefined;
  for (let index = input.turns.length - candidates; index < input.turns.length; index++) {
    const turn = input.turns[index];
    if (turn === undefined) return undefined;
    bound += tokenUpperBound(turn.user) + tokenUpperBound(turn.assistant) + 2 * MESSAGE_OVERHEAD_TOKENS;
    if (bound > maxTokens) return undefined;
  }
  return assemble(input, input.systemPrompt, input.userText, summary, candidates, bound, false, {
    systemPrompt: false,
    userText: false,
  });
}

function assemble(
  input: WindowInput,
  system: string,
  user: string,
  summary: readonly ModelMessage[],
  kept: number,
  tokens: number,
  tokensExact: boolean,
  truncated: WindowResult['truncated'],
): WindowResult {
  const messages: ModelMessage[] = [{ role: 'system', content: system }, ...summary];
  for (let index = input.turns.length - kept; index < input.turns.length; index++) {
    const turn = input.turns[index] as WindowInput['turns'][number];
    messages.push({ role: 'user', content: turn.user }, { role: 'assistant', content: turn.assistant });
  }
  messages.push({ role: 'user', content: user });
  return { messages, tokens, tokensExact, keptTurns: kept, truncated };
}

/** The request counted exactly with the tokenizer. */
function countedWindow(input: WindowInput): WindowResult {
  const { maxTurns, maxTokens } = input.window;
  const available = maxTokens - REQUEST_OVERHEAD_TOKENS;
  let system = input.systemPrompt;
  let user = input.userText;
  let systemTokens = countTextTokens(system) + MESSAGE_OVERHEAD_TOKENS;
  let userTokens = countTextTokens(user) + MESSAGE_OVERHEAD_TOKENS;
  const truncated = { systemPrompt: false, userText: false };
  if (systemTokens + userTokens > available) {
    const userBudget = Math.max(available - systemTokens, Math.floor(available / 2)) - MESSAGE_OVERHEAD_TOKENS;
    if (userTokens - MESSAGE_OVERHEAD_TOKENS > userBudget) {
      user = truncateToTokens(user, userBudget);
      userTokens = countTextTokens(user) + MESSAGE_OVERHEAD_TOKENS;
      truncated.userText = true;
    }
    if (systemTokens + userTokens > available) {
      system = truncateToTokens(system, available - userTokens - MESSAGE_OVERHEAD_TOKENS);
      systemTokens = countTextTokens(system) + MESSAGE_OVERHEAD_TOKENS;
      truncated.systemPrompt = true;
    }
  }

  let used = REQUEST_OVERHEAD_TOKENS + systemTokens + userTokens;
  const summary = summaryMessage(input.summary, maxTokens - used);
  used += summary.tokens;
  let kept = 0;
  for (let index = input.turns.length - 1; index >= 0 && kept < maxTurns; index--) {
    const turn = input.turns[index];
    if (turn === undefined) break;
    const cost = countTextTokens(turn.user) + countTextTokens(turn.assistant) + 2 * MESSAGE_OVERHEAD_TOKENS;
    if (used + cost > maxTokens) break;
    used += cost;
    kept++;
  }
  return assemble(input, system, user, summary.messages, kept, used, true, truncated);
}

/** The summary's system message within `budget` tokens (overhead included): none when there is
 * no summary or no room for its heading. */
function summaryMessage(
  summary: string | undefined,
  budget: number,
): { readonly messages: readonly ModelMessage[]; readonly tokens: number } {
  if (summary === undefined || summary === '') return { messages: [], tokens: 0 };
  const fixed = countTextTokens(SUMMARY_HEADING) + MESSAGE_OVERHEAD_TOKENS;
  if (budget <= fixed) return { messages: [], tokens: 0 };
  let content = SUMMARY_HEADING + summary;
  let tokens = countTextTokens(content) + MESSAGE_OVERHEAD_TOKENS;
  if (tokens > budget) {
    content = SUMMARY_HEADING + truncateToTokens(summary, budget - fixed - 1);
    tokens = countTextTokens(content) + MESSAGE_OVERHEAD_TOKENS;
    if (tokens > budget) return { messages: [], tokens: 0 };
  }
  return { messages: [{ role: 'system', content }], tokens };
}

/** The beginning of `text` plus TRUNCATION_MARK, at most `budget` tokens in all (just the
 * mark's beginning, or '', when the budget is smaller than the mark). */
export function truncateToTokens(text: string, budget: number): string {
  const tokens = encodeText(text);
  if (tokens.length <= budget) return text;
  const markTokens = countTextTokens(TRUNCATION_MARK);
  if (budget <= markTokens) return budget <= 0 ? '' : decodeTokens(encodeText(TRUNCATION_MARK).slice(0, budget));
  // Decoding a prefix can end inside a character (shown as U+FFFD) and re-encoding can differ
  // by a token or two, so shrink until the result really fits.
  for (let keep = budget - markTokens; keep > 0; ) {
    const candidate = decodeTokens(tokens.slice(0, keep)).replace(/\uFFFD+$/, '') + TRUNCATION_MARK;
    const count = countTextTokens(candidate);
    if (count <= budget) return candidate;
    keep -= count - budget;
  }
  return TRUNCATION_MARK;
}
