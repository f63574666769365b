/**
 * Model calls to OpenAI-compatible Chat Completions endpoints. The openai SDK lives only in
 * this folder; handlers depend on the `LlmClient` interface and see failures as ModelError.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAI } from 'openai';
import type { ProviderConfig } from '../config/types.js';
import { ModelError, type ModelFailure } from './model-error.js';

// Known violation, to be removed: src/telegram/handlers.ts still takes ModelError from here,
// which loads the openai SDK; once it imports from './model-error.js', delete this line and
// the entry in KNOWN_LAYER_VIOLATIONS of test/architecture.test.ts.
export { ModelError } from './model-error.js';

/** One message of a model request. */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** One model request. `temperature`/`maxReplyTokens` null: not sent. */
export interface CompletionRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly temperature: number | null;
  readonly maxReplyTokens: number | null;
  /** Aborts the request (shutdown); the call then rejects with reason 'aborted'. */
  readonly signal?: AbortSignal;
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
}

/** Builds a client for `provider`: SDK timeout and retries come from its config. No I/O. */
export function createLlmClient(provider: ProviderConfig): LlmClient {
  const sdk = new OpenAI({
    // The SDK insists on a key; endpoints that need none ignore the header.
    apiKey: provider.apiKey ?? 'no-key',
    baseURL: provider.baseUrl,
    timeout: provider.timeoutMs,
    maxRetries: provider.maxRetries,
  });
  // OpenAI's own API wants max_completion_tokens; most compatible servers know max_tokens.
  const isOpenAi = new URL(provider.baseUrl).hostname === 'api.openai.com';
  const scrub = (text: string): string => (provider.apiKey ? text.split(provider.apiKey).join('****') : text);

  return {
    provider: provider.name,
    async complete(request) {
      const limit =
        request.maxReplyTokens === null
          ? {}
          : isOpenAi
            ? { max_completion_tokens: request.maxReplyTokens }
            : { max_tokens: request.maxReplyTokens };
      // A per-request signal: the SDK adds an abort listener to the signal it is given and
      // never removes it, so handing it the bot-lifetime signal leaked one per message.
      const perRequest = new AbortController();
      const forward = (): void => perRequest.abort(request.signal?.reason);
      if (request.signal?.aborted) forward();
      request.signal?.addEventListener('abort', forward, { once: true });
      let response: OpenAI.Chat.Completions.ChatCompletion;
      try {
        response = await sdk.chat.completions.create(
          {
            model: request.model,
            messages: request.messages.map((message) => ({ role: message.role, content: message.content })),
            ...(request.temperature === null ? {} : { temperature: request.temperature }),
            ...limit,
          },
          { signal: perRequest.signal },
        );
      } catch (error) {
        throw toModelError(provider.name, error, scrub);
      } finally {
        request.signal?.removeEventListener('abort', forward);
      }
      const text = response?.choices?.[0]?.message?.content;
      if (typeof text !== 'string' || text.trim() === '') {
        throw new ModelError(provider.name, 'malformed', 'the answer held no reply text');
      }
      return { text, promptTokens: response.usage?.prompt_tokens, replyTokens: response.usage?.completion_tokens };
    },
  };
}

/** Maps an SDK error to a ModelError with a reason the runtime and the operator can act on. */
function toModelError(provider: string, error: unknown, scrub: (text: string) => string): ModelError {
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
    const status = error.status;
    const reason: ModelFailure =
      status === 401 || status === 403
        ? 'auth'
        : status === 429
          ? 'rate-limit'
          : status >= 500
            ? 'server'
            : status === 408
              ? 'timeout'
              : 'bad-request';
    const hint = reason === 'auth' ? `; check providers.${provider}.apiKey` : '';
    return new ModelError(provider, reason, `${scrub(error.message)}${hint}`, { status, cause: error });
  }
  // The SDK parsed a body it did not expect (for example invalid JSON).
  const text = error instanceof Error ? error.message : String(error);
  return new ModelError(provider, 'malformed', scrub(text), { cause: error });
}

function causeText(error: Error): string {
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}
