/**
 * What the message handlers depend on: narrow memory and model interfaces (not Keyv, not the
 * SDK), the live config and the shutdown signal.
 */
import type { BotConfig, WindowConfig } from '../config/types.js';
import type { ChatMessage, LlmClient } from '../llm/llm-client.js';
import type { Logger } from '../logger.js';
import type { ConversationKey } from '../memory/keys.js';

/** One stored exchange, as the handlers need it. */
export interface StoredTurn {
  readonly user: string;
  readonly assistant: string;
  readonly updateId?: number;
}

/** A conversation as the handlers need it before answering. */
export interface MemoryState {
  readonly turns: readonly StoredTurn[];
  /** Every update id already answered in this conversation. */
  readonly answered: readonly number[];
  /** Set when the stored history could not be read and was set aside: it starts empty. */
  readonly lost?: { readonly corruptKey: string };
}

/** The memory operations a bot uses. Every method throws on a storage failure. */
export interface MemoryPort {
  read(ref: ConversationKey): Promise<MemoryState>;
  append(
    ref: ConversationKey,
    turn: StoredTurn & { userAt: number; assistantAt: number },
    options: { keepTurns: number },
  ): Promise<void>;
  /** Records an update answered without a stored turn. */
  markAnswered(ref: ConversationKey, updateId: number): Promise<void>;
  /** Clears the turns; the answered updates (and `updateId`) stay answered. */
  reset(ref: ConversationKey, updateId: number): Promise<void>;
  /** True the first time `botId` refuses `subjectId`, false after (remembered in the store). */
  claimRefusal(botId: string, subjectId: number, updateId: number): Promise<boolean>;
}

/** Builds one model request: the system prompt, the turns that fit the window, the message. */
export type BuildWindow = (input: {
  systemPrompt: string;
  turns: readonly StoredTurn[];
  userText: string;
  window: WindowConfig;
}) => readonly ChatMessage[];

/** What the handlers are given. `config` is read per message, so a live reload applies to the
 * next message; `signal` aborts in-flight model calls at the shutdown deadline. */
export interface HandlerDeps {
  readonly config: () => BotConfig;
  readonly memory: MemoryPort;
  readonly buildWindow: BuildWindow;
  readonly llmFor: (config: BotConfig) => LlmClient;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** How often "typing…" is re-sent while the model works, in ms. Default DEFAULT_TYPING_INTERVAL_MS. */
  readonly typingIntervalMs?: number;
  /** Given work that outlives its update's runner slot (messages waiting for their
   * conversation's turn, and their answers); never rejects. Shutdown waits for it. */
  readonly track?: (work: Promise<void>) => void;
}
