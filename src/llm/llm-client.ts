/**
 * Model calls to OpenAI-compatible Chat Completions endpoints. The openai SDK lives only in
 * this folder; the answer depends on the `LlmClient` interface and sees failures as ModelError
 * (model-error.ts, SDK-free).
 */
import type { OpenAI } from 'openai';
import type { ProviderConfig } from '../config/types.js';
import { maskSecretIn } from '../mask.js';
import { lightFetch } from './light-fetch.js';
import { ModelError } from './model-error.js';
import { bodyOf, followAbort, loadOpenAi, toModelError } from './sdk-support.js';
import { streamReply } from './stream-reply.js';

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
  /** The same reply as text deltas in order (a `stream: true` request), concatenated the whole
   * reply; the request starts when iteration does and is cancelled when iteration stops early.
   * Iteration throws what `complete` would, also after some deltas (a failure mid-stream), and
   * 'timeout' when no chunk arrives for `timeoutMs`. The first delta holds non-blank text. */
  stream(request: CompletionRequest): AsyncIterable<string>;
}

/** What the SDK sends as the API key when the provider has none: the SDK insists on a key,
 * and endpoints that need none ignore the header. */
const NO_API_KEY = 'no-key';

/** Builds a client for `provider`: SDK timeout and retries come from its config. No I/O; the
 * SDK is loaded and its client made at the first request. */
export function createLlmClient(provider: ProviderConfig): LlmClient {
  let client: Promise<OpenAI> | undefined;
  const sdk = (): Promise<OpenAI> => {
    client ??= loadOpenAi().then(
      ({ OpenAI }) =>
        new OpenAI({
          apiKey: provider.apiKey ?? NO_API_KEY,
          baseURL: provider.baseUrl,
          timeout: provider.timeoutMs,
          maxRetries: provider.maxRetries,
          // node:http with keep-alive instead of the global fetch: about a third less CPU per call.
          fetch: lightFetch,
        }),
    );
    return client;
  };
  const isOpenAi = new URL(provider.baseUrl).hostname === 'api.openai.com';
  const scrub = (text: string): string => maskSecretIn(text, provider.apiKey);

  const complete = async (request: CompletionRequest): Promise<Completion> => {
    const abort = followAbort(request.signal);
    let response: OpenAI.Chat.Completions.ChatCompletion;
    try {
      response = await (await sdk()).chat.completions.create(bodyOf(request, isOpenAi), { signal: abort.signal });
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
    stream: (request) => streamReply(request, { sdk, provider, isOpenAi, scrub }),
  };
}
