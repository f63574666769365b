/**
 * Model calls to OpenAI-compatible Chat Completions endpoints. The openai SDK lives only in
 * this folder; the answer depends on the `LlmClient` interface and sees failures as ModelError
 * (model-error.ts, SDK-free).
 */
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAI,
  OpenAIError,
} from 'openai';
import type { ProviderConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { ModelError, type ModelFailure } from './model-error.js';

/** One message of a model request: the system prompt, a user's text or a model's reply. */
export interface ModelMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** One model request. `temperature`/`maxReplyTokens` null: not sent. */
export interface CompletionRequest {
  readonly model: string;
  readonly messages: readonly ModelMessage[];
  readonly temperature: number | null;
  readonly maxReplyTokens: number | null;
  /** Aborts the request (shutdown); the call then rejects with reason 'aborted'. */
  readonly signal?: AbortSignal;
  /** Called with the provider's token counts once it reported them (not called when it sent
   * none); the metrics read usage only through this. */
  readonly onUsage?: (usage: TokenUsage) => void;
}

/** Token counts of one request as the provider reported them. */
export interface TokenUsage {
  readonly promptTokens: number | undefined;
  readonly replyTokens: number | undefined;
}

/** A model's answer. Token counts are the provider's, when it reports them. */
export interface Completion {
  readonly text: string;
  readonly promptTokens: number | undefined;
  readonly replyTokens: number | undefined;
}

/** What the bot runtime needs from a model provider. */
export interface LlmClient {
  /** The provider's name under `providers`. */
  readonly provider: string;
  /** Asks the model for a reply. Throws ModelError; never returns an empty text. */
  complete(request: CompletionRequest): Promise<Completion>;
  /** The same reply as text deltas in order, concatenated the whole reply; the request starts
   * when iteration does, and iteration throws what `complete` would. Today one delta holding
   * the whole reply. */
  stream(request: CompletionRequest): AsyncIterable<string>;
}

/** What the SDK sends as the API key when the provider has none: the SDK insists on a key,
 * and endpoints that need none ignore the header. */
const NO_API_KEY = 'no-key';

/** Builds a client for `provider`: SDK timeout and retries come from its config. No I/O. */
export function createLlmClient(provider: ProviderConfig): LlmClient {
  const sdk = new OpenAI({
    apiKey: provider.apiKey ?? NO_API_KEY,
    baseURL: provider.baseUrl,
    timeout: provider.timeoutMs,
    maxRetries: provider.maxRetries,
  });
  const isOpenAi = new URL(provider.baseUrl).hostname === 'api.openai.com';
  const scrub = (text: string): string => (provider.apiKey ? text.split(provider.apiKey).join('****') : text);

  const complete = async (request: CompletionRequest): Promise<Completion> => {
    const abort = followAbort(request.signal);
    let response: OpenAI.Chat.Completions.ChatCompletion;
    try {
      response = await sdk.chat.completions.create(bodyOf(request, isOpenAi), { signal: abort.signal });
    } catch (error) {
      throw toModelError(provider.name, error, scrub);
    } finally {
      abort.detach();
    }
    const text = response?.choices?.[0]?.message?.content;
    if (typeof text !== 'string' || text.trim() === '') {
      throw new ModelError(provider.name, 'malformed', 'the answer held no reply text');
    }
    return { text, promptTokens: response.usage?.prompt_tokens, replyTokens: response.usage?.completion_tokens };
  };
  return {
    provider: provider.name,
    complete,
    async *stream(request) {
      const completion = await complete(request);
      if (completion.promptTokens !== undefined || completion.replyTokens !== undefined) request.onUsage?.(completion);
      yield completion.text;
    },
  };
}

/** The Chat Completions body for `request`, leaving out what is null. OpenAI's own API wants
 * max_completion_tokens; most compatible servers know max_tokens. */
function bodyOf(
  request: CompletionRequest,
  isOpenAi: boolean,
): OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming {
  const limit = request.maxReplyTokens;
  return {
    model: request.model,
    messages: request.messages.map((message) => ({ role: message.role, content: message.content })),
    ...(request.temperature === null ? {} : { temperature: request.temperature }),
    ...(limit === null ? {} : isOpenAi ? { max_completion_tokens: limit } : { max_tokens: limit }),
  };
}

/** A per-request signal that aborts when `signal` does, and `detach` to stop following it. The
 * SDK adds an abort listener to the signal it is given and never removes it, so handing it the
 * bot-lifetime signal leaked one listener per message. */
function followAbort(signal: AbortSignal | undefined): { signal: AbortSignal; detach(): void } {
  const perRequest = new AbortController();
  const forward = (): void => perRequest.abort(signal?.reason);
  if (signal?.aborted) forward();
  signal?.addEventListener('abort', forward, { once: true });
  return { signal: perRequest.signal, detach: () => signal?.removeEventListener('abort', forward) };
}

/** Maps what the SDK threw to a ModelError with a reason the runtime and the operator can act
 * on. Anything the SDK did not raise about the call or its answer (a TypeError from a bad
 * request object, a bug of ours) is returned as is, to be rethrown and reported as the bug it is. */
function toModelError(provider: string, error: unknown, scrub: (text: string) => string): unknown {
  if (error instanceof APIUserAbortError)
    return new ModelError(provider, 'aborted', 'the request was cancelled', { cause: error });
  if (error instanceof APIConnectionTimeoutError)
    return new ModelError(provider, 'timeout', 'no answer within timeoutMs', { cause: error });
  if (error instanceof APIConnectionError) {
    return new ModelError(
      provider,
      'network',
      `cannot reach the endpoint (${scrub(causeText(error))}); check providers.${provider}.baseUrl`,
      { cause: error },
    );
  }
  if (error instanceof APIError && error.status !== undefined) {
    const reason = reasonOfStatus(error.status);
    const hint = reason === 'auth' ? `; check providers.${provider}.apiKey` : '';
    return new ModelError(provider, reason, `${scrub(error.message)}${hint}`, { status: error.status, cause: error });
  }
  // The SDK could not read the answer: a body that is not JSON (the SyntaxError of its
  // response.json()) or one it otherwise rejects (its own OpenAIError).
  if (error instanceof SyntaxError || error instanceof OpenAIError) {
    return new ModelError(provider, 'malformed', `the answer could not be read (${scrub(errorMessage(error))})`, {
      cause: error,
    });
  }
  return error;
}

/** The failure an HTTP status from the provider means. */
function reasonOfStatus(status: number): ModelFailure {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate-limit';
  if (status >= 500) return 'server';
  if (status === 408) return 'timeout';
  return 'bad-request';
}

/** The network-level reason of a connection error: its cause's code (ECONNREFUSED) or message. */
function causeText(error: Error): string {
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}
