/**
 * What a bot's message handlers depend on, declared here by their consumer: a narrow memory
 * port (not Keyv), a model client per config (not the SDK), the live config and the shutdown
 * signal.
 */
import type { Update } from 'grammy/types';
import type { TurnStore } from '../answer/answer.js';
import type { BotMetrics } from '../answer/metrics.js';
import type { BotConfig } from '../config/types.js';
import type { LlmClient } from '../llm/llm-client.js';
import type { Logger } from '../logger.js';
import type { ConversationKey } from '../memory/keys.js';
import type { StoredSummary, Turn } from '../memory/value-format.js';
import type { FleetLane } from './fleet-limit.js';

/** A conversation as the handlers need it before answering. */
export interface MemoryState {
  /** The stored turns, oldest first. */
  readonly turns: readonly Turn[];
  /** Every update id already answered in this conversation. */
  readonly answered: readonly number[];
  /** The running summary of older turns (window.summary), if there is one. */
  readonly summary?: StoredSummary;
  /** Set when the stored history could not be read and was set aside: it starts empty. */
  readonly lost?: { readonly corruptKey: string };
}

/** The memory operations a bot uses (the answer's `append` among them). Every method throws
 * on a storage failure. */
export interface MemoryPort extends TurnStore {
  read(conversation: ConversationKey): Promise<MemoryState>;
  /** Records an update answered without a stored turn. */
  markAnswered(conversation: ConversationKey, updateId: number): Promise<void>;
  /** Clears the turns; the answered updates (and `updateId`) stay answered. */
  reset(conversation: ConversationKey, updateId: number): Promise<void>;
  /** True the first time `botId` refuses `subjectId`, false after (remembered in the store). */
  claimRefusal(botId: string, subjectId: number, updateId: number): Promise<boolean>;
}

/** What the handlers are given. `config` is read per message, so a live reload applies to the
 * next message; `signal` aborts in-flight model calls at the shutdown deadline. */
export interface HandlerDeps {
  readonly config: () => BotConfig;
  readonly memory: MemoryPort;
  readonly llmFor: (config: BotConfig) => LlmClient;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** How often "typing…" is re-sent while the model works, in ms. Default
   * DEFAULT_TYPING_INTERVAL_MS. */
  readonly typingIntervalMs?: number;
  /** Given work that outlives its update's runner slot (messages waiting for their
   * conversation's turn, and their answers); never rejects. Shutdown waits for it. */
  readonly track?: (work: Promise<void>) => void;
  /** Whether an update is a replay of the journal (an update a previous holder fetched, maybe
   * answered): it waits its turn past the conversation's bound and never gets `replies.busy`. */
  readonly isReplay?: (update: object) => boolean;
  /** Told when the bot is done with an update (its run ended before the shutdown deadline): it
   * leaves the journal of fetched updates (see UpdateOffset.settled). */
  readonly settled?: (update: Update) => void;
  /** Where updates, replies, model requests and errors are counted; none: not counted. */
  readonly metrics?: BotMetrics;
  /** This bot's lane in the fleet-wide limit on runs and waiting updates; none: per bot only. */
  readonly fleet?: FleetLane;
}
