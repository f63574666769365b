/**
 * Generated from schemas/bots.schema.json by `npm run gen:types`. Do not edit by hand:
 * change the schema and regenerate; test/config/generated-types.test.ts fails on drift.
 */

/**
 * false: the bot is declared but not run (handy to pause one without deleting it).
 */
export type Enabled = boolean;
/**
 * Name of the entry under `providers` this bot's model requests go to.
 */
export type ProviderName = string;
/**
 * Model name as the provider knows it (gpt-4o-mini, llama3.2, …).
 */
export type Model = string;
/**
 * The system prompt: sent first in every model request, never stored in history, so an edit applies to the next message.
 */
export type SystemPrompt = string;
/**
 * A running summary of the turns that left the window (null, the default: off, they are forgotten). After a reply, the oldest turns beyond `maxTurns` are folded into the summary with one extra model call; it is sent after the system prompt with every request. Those turns stay stored until a summary covering them is stored. Costs one extra model call per turn that leaves the window.
 */
export type SummarySettings = {
  /**
   * Name of the entry under `providers` the summary requests go to. null: the bot's provider.
   */
  provider?: string | null;
  /**
   * Model that writes the summary. null: the bot's model.
   */
  model?: string | null;
  /**
   * Most tokens of the summary (the summary call's reply limit). The summary also counts against `window.maxTokens` and is truncated when it does not fit; `check` requires it to be at most half of `window.maxTokens`.
   */
  maxTokens: number;
  /**
   * Instructions for the summary model. null: the built-in prompt, which asks it to keep every fact, name, number, constraint and preference.
   */
  prompt?: string | null;
} | null;
/**
 * Sampling temperature, 0 to 2. null: not sent, the model's own default applies.
 */
export type Temperature = number | null;
/**
 * Most tokens the model may write in one reply. null: not sent, the model's own limit applies.
 */
export type MaxReplyTokens = number | null;
/**
 * The answer to /start.
 */
export type Greeting = string;
/**
 * How a reply shows while the model writes it: edit (a message that grows by edits, at most one per `telegram.editIntervalMs`, `telegram.groupEditIntervalMs` in groups), draft (in private chats a live draft via sendMessageDraft, then one message; elsewhere as edit), off (the whole reply sent once complete). A reply complete within `telegram.firstMessageDelayMs` is always one message.
 */
export type Streaming = 'off' | 'edit' | 'draft';
/**
 * How the model's text is shown: markdown (its Markdown rendered as Telegram formatting: bold, italic, code, links, lists, quotes, headings, tables as preformatted text) or plain (exactly as the model wrote it).
 */
export type Formatting = 'markdown' | 'plain';
/**
 * What happens to messages a conversation sends while the bot is still answering it: sequential (each answered on its own, one at a time, in order) or collect (the text messages waiting when the bot gets to them are joined, one per line, into one turn: one model call, one answer, replying to the last of them; a command is never joined and ends the collecting before it). Either way at most `telegram.maxWaitingPerConversation` wait.
 */
export type Queue = 'sequential' | 'collect';

/**
 * botfleet configuration, version 1: the bots to run, the LLM providers they use and the one memory engine they share. Any string may use ${VAR}, ${VAR:-fallback} (from the environment or .env) and $${ for a literal ${.
 */
export interface BotfleetConfigFile {
  /**
   * Version of this file's format. The only version is 1.
   */
  version: 1;
  storage?: StorageSettings;
  server?: ServerSettings;
  providers?: Providers;
  defaults?: BotDefaults;
  bots: Bots;
}
/**
 * The one memory engine every bot shares.
 */
export interface StorageSettings {
  /**
   * Where conversations are kept: sqlite://PATH (relative to the working directory; sqlite:///abs/path for an absolute one), redis://[user:pass@]host[:port][/db], rediss://… (TLS), or memory:// (lost on exit).
   */
  url?: string;
  /**
   * Prefix of every storage key, so several fleets can share one Redis.
   */
  namespace?: string;
}
/**
 * An optional HTTP server for operators: GET /healthz (alive), /readyz (storage answers and every bot polls) and /metrics (Prometheus text). Off unless `port` is set. A change takes effect after a restart of botfleet.
 */
export interface ServerSettings {
  /**
   * TCP port to listen on, e.g. 9464. null (the default): no server. 0 picks a free port (logged).
   */
  port?: number | null;
  /**
   * Address to listen on. The default keeps it on this machine; 0.0.0.0 listens on every interface (in a container, so that a Prometheus beside it can scrape it).
   */
  host?: string;
}
/**
 * OpenAI-compatible endpoints, by name. Bots pick one with `provider`.
 */
export interface Providers {
  [k: string]: ProviderSettings | undefined;
}
/**
 * An OpenAI-compatible Chat Completions endpoint (OpenAI, Ollama, LM Studio, vLLM, OpenRouter, llama.cpp …).
 */
export interface ProviderSettings {
  /**
   * Base URL of the API, up to and including /v1.
   */
  baseUrl?: string;
  /**
   * API key, sent as a Bearer token. Write it as ${VAR} so it stays out of the file. null: the endpoint needs none (typical for local servers).
   */
  apiKey?: string | null;
  /**
   * How long one model request may take, in milliseconds, before it counts as failed.
   */
  timeoutMs?: number;
  /**
   * How many times a failed model request (connection error, 408, 409, 429, 5xx) is retried, with backoff.
   */
  maxRetries?: number;
}
/**
 * Settings every bot gets unless it sets its own (objects merge key by key; a bot's own value wins). Any bot field but `token`.
 */
export interface BotDefaults {
  enabled?: Enabled;
  provider?: ProviderName;
  model?: Model;
  systemPrompt?: SystemPrompt;
  window?: WindowSettings;
  temperature?: Temperature;
  maxReplyTokens?: MaxReplyTokens;
  greeting?: Greeting;
  replies?: ReplyTexts;
  access?: AccessSettings;
  groups?: GroupSettings;
  streaming?: Streaming;
  formatting?: Formatting;
  telegram?: TelegramSettings;
  queue?: Queue;
}
/**
 * How much history each model request carries: the newest turns that fit both limits.
 */
export interface WindowSettings {
  /**
   * Most turns kept (1 turn = the user's message + the bot's reply).
   */
  maxTurns?: number;
  /**
   * Token budget of the whole request: system prompt + kept turns + the new message. A single message over the budget is truncated.
   */
  maxTokens?: number;
  summary?: SummarySettings;
}
/**
 * The short texts users see when something cannot be answered.
 */
export interface ReplyTexts {
  /**
   * Sent when the model request fails (nothing is stored; the user can send the message again).
   */
  modelError?: string;
  /**
   * Sent when the conversation memory cannot be read or written.
   */
  storageError?: string;
  /**
   * Sent once to a user outside `access` (remembered in the store per bot and user; their later messages are ignored). {userId} is replaced by their Telegram user id.
   */
  notAllowed?: string;
  /**
   * Sent for messages users send that are not text (photos, voice, stickers, documents …). Service messages (members joining, pins, topic events …) get no answer.
   */
  nonText?: string;
  /**
   * Sent after /reset (or /new) cleared the conversation.
   */
  reset?: string;
  /**
   * Sent after a reply when its turn could not be stored: the bot will not remember that exchange.
   */
  storeFailed?: string;
  /**
   * Sent before the answer when the stored conversation could not be read (it was set aside for the operator): the bot starts from an empty history.
   */
  historyLost?: string;
  /**
   * Sent, as a reply to it, for a message that arrived while too many of the same conversation were already waiting (see `telegram.maxWaitingPerConversation`): it was not read. Sent once until the bot takes the next waiting message.
   */
  busy?: string;
  /**
   * Appended to a streamed reply the model failed to finish after part of it was shown, or that shutdown cut off at its deadline; that exchange is not remembered. When nothing was shown yet, the user gets `modelError` instead.
   */
  cutOff?: string;
}
/**
 * Who may talk to the bot. A message is answered when its sender is in `users` or its chat is in `chats`; when both are null, everyone may.
 */
export interface AccessSettings {
  /**
   * Telegram user ids allowed to talk to the bot, in any chat. null: no limit by user.
   */
  users?: number[] | null;
  /**
   * Group chat ids (negative numbers) where everyone may talk to the bot. null: no limit by chat.
   */
  chats?: number[] | null;
}
/**
 * How the bot behaves in group chats.
 */
export interface GroupSettings {
  /**
   * When to answer in a group: mention (when @mentioned, replied to, or sent a /command), always (every message), never (ignore groups).
   */
  reply?: 'mention' | 'always' | 'never';
  /**
   * Whose history a group message joins: chat (one shared history per group, messages prefixed with the sender's name) or user (one history per sender).
   */
  memory?: 'chat' | 'user';
}
/**
 * How the bot reaches the Telegram Bot API.
 */
export interface TelegramSettings {
  /**
   * Root URL of the Bot API: change it for a self-hosted Bot API server.
   */
  apiRoot?: string;
  /**
   * Most updates this bot handles at once (messages of one conversation are always handled one at a time).
   */
  maxConcurrentUpdates?: number;
  /**
   * Most messages of one conversation kept waiting while the bot answers an earlier one of it. A message beyond that is not read: the user gets `replies.busy` (once until the bot catches up) and the log a warning.
   */
  maxWaitingPerConversation?: number;
  /**
   * Most updates this bot keeps waiting for their conversation's turn, over all conversations. Beyond that the bot stops fetching, so the overload waits at Telegram, not in memory.
   */
  maxWaitingUpdates?: number;
  /**
   * How long a streamed reply collects text before it is first shown, in ms: a reply complete by then is sent as one message, with no edit.
   */
  firstMessageDelayMs?: number;
  /**
   * Shortest time between two updates (edits or drafts) of a streamed reply in a private chat, in ms (Telegram allows about 1 message per second per chat).
   */
  editIntervalMs?: number;
  /**
   * Shortest time between two edits of a streamed reply in a group, in ms (Telegram allows about 20 messages per minute per group).
   */
  groupEditIntervalMs?: number;
}
/**
 * The bots to run, by id. The id is stable: it names the bot in logs and in memory keys (renaming it starts the bot with empty memory).
 */
export interface Bots {
  [k: string]: BotSettings | undefined;
}
/**
 * One Telegram bot. Fields it leaves out come from `defaults`, then from the built-in defaults.
 */
export interface BotSettings {
  /**
   * The bot's token from @BotFather. Write it as ${VAR} so it stays out of the file. Required; no two bots may share one.
   */
  token: string;
  enabled?: Enabled;
  provider?: ProviderName;
  model?: Model;
  systemPrompt?: SystemPrompt;
  window?: WindowSettings;
  temperature?: Temperature;
  maxReplyTokens?: MaxReplyTokens;
  greeting?: Greeting;
  replies?: ReplyTexts;
  access?: AccessSettings;
  groups?: GroupSettings;
  streaming?: Streaming;
  formatting?: Formatting;
  telegram?: TelegramSettings;
  queue?: Queue;
}
