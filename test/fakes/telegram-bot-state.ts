/**
 * Everything the fake Bot API keeps per bot token: profile, update queue with offset
 * confirmation, chats, messages and per-chat message ids, sent messages, settings.
 * Lookups are Map-based; the queue is an array with a moving head, so confirming and
 * handing out updates cost O(updates touched).
 */
import type { Update } from 'grammy/types';
import type { BotProfile, SentMessage, TelegramFailure, UpdateTiming } from './telegram-types.js';
import type { FakeChat, FakeMessage, FakeUser } from './telegram-updates.js';
import { OPT_IN_UPDATE_TYPES, updateType } from './telegram-updates.js';

/** A `failNext` rule with its remaining count. */
export interface FailureRule {
  readonly method: string; // lower-cased, or '*'
  readonly failure: TelegramFailure;
  remaining: number;
}

/** A held `getUpdates` request. */
export interface Poller {
  readonly limit: number;
  /** Answers the poll with these updates (or an error) and releases it. */
  readonly answer: (updates: readonly Update[] | { status: number; description: string }) => void;
}

/** Per-bot state; see the module comment. */
export interface BotState {
  readonly token: string;
  readonly me: FakeUser & { readonly username: string };
  readonly canReadAllGroupMessages: boolean;
  revoked: boolean;
  webhookUrl: string;
  /** The last `allowed_updates` a getUpdates/setWebhook call set; undefined = never set. */
  allowedUpdates: readonly string[] | undefined;
  readonly blocked: Set<number>;
  readonly chats: Map<number, FakeChat>;
  readonly commands: Map<string, unknown[]>;
  readonly failures: FailureRule[];
  readonly timings: Map<number, UpdateTiming>;
  readonly sent: SentMessage[];
  readonly sentByChat: Map<number, SentMessage[]>;
  poller: Poller | undefined;
  /** Next message id in `chatId` (user and bot messages share one sequence per chat). */
  nextMessageId(chatId: number): number;
  /** Stores (or replaces) a message for later replies and edits. */
  putMessage(message: FakeMessage): void;
  getMessage(chatId: number, messageId: number): FakeMessage | undefined;
  deleteMessage(chatId: number, messageId: number): boolean;
  /** Id of the bot's latest message in the chat, in `threadId` when given. */
  lastBotMessage(chatId: number, threadId: number | undefined): number | undefined;
  /** Queues an update (assigning `update_id` when absent) unless `allowed_updates` excludes it
   * and `force` is not set (`force`: as Telegram delivers updates queued before a change of
   * `allowed_updates`). */
  enqueue(
    update: Omit<Update, 'update_id'> & { update_id?: number },
    now: { at: number; wallAt: number },
    force?: boolean,
  ): UpdateTiming;
  /** Applies a getUpdates `offset`: confirms (forgets) lower ids, or keeps the last -offset. */
  confirm(offset: number, at: number): void;
  /** Updates ready to hand out, oldest first, at most `limit`; marks them delivered. */
  take(limit: number, now: { at: number; wallAt: number }): Update[];
  /** Number of queued, unconfirmed updates. */
  pendingCount(): number;
  /** The update that carried message `messageId` of `chatId`, if one did. */
  updateIdOf(chatId: number, messageId: number): number | undefined;
  /** Drops every queued update (deleteWebhook with drop_pending_updates). */
  dropPending(at: number): void;
  /** Records a successful sendMessage. */
  recordSent(message: SentMessage): void;
}

/** Creates the state of the bot with `token` (`id` = the digits before ':'). */
export function createBotState(token: string, id: number, profile: BotProfile, firstUpdateId: number): BotState {
  const messages = new Map<string, FakeMessage>();
  const messageIds = new Map<number, number>();
  const lastBot = new Map<string, number>();
  let queue: Update[] = [];
  let head = 0;
  let nextUpdateId = firstUpdateId;
  const timings = new Map<number, UpdateTiming>();
  const updateByMessage = new Map<string, number>();
  const me = {
    id,
    is_bot: true,
    first_name: profile.firstName ?? `Bot ${id}`,
    username: profile.username ?? `bot${id}_bot`,
  };
  const key = (chatId: number, messageId: number): string => `${chatId}:${messageId}`;

  const forget = (index: number, at: number): void => {
    const update = queue[index];
    const timing = update === undefined ? undefined : timings.get(update.update_id);
    if (timing !== undefined && timing.confirmedAt === undefined) timing.confirmedAt = at;
  };
  const compact = (): void => {
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  };

  const state: BotState = {
    token,
    me,
    canReadAllGroupMessages: profile.canReadAllGroupMessages ?? false,
    revoked: false,
    webhookUrl: '',
    allowedUpdates: undefined,
    blocked: new Set(),
    chats: new Map(),
    commands: new Map(),
    failures: [],
    timings,
    sent: [],
    sentByChat: new Map(),
    poller: undefined,
    nextMessageId(chatId) {
      const next = (messageIds.get(chatId) ?? 0) + 1;
      messageIds.set(chatId, next);
      return next;
    },
    putMessage(message) {
      messages.set(key(message.chat.id, message.message_id), message);
      if (message.message_id > (messageIds.get(message.chat.id) ?? 0))
        messageIds.set(message.chat.id, message.message_id);
      if (message.from?.id === id) {
        lastBot.set(String(message.chat.id), message.message_id);
        if (message.message_thread_id !== undefined)
          lastBot.set(key(message.chat.id, message.message_thread_id), message.message_id);
      }
    },
    getMessage: (chatId, messageId) => messages.get(key(chatId, messageId)),
    deleteMessage: (chatId, messageId) => messages.delete(key(chatId, messageId)),
    lastBotMessage: (chatId, threadId) => lastBot.get(threadId === undefined ? String(chatId) : key(chatId, threadId)),
    enqueue(input, now, force = false) {
      const updateId = input.update_id ?? nextUpdateId;
      nextUpdateId = Math.max(nextUpdateId, updateId + 1);
      const update = { ...input, update_id: updateId } as Update;
      const type = updateType(update) ?? '';
      const allowed = state.allowedUpdates;
      const dropped =
        !force &&
        (allowed === undefined || allowed.length === 0 ? OPT_IN_UPDATE_TYPES.has(type) : !allowed.includes(type));
      const message = (update as unknown as { message?: FakeMessage }).message;
      const timing: UpdateTiming = {
        updateId,
        chatId: message?.chat.id,
        messageId: message?.message_id,
        queuedAt: now.at,
        queuedWallAt: now.wallAt,
        deliveredAt: undefined,
        deliveredWallAt: undefined,
        deliveries: 0,
        confirmedAt: undefined,
        dropped,
      };
      timings.set(updateId, timing);
      if (message !== undefined) updateByMessage.set(key(message.chat.id, message.message_id), updateId);
      if (!dropped) queue.push(update);
      return timing;
    },
    confirm(offset, at) {
      if (offset > 0) {
        while (head < queue.length && (queue[head] as Update).update_id < offset) forget(head++, at);
      } else if (offset < 0) {
        const keepFrom = Math.max(head, queue.length + offset);
        while (head < keepFrom) forget(head++, at);
      }
      compact();
    },
    take(limit, now) {
      const batch = queue.slice(head, head + limit);
      for (const update of batch) {
        const timing = timings.get(update.update_id);
        if (timing === undefined) continue;
        timing.deliveries += 1;
        if (timing.deliveredAt === undefined) {
          timing.deliveredAt = now.at;
          timing.deliveredWallAt = now.wallAt;
        }
      }
      return batch;
    },
    pendingCount: () => queue.length - head,
    updateIdOf: (chatId, messageId) => updateByMessage.get(key(chatId, messageId)),
    dropPending(at) {
      while (head < queue.length) forget(head++, at);
      compact();
    },
    recordSent(message) {
      state.sent.push(message);
      let list = state.sentByChat.get(message.chatId);
      if (list === undefined) {
        list = [];
        state.sentByChat.set(message.chatId, list);
      }
      list.push(message);
    },
  };
  return state;
}
