/**
 * The metrics port: what the answer and the Telegram handlers report about their work, declared
 * here by its consumers and implemented in ops/ with prom-client (ops/fleet-metrics.ts), or by
 * `noMetrics()` when the HTTP server is off. Every label value is a bot id, a provider or model
 * name or one of the fixed kinds below: never a user id, a token or any text.
 */
import type { ModelFailure } from '../llm/model-error.js';

/** How one model request ended: `ok`, the ModelError's reason, or `error` (a bug). */
export type ModelOutcome = 'ok' | ModelFailure | 'error';

/** What went wrong: `model` (the request failed), `storage` (a read or write failed),
 * `delivery` (Telegram did not take a reply), `polling` (409 or network: backing off),
 * `unexpected` (an update's handling threw). */
export type ErrorKind = 'model' | 'storage' | 'delivery' | 'polling' | 'unexpected';

/** One finished model request. Token counts are the provider's `usage`, or counted with the
 * tokenizer when it sent none. */
export interface ModelCall {
  readonly bot: string;
  readonly provider: string;
  readonly model: string;
  readonly outcome: ModelOutcome;
  /** From the request to the end of the reply's stream, in seconds. */
  readonly seconds: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** How one summary call (window.summary) ended: `ok` (stored), `empty` (the model wrote no
 * text), `stale` (the conversation changed meanwhile, e.g. a /reset: not stored), `storage`
 * (storing it failed), or the model request's failure. */
export type SummaryOutcome = 'ok' | 'empty' | 'stale' | 'storage' | ModelFailure | 'error';

/** One finished summary call; tokens as for ModelCall (0 when the model did not answer). */
export interface SummaryCall {
  readonly bot: string;
  readonly provider: string;
  readonly model: string;
  readonly outcome: SummaryOutcome;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** Where the bots' work is counted. Every method is synchronous, cheap and never throws. */
export interface BotMetrics {
  /** A message update reached the bot's handlers. */
  updateReceived(bot: string): void;
  /** A reply (a model answer or a command's fixed reply) was delivered; `addedSeconds` is the
   * time from the update's arrival to delivery minus the model's time (undefined: unknown). */
  replySent(bot: string, addedSeconds: number | undefined): void;
  modelRequest(call: ModelCall): void;
  /** A summary call ended (counted apart from the answers' model requests). */
  summaryCall(call: SummaryCall): void;
  error(bot: string, kind: ErrorKind): void;
}

/** Metrics that record nothing (the HTTP server is off): no cost. */
export function noMetrics(): BotMetrics {
  const nothing = (): void => undefined;
  return { updateReceived: nothing, replySent: nothing, modelRequest: nothing, summaryCall: nothing, error: nothing };
}

/** Seconds since `startMs` (a `performance.now()` reading). */
export function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}
