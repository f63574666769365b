/**
 * One model request as the metrics see it (metrics.ts): its duration (from the request to the
 * end of its stream), its outcome, its tokens (the provider's `usage`, counted with the
 * tokenizer when it sends none), and then the reply's delivery. With no metrics it measures
 * nothing and counts no token.
 */
import type { BotConfig } from '../config/types.js';
import type { CompletionRequest, LlmClient, TokenUsage } from '../llm/llm-client.js';
import { ModelError } from '../llm/model-error.js';
import { type BotMetrics, type ModelOutcome, secondsSince } from './metrics.js';
import { countRequestTokens, countTextTokens } from './prompt-window.js';

/** How the answer ended, as `finish` needs it. */
export interface AnswerEnd {
  /** What the model request threw, if it did. */
  readonly failure: { readonly error: unknown } | undefined;
  /** The reply the model produced (possibly partial). */
  readonly text: string;
  /** Whether the sink delivered all of it. */
  readonly delivered: boolean;
  /** `performance.now()` when the update arrived; none: no added latency is recorded. */
  readonly receivedAt: number | undefined;
}

/** A metered model request: `stream` starts it, `finish` records it. */
export interface MeteredCall {
  stream(llm: LlmClient): AsyncIterable<string>;
  finish(end: AnswerEnd): void;
}

/** Meters `request` for `config`'s bot into `metrics` (undefined: measures nothing);
 * `_windowTokens` is the request's size as the prompt window counted it, often only an upper
 * bound (UTF-8 bytes, see prompt-window.ts), so when the provider reports no usage the request
 * is counted exactly here instead. */
export function meterModelCall(
  request: CompletionRequest,
  _windowTokens: number,
  config: BotConfig,
  metrics: BotMetrics | undefined,
): MeteredCall {
  if (metrics === undefined) return { stream: (llm) => llm.stream(request), finish: () => undefined };
  let usage: TokenUsage | undefined;
  const startedAt = performance.now();
  let modelSeconds = 0;
  return {
    async *stream(llm) {
      try {
        yield* llm.stream({ ...request, onUsage: (reported) => (usage = reported) });
      } finally {
        modelSeconds = secondsSince(startedAt);
      }
    },
    finish(end) {
      const bot = config.id;
      const outcome = outcomeOf(end.failure);
      metrics.modelRequest({
        bot,
        provider: config.provider.name,
        model: config.model,
        outcome,
        seconds: modelSeconds,
        promptTokens: usage?.promptTokens ?? countRequestTokens(request.messages),
        completionTokens: usage?.replyTokens ?? countTextTokens(end.text),
      });
      if (end.failure !== undefined) {
        if (outcome !== 'aborted') metrics.error(bot, 'model');
      } else if (!end.delivered) metrics.error(bot, 'delivery');
      else if (end.text !== '') {
        const { receivedAt } = end;
        metrics.replySent(
          bot,
          receivedAt === undefined ? undefined : Math.max(0, secondsSince(receivedAt) - modelSeconds),
        );
      }
    },
  };
}

function outcomeOf(failure: { readonly error: unknown } | undefined): ModelOutcome {
  if (failure === undefined) return 'ok';
  return failure.error instanceof ModelError ? failure.error.reason : 'error';
}
