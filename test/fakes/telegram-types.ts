/**
 * Shapes shared by the fake Bot API (`telegram-api.ts`), its helpers and the tests and
 * benchmarks that drive it. Times: `at*` fields are `performance.now()` ms of the fake's
 * process; `wallAt*` fields are `Date.now()` ms. A process elsewhere converts `at` to epoch
 * ms as `timeOrigin + at` (the control API's `GET /__fake/info` gives `timeOrigin`).
 */
import type { MessageEntity, Update } from 'grammy/types';
import type { FloodLimits } from './telegram-flood.js';

/** The JSON body the Bot API answers with. */
export type ApiResponse =
  | { readonly ok: true; readonly result: unknown }
  | {
      readonly ok: false;
      readonly error_code: number;
      readonly description: string;
      readonly parameters?: { readonly retry_after?: number; readonly migrate_to_chat_id?: number };
    };

/** How a recorded call was answered; set when the answer is written. */
export interface CallOutcome {
  /** HTTP status sent (equals `error_code` for errors). 0 when the connection was dropped on purpose. */
  readonly status: number;
  /** The body sent, or undefined for a raw or dropped answer. */
  readonly response: ApiResponse | undefined;
  /** `performance.now()` when the answer was written. */
  readonly answeredAt: number;
  /** True when `failNext` (or a revoked token) produced this answer. */
  readonly injected: boolean;
}

/** One HTTP call a client made to the fake, in arrival order. */
export interface RecordedCall {
  /** Position in the call log (0-based, never reused). */
  readonly seq: number;
  /** The token from the URL, as sent. */
  readonly token: string;
  /** The bot's user id, or undefined for a token `addBot` never registered. */
  readonly botId: number | undefined;
  /** The method name from the URL, as sent (e.g. `sendMessage`). */
  readonly method: string;
  /** Parameters from the query string and the JSON or form body. */
  readonly params: Readonly<Record<string, unknown>>;
  /** `performance.now()` ms when the request body had been read. */
  readonly at: number;
  /** `Date.now()` ms at the same moment. */
  readonly wallAt: number;
  /** Undefined while the request is held (long poll, delay, hang); set once answered. */
  outcome: CallOutcome | undefined;
}

/** A message the bot sent successfully with `sendMessage`. */
export interface SentMessage {
  /** Seq of the `sendMessage` call that created it. */
  readonly seq: number;
  readonly token: string;
  readonly botId: number;
  readonly chatId: number;
  readonly messageId: number;
  /** Text as Telegram stores it (markup removed when `parse_mode` was HTML). */
  readonly text: string;
  /** `message_thread_id` sent, if any. */
  readonly threadId: number | undefined;
  /** `reply_parameters.message_id` (or deprecated `reply_to_message_id`) sent, if any. */
  readonly replyToMessageId: number | undefined;
  /** The raw call parameters (`parse_mode`, `entities`, `reply_markup`, …). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly at: number;
  readonly wallAt: number;
}

/** Timing of one update from queueing to confirmation. */
export interface UpdateTiming {
  readonly updateId: number;
  /** Chat and message of the update's message, when it has one. */
  readonly chatId: number | undefined;
  readonly messageId: number | undefined;
  /** When `sendUpdate`/`sendText` queued it. */
  readonly queuedAt: number;
  readonly queuedWallAt: number;
  /** When a `getUpdates` answer first carried it; undefined until then. */
  deliveredAt: number | undefined;
  deliveredWallAt: number | undefined;
  /** How many `getUpdates` answers carried it (more than 1 = redelivered). */
  deliveries: number;
  /** When an `offset` above its id confirmed it; undefined until then. */
  confirmedAt: number | undefined;
  /** True when the bot's `allowed_updates` excluded its type, so it was never queued. */
  readonly dropped: boolean;
}

/** A failure to inject with `failNext`. */
export interface TelegramFailure {
  /** HTTP status and `error_code`, e.g. 400, 401, 403, 409, 429, 500, 502. */
  readonly status: number;
  /** `description`; defaults to Telegram's wording for the status (409 on getUpdates: the
   * "terminated by other getUpdates request" conflict; 429: "Too Many Requests: retry after N"). */
  readonly description?: string;
  /** Seconds for `parameters.retry_after`; default 1 for status 429, absent otherwise. */
  readonly retryAfter?: number;
  /** `parameters.migrate_to_chat_id`, for "group chat was upgraded to a supergroup" errors. */
  readonly migrateToChatId?: number;
  /** How many matching calls fail (default 1; `Infinity` for all). */
  readonly times?: number;
  /** With status 401: revoke the token, so every later call of it is 401 as well. */
  readonly permanent?: boolean;
  /** Answer this raw text (as text/html) instead of a JSON error, like nginx's 502 page. */
  readonly rawBody?: string;
  /** Destroy the connection without answering (clients see a network error). */
  readonly dropConnection?: boolean;
  /** Never answer; the request is released when the client aborts or the fake closes. */
  readonly hang?: boolean;
}

/** Input for `sendText`: one user message as the bot would receive it. */
export interface SendTextOptions {
  /** Chat id: the user's id for private chats, negative for groups (-100… for supergroups). */
  readonly chatId: number;
  /** Sender's user id. */
  readonly userId: number;
  readonly text: string;
  /** Default: 'private' for chatId > 0, 'supergroup' for ids starting with -100, else 'group'. */
  readonly chatType?: 'private' | 'group' | 'supergroup';
  /** Group title; default `Group <chatId>`. */
  readonly chatTitle?: string;
  /** Forum topic id: sets `message_thread_id`, `is_topic_message` and (in supergroups)
   * `chat.is_forum`; without an explicit reply, `reply_to_message` is the topic's creation
   * service message, as Telegram sends it. */
  readonly topicId?: number;
  /** Reply to the bot's latest message in this chat (and topic): `true`, or a message id. */
  readonly replyToBotMessage?: boolean | number;
  /** Reply to any message of this chat by id (the user's own, for instance). */
  readonly replyToMessageId?: number;
  /** Sender's profile; first name defaults to `User <userId>`. */
  readonly firstName?: string;
  readonly lastName?: string;
  readonly username?: string;
  readonly languageCode?: string;
  /** Replaces the detected entities (a `bot_command` at offset 0 for '/…' texts and a
   * `mention` for every '@username'); pass `[]` for none. */
  readonly entities?: readonly MessageEntity[];
  /** Unix seconds; default now. */
  readonly date?: number;
}

/** An update to queue; `update_id` is assigned when absent. */
export type UpdateInput = Omit<Update, 'update_id'> & { readonly update_id?: number };

/** Options for `startFakeTelegram`. */
export interface FakeTelegramOptions {
  /** Upper bound in seconds on a `getUpdates` hold, whatever `timeout` the client asks for
   * (default 50, as Telegram). */
  readonly maxPollSeconds?: number;
  /** First `update_id` of every bot (default 1). */
  readonly firstUpdateId?: number;
  /** When a second `getUpdates` arrives while one is held for the same token, answer the older
   * one with 409 Conflict, as Telegram does (default true). */
  readonly conflictOnConcurrentPoll?: boolean;
  /** Log `getUpdates` calls (default true; a benchmark may turn this off to save memory). */
  readonly recordGetUpdates?: boolean;
  /** Port to listen on (default 0 = any free port). */
  readonly port?: number;
  /** Emulate Telegram's flood limits (telegram-flood.ts): true for the defaults, or limits;
   * default off (nothing is ever refused for going too fast). */
  readonly flood?: boolean | FloodLimits;
}

/** Profile given to `addBot`. */
export interface BotProfile {
  /** Default `bot<id>_bot`. */
  readonly username?: string;
  /** Default `Bot <id>`. */
  readonly firstName?: string;
  /** `getMe().can_read_all_group_messages` (privacy mode off); default false. */
  readonly canReadAllGroupMessages?: boolean;
}
