/**
 * What both model calls (llm-client.ts, stream-reply.ts) share with the openai SDK: loading it
 * (on the first model call, not at start: it costs about 13 MB and 100 ms), the request body,
 * the per-request abort signal, and the mapping of SDK failures to ModelError.
 */
import type { OpenAI } from 'openai';
import { errorMessage } from '../errors.js';
import type { CompletionRequest } from './llm-client.js';
import { ModelError, type ModelFailure } from './model-error.js';

/** The openai module. */
export type OpenAiModule = typeof import('openai');

let sdkModule: OpenAiModule | undefined;
let loading: Promise<OpenAiModule> | undefined;

/** The openai module, imported on the first call. */
export function loadOpenAi(): Promise<OpenAiModule> {
  loading ??= import('openai').then((loaded) => (sdkModule = loaded));
  return loading;
}

/** The Chat Completions body for `request`, leaving out what is null. OpenAI's own API wants
 * max_completion_tokens; most compatible servers know max_tokens. */
export function bodyOf(
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
export function followAbort(signal: AbortSignal | undefined): { signal: AbortSignal; abort(): void; detach(): void } {
  const perRequest = new AbortController();
  const forward = (): void => perRequest.abort(signal?.reason);
  if (signal?.aborted) forward();
  signal?.addEventListener('abort', forward, { once: true });
  return {
    signal: perRequest.signal,
    abort: () => perRequest.abort(),
    detach: () => signal?.removeEventListener('abort', forward),
  };
}

/** Maps what the SDK threw to a ModelError with a reason the runtime and the operator can act
 * on. Anything the SDK did not raise about the call or its answer (a TypeError from a bad
 * request object, a bug of ours) is returned as is, to be rethrown and reported as the bug it is. */
export function toModelError(provider: string, error: unknown, scrub: (text: string) => string): unknown {
  // Only a loaded SDK throws SDK errors; before that, only a SyntaxError can mean a bad answer.
  const sdk = sdkModule;
  if (sdk === undefined) return error instanceof SyntaxError ? malformed(provider, error, scrub) : error;
  const { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAIError } = sdk;
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
  // An `error` event in the middle of a stream: the provider failed after it started answering.
  if (error instanceof APIError && error.status === undefined && error.error !== undefined) {
    return new ModelError(provider, 'server', `the stream ended with an error (${scrub(error.message)})`, {
      cause: error,
    });
  }
  // The SDK could not read the answer: a body that is not JSON (the SyntaxError of its
  // response.json()) or one it otherwise rejects (its own OpenAIError).
  if (error instanceof SyntaxError || error instanceof OpenAIError) return malformed(provider, error, scrub);
  return error;
}

function malformed(provider: string, error: Error, scrub: (text: string) => string): ModelError {
  return new ModelError(provider, 'malformed', `the answer could not be read (${scrub(errorMessage(error))})`, {
    cause: error,
  });
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
