/**
 * Shapes of the fake OpenAI server (`openai-api.ts`). Times: `at*` fields are
 * `performance.now()` ms of the fake's process, `wallAt` is `Date.now()` ms.
 */

/** How a recorded request was answered; set when the answer is complete (or the client left). */
export interface RequestOutcome {
  /** HTTP status sent; 0 when the connection was dropped or nothing was sent. */
  readonly status: number;
  /** 'reply' (completion or full stream), 'error' (an error status), the injected failure kinds
   * ('malformed', 'missing-choices', 'stream-error', 'hang', 'drop'), or 'aborted' when the
   * client went away before the answer was complete. */
  readonly kind:
    | 'reply'
    | 'error'
    | 'malformed'
    | 'missing-choices'
    | 'stream-error'
    | 'cut'
    | 'truncated'
    | 'hang'
    | 'drop'
    | 'aborted';
  /** The assistant text sent (for 'reply'; a stream's chunks joined). */
  readonly content: string | undefined;
  /** `performance.now()` when the first byte of the answer was written, if any was. */
  readonly firstByteAt: number | undefined;
  /** `performance.now()` when the answer ended or the client went away. */
  readonly endedAt: number;
  /** True when the client closed the connection before the answer was complete. */
  readonly aborted: boolean;
  /** True when `failNext` produced this answer. */
  readonly injected: boolean;
}

/** One HTTP request to the fake, in arrival order. */
export interface RecordedRequest {
  /** Position in the log (0-based, never reused). */
  readonly seq: number;
  readonly method: string;
  /** URL path, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** Parsed JSON body; undefined when there was none or it did not parse. */
  readonly body: Record<string, unknown> | undefined;
  /** Request headers with lower-cased names, `authorization` included. */
  readonly headers: Readonly<Record<string, string>>;
  /** The key from `Authorization: Bearer <key>`, if sent. */
  readonly apiKey: string | undefined;
  /** `body.model`, if a string. */
  readonly model: string | undefined;
  /** `body.stream === true`. */
  readonly stream: boolean;
  /** The `x-request-id` the answer carries. */
  readonly requestId: string;
  /** `performance.now()` / `Date.now()` when the body had been read. */
  readonly at: number;
  readonly wallAt: number;
  /** Undefined until answered (or abandoned). */
  outcome: RequestOutcome | undefined;
}

/** A scripted answer: a string is the assistant's content; an object tunes the answer. */
export type ScriptedReply =
  | string
  | {
      /** Assistant content; default `echo: <last user message>`. */
      readonly content?: string;
      /** Ms before answering (streams: before the first chunk); overrides `setLatency`. */
      readonly delayMs?: number;
      /** Streams only: the exact content deltas (default: content split about per word). */
      readonly chunks?: readonly string[];
      /** Streams only: ms between chunks (default: the fake's `streamChunkDelayMs`). */
      readonly chunkDelayMs?: number;
      /** Default 'stop' ('length' when `max_completion_tokens`/`max_tokens` cut the content). */
      readonly finishReason?: 'stop' | 'length' | 'content_filter';
      /** Overrides the approximate usage numbers. */
      readonly usage?: { readonly promptTokens?: number; readonly completionTokens?: number };
      /** Streams only: send this many content chunks, then hold the connection until the client
       * aborts (a stalled stream). */
      readonly stallAfterChunks?: number;
    };

/** Computes the reply to a request; may be async. */
export type ReplyFunction = (request: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>;

/** A failure to inject with `failNext`. */
export interface OpenAIFailure {
  /** 'status' (default): an error status with OpenAI's `{error}` body; 'malformed': 200 with
   * invalid JSON (a stream: an invalid data line); 'missing-choices': 200 without `choices`;
   * 'stream-error': a stream that sends one chunk, then an `{error}` event; 'hang': never answer
   * until the client aborts; 'drop': destroy the connection. Streams only: 'cut' sends one
   * chunk, then destroys the connection (a reset halfway); 'truncated' sends one chunk, then
   * ends the response cleanly without a finish reason or `[DONE]` (a stream that just stops). */
  readonly kind?: 'status' | 'malformed' | 'missing-choices' | 'stream-error' | 'cut' | 'truncated' | 'hang' | 'drop';
  /** HTTP status for 'status' (default 500): 400, 401, 403, 404, 429, 500, 502, 503, … */
  readonly status?: number;
  /** Replaces the `{error}` body (objects are sent as JSON, strings raw as text/plain). */
  readonly body?: unknown;
  /** `error.message` / `error.code` / `error.type` overrides for the default body. */
  readonly message?: string;
  readonly code?: string;
  readonly type?: string;
  /** Sends `retry-after` (seconds) with the error. */
  readonly retryAfterSeconds?: number;
  /** How many matching requests fail (default 1; `Infinity` for all). */
  readonly times?: number;
  /** 'stream-error', 'cut', 'truncated': the content of the one chunk sent first (default ''). */
  readonly partialContent?: string;
  /** Only requests for this model fail. */
  readonly model?: string;
}

/** Options for `startFakeOpenAI`. */
export interface FakeOpenAIOptions {
  /** When set, any other key (or none) is answered 401 `invalid_api_key`. */
  readonly apiKey?: string;
  /** Ms before every answer (default 0); see also `setLatency`. */
  readonly latencyMs?: number;
  /** Ms between stream chunks (default 0). */
  readonly streamChunkDelayMs?: number;
  /** Ids listed by `GET /v1/models` (default gpt-4o-mini, gpt-4.1-mini, gpt-4o). */
  readonly models?: readonly string[];
  /** Answer 404 `model_not_found` for models not in `models` (default false). */
  readonly strictModels?: boolean;
  /** Answer 400 `context_length_exceeded` when the approximate prompt tokens exceed this. */
  readonly contextWindowTokens?: number;
  /** Port to listen on (default 0 = any free port). */
  readonly port?: number;
}
