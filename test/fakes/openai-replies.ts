/**
 * Bodies the fake OpenAI server sends, shaped like the real Chat Completions API so the
 * openai SDK parses them: completions, stream chunks, usage, error envelopes.
 */
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';

/** A chat message as requests carry it (content is a string or an array of parts). */
export interface ChatMessageInput {
  readonly role: string;
  readonly content?: unknown;
  readonly name?: string;
}

/** The text of a message's `content`: the string itself, or its text parts joined. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text'
        ? String((part as { text?: unknown }).text ?? '')
        : '',
    )
    .join('');
}

/** The messages array of a request body (empty when absent or malformed). */
export function messagesOf(body: unknown): readonly ChatMessageInput[] {
  const messages = (body as { messages?: unknown } | undefined)?.messages;
  return Array.isArray(messages) ? (messages as ChatMessageInput[]) : [];
}

/** The default reply: `echo: <text of the last user message>`. */
export function echoReply(body: unknown): string {
  const lastUser = [...messagesOf(body)].reverse().find((m) => m.role === 'user');
  return `echo: ${contentText(lastUser?.content)}`;
}

/** Rough token count (4 characters a token, at least 1): what the fake reports as usage. */
export function approxTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Rough prompt size of a request: each message's text plus 4 tokens of overhead, plus 3. */
export function promptTokens(body: unknown): number {
  return messagesOf(body).reduce((sum, m) => sum + 4 + approxTokens(contentText(m.content)), 3);
}

/** A usage object for `prompt` and `completion` token counts. */
export function usage(prompt: number, completion: number): CompletionUsage {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Fields every completion or chunk of one response shares. */
export interface CompletionMeta {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

type FinishReason = ChatCompletion.Choice['finish_reason'];

/** A non-streaming `chat.completion` body. */
export function completionBody(
  meta: CompletionMeta,
  content: string,
  finishReason: FinishReason,
  use: CompletionUsage,
): ChatCompletion {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage: use,
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
  };
}

/** One `chat.completion.chunk`; `usage` is null on every chunk when the client asked for
 * usage (`stream_options.include_usage`), absent otherwise, except on the final usage chunk. */
export function chunkBody(
  meta: CompletionMeta,
  delta: ChatCompletionChunk.Choice.Delta | undefined,
  finishReason: FinishReason | null,
  includeUsage: boolean,
  finalUsage?: CompletionUsage,
): ChatCompletionChunk {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
    choices: delta === undefined ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage && { usage: finalUsage ?? null }),
  };
}

/** Splits `content` into stream deltas of about one word each (spaces kept), so joining them
 * gives `content` back. */
export function splitIntoChunks(content: string): string[] {
  return content.match(/\s*\S+\s*|\s+/g) ?? [];
}

/** OpenAI's `{error: {...}}` envelope for `status`, with the API's usual wording; `overrides`
 * replace fields. */
export function errorBody(
  status: number,
  model: string,
  overrides: { message?: string; type?: string; code?: string | null } = {},
): unknown {
  const defaults: Record<number, { message: string; type: string; code: string | null }> = {
    400: { message: 'Invalid request.', type: 'invalid_request_error', code: null },
    401: {
      message:
        'Incorrect API key provided: sk-fake***. You can find your API key at https://platform.openai.com/account/api-keys.',
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    },
    403: {
      message: `Project does not have access to model \`${model}\``,
      type: 'invalid_request_error',
      code: 'model_not_found',
    },
    404: {
      message: `The model \`${model}\` does not exist or you do not have access to it.`,
      type: 'invalid_request_error',
      code: 'model_not_found',
    },
    429: {
      message: `Rate limit reached for ${model} in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.`,
      type: 'requests',
      code: 'rate_limit_exceeded',
    },
    500: {
      message: 'The server had an error while processing your request. Sorry about that!',
      type: 'server_error',
      code: null,
    },
    502: { message: 'Bad gateway.', type: 'server_error', code: null },
    503: { message: 'The server is overloaded or not ready yet.', type: 'server_error', code: null },
  };
  const base = defaults[status] ?? { message: `Error ${status}`, type: 'server_error', code: null };
  return {
    error: {
      message: overrides.message ?? base.message,
      type: overrides.type ?? base.type,
      param: null,
      code: overrides.code === undefined ? base.code : overrides.code,
    },
  };
}

/** Whether `body` is botfleet's summary request (window.summary, src/answer/summarize.ts): its
 * last user message opens with "Summary so far:". */
export function isSummaryRequest(body: unknown): boolean {
  const lastUser = [...messagesOf(body)].reverse().find((m) => m.role === 'user');
  return contentText(lastUser?.content).startsWith('Summary so far:');
}

/** A summary that keeps every fact it was given: each distinct `FACT: …` (to the end of its
 * line) found in the request, in order of first appearance, one a line; `(no facts yet)` when
 * there is none (never empty). */
export function summaryReply(body: unknown): string {
  const text = messagesOf(body)
    .filter((m) => m.role === 'user')
    .map((m) => contentText(m.content))
    .join('\n');
  const facts = [...new Set(text.match(/FACT:[^\n]*/g) ?? [])];
  return facts.length === 0 ? '(no facts yet)' : facts.join('\n');
}

/** A reply function for `setReply`: summary requests get `summaryReply`, others the echo. */
export function summarizingReply(request: { readonly body: unknown }): string {
  return isSummaryRequest(request.body) ? summaryReply(request.body) : echoReply(request.body);
}
