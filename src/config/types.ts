/**
 * The resolved configuration the app runs on: defaults merged into each bot, providers
 * resolved, disabled bots dropped, every field present and read-only. Produced only by
 * `resolveConfig` (resolve.ts); the file's own shape is in bots-config.generated.ts.
 */

/** The one memory engine every bot shares. */
export interface StorageConfig {
  /** sqlite://PATH, redis://…, rediss://… or memory:// (a relative sqlite path is already
   * made absolute against the working directory). */
  readonly url: string;
  /** Prefix of every storage key. */
  readonly namespace: string;
}

/** The operators' HTTP server (/healthz, /readyz, /metrics); see ServerSettings. */
export interface ServerConfig {
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Listen address. Default 127.0.0.1. */
  readonly host: string;
}

/** An OpenAI-compatible endpoint. */
export interface ProviderConfig {
  /** The provider's name under `providers`. */
  readonly name: string;
  readonly baseUrl: string;
  /** null when the endpoint needs no key. Secret: never log it. */
  readonly apiKey: string | null;
  readonly timeoutMs: number;
  readonly maxRetries: number;
}

/** How much history goes into one model request. */
export interface WindowConfig {
  /** Most turns kept (1 turn = user message + reply), >= 1. */
  readonly maxTurns: number;
  /** Token budget of the whole request (system prompt + summary + turns + new message), >= 256. */
  readonly maxTokens: number;
  /** The running summary of the turns that left the window; null: off (they are forgotten). */
  readonly summary: SummaryConfig | null;
}

/** How the turns that leave the window are summarised (see the schema's `window.summary`). */
export interface SummaryConfig {
  /** Where the summary requests go: the bot's provider unless `summary.provider` names another. */
  readonly provider: ProviderConfig;
  /** The summary model: the bot's unless `summary.model` is set. */
  readonly model: string;
  /** Most tokens of the summary (the summary call's reply limit). */
  readonly maxTokens: number;
  /** The summary model's instructions (the built-in DEFAULT_SUMMARY_PROMPT unless set). */
  readonly prompt: string;
}

/** Texts users see when something cannot be answered. */
export interface RepliesConfig {
  readonly modelError: string;
  readonly storageError: string;
  /** May hold `{userId}`. */
  readonly notAllowed: string;
  readonly nonText: string;
  readonly reset: string;
  /** Sent after a reply whose turn could not be stored. */
  readonly storeFailed: string;
  /** Sent before the answer when the stored conversation was unreadable. */
  readonly historyLost: string;
  /** For a message that did not fit in its conversation's waiting list (not read). */
  readonly busy: string;
  /** Appended to a streamed reply cut off after part of it was shown. */
  readonly cutOff: string;
}

/** Who may talk to a bot: sender in `users` or chat in `chats`; both null = everyone. */
export interface AccessConfig {
  readonly users: readonly number[] | null;
  readonly chats: readonly number[] | null;
}

/** Group chat behaviour. */
export interface GroupsConfig {
  readonly reply: 'mention' | 'always' | 'never';
  readonly memory: 'chat' | 'user';
}

/** How a bot reaches the Bot API. */
export interface TelegramConfig {
  readonly apiRoot: string;
  /** Most updates handled at once (one at a time per conversation). */
  readonly maxConcurrentUpdates: number;
  /** Most messages of one conversation waiting for their turn; beyond: `replies.busy`. */
  readonly maxWaitingPerConversation: number;
  /** Most updates waiting for their turn over the whole bot; beyond: fetching pauses. */
  readonly maxWaitingUpdates: number;
  /** How long a streamed reply collects text before it is first shown, in ms. */
  readonly firstMessageDelayMs: number;
  /** Shortest time between two updates of a streamed reply in a private chat, in ms. */
  readonly editIntervalMs: number;
  /** The same in a group, in ms. */
  readonly groupEditIntervalMs: number;
}

/** How a reply shows while the model writes it (see the schema's `streaming`). */
export type StreamingMode = 'off' | 'edit' | 'draft';
/** How the model's text is shown (see the schema's `formatting`). */
export type FormattingMode = 'markdown' | 'plain';
/** What becomes of messages sent while the bot answers (see the schema's `queue`). */
export type QueueMode = 'sequential' | 'collect';

/** One enabled bot, fully resolved. */
export interface BotConfig {
  /** The key under `bots`: stable, safe in storage keys. */
  readonly id: string;
  /** Secret: never log it (see maskToken). */
  readonly token: string;
  readonly provider: ProviderConfig;
  readonly model: string;
  readonly systemPrompt: string;
  readonly window: WindowConfig;
  /** null: not sent. */
  readonly temperature: number | null;
  /** null: not sent. */
  readonly maxReplyTokens: number | null;
  readonly greeting: string;
  readonly replies: RepliesConfig;
  readonly access: AccessConfig;
  readonly groups: GroupsConfig;
  readonly streaming: StreamingMode;
  readonly formatting: FormattingMode;
  readonly telegram: TelegramConfig;
  /** Messages a conversation sends while the bot answers it: one turn each, or joined. */
  readonly queue: QueueMode;
}

/** The whole resolved fleet. */
export interface FleetConfig {
  /** The config file's path as the user gave it (used in messages). */
  readonly file: string;
  readonly storage: StorageConfig;
  /** The HTTP server; undefined when `server.port` is not set (no server). */
  readonly server: ServerConfig | undefined;
  /** Every declared provider, used or not, by name. */
  readonly providers: ReadonlyMap<string, ProviderConfig>;
  /** Enabled bots, in file order. */
  readonly bots: readonly BotConfig[];
  /** Ids of bots with `enabled: false`, in file order. */
  readonly disabledBotIds: readonly string[];
}
