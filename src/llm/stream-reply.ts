/**
 * LlmClient.stream: a `stream: true` Chat Completions request read as text deltas, failing
 * (also mid-stream) with the same ModelError reasons as a whole completion.
 */
import type { OpenAI } from 'openai';
import type { ProviderConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { CompletionRequest } from './llm-client.js';
import { ModelError } from './model-error.js';
import { bodyOf, followAbort, toModelError } from './sdk-support.js';

/** What `streamReply` works with. */
export interface StreamContext {
  /** The SDK client, made on first use. */
  readonly sdk: () => Promise<OpenAI>;
  readonly provider: ProviderConfig;
  readonly isOpenAi: boolean;
  readonly scrub: (text: string) => string;
}

/** LlmClient.stream: see its contract. Blank leading deltas are held back until text arrives. */
export async function* streamReply(request: CompletionRequest, context: StreamContext): AsyncGenerator<string> {
  const { sdk, provider, isOpenAi, scrub } = context;
  const abort = followAbort(request.signal);
  const idle = idleTimer(provider.timeoutMs, () => abort.abort());
  let text = '';
  let reading = false;
  let started = false; // a delta with text was passed on
  let ended = false; // the response was read to its end
  try {
    const body = { ...bodyOf(request, isOpenAi), stream: true as const, stream_options: { include_usage: true } };
    const chunks = await (await sdk()).chat.completions.create(body, { signal: abort.signal });
    reading = true;
    idle.reset();
    let finished = false;
    let received = 0;
    for await (const chunk of chunks) {
      idle.reset();
      received += 1;
      if (chunk.usage)
        request.onUsage?.({ promptTokens: chunk.usage.prompt_tokens, replyTokens: chunk.usage.completion_tokens });
      const choice = chunk.choices?.[0];
      if (choice?.finish_reason) finished = true;
      const delta = choice?.delta?.content ?? '';
      text += delta;
      if (started) {
        if (delta !== '') yield delta;
      } else if (delta.trim() !== '') {
        // The first delta with text carries the blank ones held back before it.
        started = true;
        yield text;
      }
    }
    ended = true;
    // The SDK ends an aborted stream quietly (no error): tell why it ended short.
    if (!finished) throw endedShort(provider.name, abort.signal.aborted, received);
  } catch (error) {
    throw streamFailure(error, { provider: provider.name, idle: idle.fired(), reading, scrub });
  } finally {
    idle.stop();
    // Ends the HTTP request when iteration stopped early. Not after the whole response was
    // read: an abort costs a DOMException with its stack, a measurable share of a fast reply.
    if (!ended) abort.abort();
    abort.detach();
  }
  if (!started) throw new ModelError(provider.name, 'malformed', 'the answer held no reply text');
}

/** A stream that ended without a finish reason: cancelled (shutdown), not a stream of chunks
 * at all (`received` 0), or cut by the provider. */
function endedShort(provider: string, aborted: boolean, received: number): ModelError {
  if (aborted) return new ModelError(provider, 'aborted', 'the request was cancelled');
  if (received === 0) return new ModelError(provider, 'malformed', 'the answer held no reply text (no stream chunks)');
  return new ModelError(provider, 'network', 'the stream ended before the reply was complete');
}

/** What ended a stream early: the idle timer, what toModelError makes of an SDK error, or a
 * lost connection while reading the body (an error the SDK does not wrap). */
function streamFailure(
  error: unknown,
  how: { provider: string; idle: boolean; reading: boolean; scrub: (text: string) => string },
): unknown {
  const { provider } = how;
  if (how.idle) return new ModelError(provider, 'timeout', 'the stream stalled for timeoutMs', { cause: error });
  const mapped = toModelError(provider, error, how.scrub);
  if (mapped instanceof ModelError || !how.reading) return mapped;
  // Not the SDK's: reading the body failed underneath it (undici's "terminated").
  return new ModelError(provider, 'network', `the stream broke off (${how.scrub(errorMessage(mapped))})`, {
    cause: mapped,
  });
}

/** Calls `onIdle` once when `reset` was not called for `ms`; `fired` tells whether it did. */
function idleTimer(ms: number, onIdle: () => void): { reset(): void; stop(): void; fired(): boolean } {
  let fired = false;
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => clearTimeout(timer);
  const reset = (): void => {
    stop();
    timer = setTimeout(() => {
      fired = true;
      onIdle();
    }, ms);
  };
  return { reset, stop, fired: () => fired };
}
