/**
 * A fake Telegram Bot API on 127.0.0.1 for tests and benchmarks: `POST {apiRoot}/bot{token}/{method}`
 * for any number of registered tokens, a real long-poll `getUpdates` with offsets, every call
 * recorded with timestamps, Telegram's validation and wording, failure injection, and (when
 * asked for) Telegram's flood limits (telegram-flood.ts).
 * Tests drive it in-process; another process drives it over HTTP under `/__fake/`
 * (see `telegram-control.ts`).
 *
 * Ordering: a call is recorded (and `onCall` listeners run) as soon as its body is read, before
 * any injected delay or failure; its `outcome` is filled in when the answer is written.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Update } from 'grammy/types';
import { closeServer, delay, listen, parseParams, readBody, sendJson, sendRaw } from './http-util.js';
import { createRecordLog, type WaitOptions } from './record-log.js';
import { type BotState, createBotState, type FailureRule, type Poller } from './telegram-bot-state.js';
import { handleControl } from './telegram-control.js';
import { CONFLICT_POLL, CONFLICT_WEBHOOK, failureBody } from './telegram-failures.js';
import { createFloodGate, type FloodGate, type FloodLimits, floodChatOf } from './telegram-flood.js';
import { allowedUpdatesOf, METHODS, type MethodOutcome } from './telegram-methods.js';
import type {
  ApiResponse,
  BotProfile,
  FakeTelegramOptions,
  RecordedCall,
  SendTextOptions,
  SentMessage,
  TelegramFailure,
  UpdateInput,
  UpdateTiming,
} from './telegram-types.js';
import type { FakeMessage } from './telegram-updates.js';
import { buildChat, buildTextMessage, buildUser, topicCreatedMessage, unixNow } from './telegram-updates.js';

/** Re-exported: the 409 descriptions tests compare against. */
export { CONFLICT_POLL, CONFLICT_WEBHOOK } from './telegram-failures.js';

/** Options for `waitForSent`. */
export interface WaitForSentOptions {
  readonly token?: string;
  readonly chatId?: number;
  /** Default 5000. */
  readonly timeoutMs?: number;
}

/** The running fake; see the module comment. */
export interface FakeTelegram {
  /** `http://127.0.0.1:PORT`, for grammY's `client.apiRoot` (no trailing slash). */
  readonly apiRoot: string;
  /** `performance.timeOrigin` of this process: epoch ms = `timeOrigin + at`. */
  readonly timeOrigin: number;
  /** Registers `token` ("<digits>:<secret>"); returns the bot's user id. Throws on a malformed
   * token. Registering a known token again keeps its state and returns the same id. */
  addBot(token: string, profile?: BotProfile): number;
  /** Queues an update for `token` and wakes its long poll; returns the `update_id`. Throws for
   * an unknown token. */
  sendUpdate(token: string, update: UpdateInput, options?: { readonly force?: boolean }): number;
  /** Queues a user's text message (see `SendTextOptions`); returns the `update_id`. Throws for an
   * unknown token or a reply target that does not exist. */
  sendText(token: string, options: SendTextOptions): number;
  /** Recorded calls, oldest first, optionally of one token and/or one method (exact name). */
  calls(token?: string, method?: string): readonly RecordedCall[];
  /** Recorded calls with `seq >= since`, oldest first. */
  callsSince(since: number): readonly RecordedCall[];
  /** The seq the next recorded call will get (a cursor for `callsSince`/`waitForCall`). */
  nextSeq(): number;
  /** Messages sent successfully with sendMessage, oldest first, optionally of one token / chat. */
  sentMessages(token?: string, chatId?: number): readonly SentMessage[];
  /** The stored message (user's or bot's, after edits), if it exists. */
  message(token: string, chatId: number, messageId: number): FakeMessage | undefined;
  /** Timing record of an update, if it was queued. */
  updateTiming(token: string, updateId: number): UpdateTiming | undefined;
  /** Timing records of every update queued for `token`, in queueing order. */
  updateTimings(token: string): readonly UpdateTiming[];
  /** `performance.now()` when a getUpdates answer first carried the update, if one has. */
  deliveredAt(token: string, updateId: number): number | undefined;
  /** The update that delivered user message `messageId` in `chatId` (to map replies back). */
  updateIdOf(token: string, chatId: number, messageId: number): number | undefined;
  /** Queued, unconfirmed updates of `token`. */
  pendingUpdates(token: string): number;
  /** True while a getUpdates of `token` is held open. */
  isPolling(token: string): boolean;
  /** Resolves with the first call (recorded or future, `seq >= options.since`) matching
   * `predicate`; rejects after `timeoutMs` (default 5000). */
  waitForCall(predicate: (call: RecordedCall) => boolean, options?: WaitOptions): Promise<RecordedCall>;
  /** Resolves with all matching sent messages once there are at least `count`; rejects after
   * `timeoutMs` (default 5000) naming how many arrived. */
  waitForSent(count: number, options?: WaitForSentOptions): Promise<readonly SentMessage[]>;
  /** Calls `listener` for every call recorded from now on; returns the unsubscribe function. */
  onCall(listener: (call: RecordedCall) => void): () => void;
  /** Makes the next `failure.times` (default 1) calls of `method` ('*' = any) by `token`
   * ('*' = any) fail as described; rules are used in the order added. */
  failNext(token: string, method: string, failure: TelegramFailure): void;
  /** Drops every `failNext` rule not used up yet, of `token` ('*' = the rules for any token)
   * or of every token (undefined): a storm injected with `times: Infinity` ends. */
  clearFailures(token?: string): void;
  /** Delays every answer to `method` ('*' = any) by `ms` (0 removes), for `token` or all. */
  setDelay(method: string, ms: number, token?: string): void;
  /** sendMessage/sendChatAction/drafts to `chatId` answer 403 "bot was blocked by the user". */
  blockUser(token: string, chatId: number): void;
  /** Undoes `blockUser`. */
  unblockUser(token: string, chatId: number): void;
  /** Turns the flood-limit emulation on (true: Telegram's rough limits, or these) or off
   * (false); turning it on starts every count afresh. */
  setFlood(flood: boolean | FloodLimits): void;
  /** Forgets recorded calls (seqs keep counting); sent messages and timings stay. */
  clearCalls(): void;
  /** Stops the server, drops held requests and rejects pending waits. */
  close(): Promise<void>;
}

/** Starts a fake Bot API on 127.0.0.1 (port 0 unless `options.port`). */
export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const maxPollSeconds = options.maxPollSeconds ?? 50;
  const conflictOnConcurrentPoll = options.conflictOnConcurrentPoll ?? true;
  const recordGetUpdates = options.recordGetUpdates ?? true;
  const bots = new Map<string, BotState>();
  const globalFailures: FailureRule[] = [];
  const delays = new Map<string, number>();
  const log = createRecordLog<RecordedCall>();
  const index = new Map<string, RecordedCall[]>(); // keys: `t:${token}`, `m:${method}`, `tm:${token}\n${method}`
  const sentListeners = new Set<(message: SentMessage) => void>();
  const sentRejecters = new Set<(reason: Error) => void>();
  const allSent: SentMessage[] = [];
  const flushScheduled = new Set<BotState>();
  const now = (): { at: number; wallAt: number } => ({ at: performance.now(), wallAt: Date.now() });
  let floodLimits: FloodLimits | undefined;
  const floodGates = new Map<string, FloodGate>();
  const setFlood = (flood: boolean | FloodLimits | undefined): void => {
    floodLimits = flood === true ? {} : flood === false || flood === undefined ? undefined : flood;
    floodGates.clear();
  };
  setFlood(options.flood);
  /** The retry_after of a 429 for a call past the flood limits, when they are emulated. */
  const floodWait = (token: string, method: string, params: Record<string, unknown>, at: number) => {
    const chatId = floodLimits === undefined ? undefined : floodChatOf(method, params);
    if (chatId === undefined) return undefined;
    const gate = floodGates.get(token) ?? createFloodGate(floodLimits);
    floodGates.set(token, gate);
    return gate.take(chatId, at);
  };

  const requireBot = (token: string): BotState => {
    const bot = bots.get(token);
    if (bot === undefined)
      throw new Error(`fake Telegram: unknown bot token ${token.split(':')[0]}:…; call addBot first`);
    return bot;
  };
  const pushIndex = (key: string, call: RecordedCall): void => {
    const list = index.get(key);
    if (list === undefined) index.set(key, [call]);
    else list.push(call);
  };

  function write(res: ServerResponse, call: RecordedCall, status: number, body: ApiResponse, injected: boolean): void {
    call.outcome = { status, response: body, answeredAt: performance.now(), injected };
    sendJson(res, status, body);
  }
  function writeOutcome(res: ServerResponse, call: RecordedCall, outcome: MethodOutcome): void {
    if (outcome.ok) write(res, call, 200, { ok: true, result: outcome.result }, false);
    else
      write(
        res,
        call,
        outcome.status,
        { ok: false, error_code: outcome.status, description: outcome.description },
        false,
      );
  }

  function takeFailure(bot: BotState, method: string): TelegramFailure | undefined {
    for (const rules of [bot.failures, globalFailures]) {
      const rule = rules.find((r) => r.remaining > 0 && (r.method === '*' || r.method === method));
      if (rule === undefined) continue;
      rule.remaining -= 1;
      if (rule.remaining <= 0) rules.splice(rules.indexOf(rule), 1);
      return rule.failure;
    }
    return undefined;
  }

  function writeFailure(
    req: IncomingMessage,
    res: ServerResponse,
    call: RecordedCall,
    bot: BotState,
    method: string,
    failure: TelegramFailure,
  ): void {
    if (failure.hang === true) return; // held until the client aborts or close() drops it
    if (failure.dropConnection === true) {
      call.outcome = { status: 0, response: undefined, answeredAt: performance.now(), injected: true };
      req.socket.destroy();
      return;
    }
    if (failure.status === 401 && failure.permanent === true) bot.revoked = true;
    if (failure.rawBody !== undefined) {
      call.outcome = { status: failure.status, response: undefined, answeredAt: performance.now(), injected: true };
      sendRaw(res, failure.status, failure.rawBody, 'text/html');
      return;
    }
    write(res, call, failure.status, failureBody(failure, method), true);
  }

  function scheduleFlush(bot: BotState): void {
    if (bot.poller === undefined || flushScheduled.has(bot)) return;
    flushScheduled.add(bot);
    // Deferred so updates queued in the same tick leave in one getUpdates answer.
    setImmediate(() => {
      flushScheduled.delete(bot);
      const poller = bot.poller;
      if (poller !== undefined && bot.pendingCount() > 0) poller.answer(bot.take(poller.limit, now()));
    });
  }

  function getUpdates(res: ServerResponse, call: RecordedCall, bot: BotState): void {
    if (bot.webhookUrl !== '') {
      writeOutcome(res, call, { ok: false, status: 409, description: CONFLICT_WEBHOOK });
      return;
    }
    const num = (name: string): number | undefined =>
      typeof call.params[name] === 'number' ? (call.params[name] as number) : undefined;
    const limit = Math.min(100, Math.max(1, Math.trunc(num('limit') ?? 100)));
    const timeoutSeconds = Math.min(maxPollSeconds, Math.max(0, num('timeout') ?? 0));
    bot.allowedUpdates = allowedUpdatesOf(call.params) ?? bot.allowedUpdates;
    bot.confirm(Math.trunc(num('offset') ?? 0), call.at);
    const older = bot.poller;
    if (older !== undefined) {
      bot.poller = undefined;
      // Deferred one turn: a client that aborted its old poll may still have the close in flight.
      setImmediate(() => older.answer(conflictOnConcurrentPoll ? { status: 409, description: CONFLICT_POLL } : []));
    }
    if (bot.pendingCount() > 0 || timeoutSeconds === 0) {
      writeOutcome(res, call, { ok: true, result: bot.take(limit, now()) });
      return;
    }
    let released = false;
    const poller: Poller = {
      limit,
      answer(result) {
        if (released) return;
        release();
        if (Array.isArray(result)) writeOutcome(res, call, { ok: true, result });
        else writeOutcome(res, call, { ok: false, ...(result as { status: number; description: string }) });
      },
    };
    const release = (): void => {
      released = true;
      clearTimeout(timer);
      if (bot.poller === poller) bot.poller = undefined;
    };
    const timer = setTimeout(() => poller.answer([]), timeoutSeconds * 1000);
    res.on('close', () => {
      if (!released) release(); // the client aborted (e.g. runner.stop()): release the held poll
    });
    bot.poller = poller;
  }

  async function handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    token: string,
    method: string,
  ): Promise<void> {
    const raw = await readBody(req);
    const lower = method.toLowerCase();
    const bot = bots.get(token);
    let params: Record<string, unknown> = {};
    let parseError: string | undefined;
    if ((req.headers['content-type'] ?? '').startsWith('multipart/'))
      parseError = 'Bad Request: the fake Bot API accepts JSON and urlencoded bodies only';
    else {
      try {
        params = parseParams(req.headers['content-type'], raw, url.searchParams);
      } catch (error) {
        // A body that is not a JSON object becomes Telegram's 400, recorded like any call.
        parseError = `Bad Request: can't parse request JSON: ${(error as Error).message}`;
      }
    }
    const time = now();
    const build = (seq: number): RecordedCall => ({
      seq,
      token,
      botId: bot?.me.id,
      method,
      params,
      at: time.at,
      wallAt: time.wallAt,
      outcome: undefined,
    });
    const call = lower === 'getupdates' && !recordGetUpdates ? build(-1) : log.append(build);
    if (call.seq >= 0) {
      pushIndex(`t:${token}`, call);
      pushIndex(`m:${method}`, call);
      pushIndex(`tm:${token}\n${method}`, call);
    }
    if (bot === undefined || bot.revoked) {
      write(res, call, 401, { ok: false, error_code: 401, description: 'Unauthorized' }, bot !== undefined);
      return;
    }
    const failure = takeFailure(bot, lower);
    if (failure !== undefined) {
      writeFailure(req, res, call, bot, lower, failure);
      return;
    }
    const wait =
      delays.get(`${token}\n${lower}`) ??
      delays.get(`${token}\n*`) ??
      delays.get(`*\n${lower}`) ??
      delays.get('*\n*') ??
      0;
    if (wait > 0) await delay(wait);
    if (res.destroyed) return;
    if (parseError !== undefined) {
      writeOutcome(res, call, { ok: false, status: 400, description: parseError });
      return;
    }
    if (lower === 'getupdates') {
      getUpdates(res, call, bot);
      return;
    }
    const handler = METHODS.get(lower);
    if (handler === undefined) {
      writeOutcome(res, call, { ok: false, status: 404, description: 'Not Found' });
      return;
    }
    const retryAfter = floodWait(token, lower, params, performance.now());
    if (retryAfter !== undefined) {
      write(res, call, 429, failureBody({ status: 429, retryAfter }, lower), false);
      return;
    }
    const before = bot.sent.length;
    writeOutcome(res, call, handler({ bot, params, seq: call.seq, at: call.at, wallAt: call.wallAt }));
    const sent = bot.sent[before];
    if (sent === undefined) return;
    allSent.push(sent);
    for (const listener of [...sentListeners]) listener(sent);
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = /^\/bot([^/]+)\/(?:test\/)?([A-Za-z_]+)$/.exec(url.pathname);
    const task = url.pathname.startsWith('/__fake/')
      ? handleControl(fake, req, res, url)
      : route === null
        ? Promise.resolve(sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' }))
        : handleApi(req, res, url, decodeURIComponent(route[1] as string), route[2] as string);
    task.catch((error: unknown) => {
      // A broken request (body too large, client gone) must not take the fake down: answer 500
      // when still possible so the failing test sees why.
      sendJson(res, 500, { ok: false, error_code: 500, description: `fake Telegram error: ${String(error)}` });
    });
  }

  const server = createServer(onRequest);
  server.keepAliveTimeout = 65_000; // outlive grammY's keep-alive pauses between polls
  const port = await listen(server, options.port ?? 0);

  const fake: FakeTelegram = {
    apiRoot: `http://127.0.0.1:${port}`,
    timeOrigin: performance.timeOrigin,
    addBot(token, profile = {}) {
      const match = /^(\d+):[A-Za-z0-9_-]+$/.exec(token);
      if (match === null) throw new Error('fake Telegram: a token looks like "123456:ABC-def_1"');
      const existing = bots.get(token);
      if (existing !== undefined) return existing.me.id;
      const bot = createBotState(token, Number(match[1]), profile, options.firstUpdateId ?? 1);
      bots.set(token, bot);
      return bot.me.id;
    },
    sendUpdate(token, update, sendOptions) {
      const bot = requireBot(token);
      const message =
        (update as unknown as { message?: FakeMessage }).message ??
        (update as unknown as { edited_message?: FakeMessage }).edited_message;
      if (message?.chat !== undefined) {
        bot.chats.set(message.chat.id, message.chat);
        bot.putMessage(message);
      }
      const timing = bot.enqueue(update as Omit<Update, 'update_id'>, now(), sendOptions?.force === true);
      scheduleFlush(bot);
      return timing.updateId;
    },
    sendText(token, input) {
      const bot = requireBot(token);
      const user = buildUser(input);
      let chat = buildChat(input, user);
      if (chat.type === 'supergroup' && bot.chats.get(chat.id)?.is_forum === true) chat = { ...chat, is_forum: true };
      bot.chats.set(chat.id, chat);
      const date = input.date ?? unixNow();
      const replyId =
        input.replyToMessageId ??
        (input.replyToBotMessage === true
          ? (bot.lastBotMessage(chat.id, input.topicId) ?? bot.lastBotMessage(chat.id, undefined))
          : input.replyToBotMessage === false
            ? undefined
            : input.replyToBotMessage);
      if (input.replyToBotMessage === true && replyId === undefined)
        throw new Error(`fake Telegram: the bot has sent nothing to chat ${chat.id} yet`);
      let replyTo = replyId === undefined ? undefined : bot.getMessage(chat.id, replyId);
      if (replyId !== undefined && replyTo === undefined)
        throw new Error(`fake Telegram: no message ${replyId} in chat ${chat.id}`);
      if (replyTo === undefined && input.topicId !== undefined && chat.type === 'supergroup') {
        replyTo = bot.getMessage(chat.id, input.topicId) ?? topicCreatedMessage(chat, user, input.topicId, date);
        bot.putMessage(replyTo);
      }
      const message = buildTextMessage(
        { ...input, date },
        { messageId: bot.nextMessageId(chat.id), user, chat, replyTo },
      );
      return fake.sendUpdate(token, { message } as unknown as UpdateInput);
    },
    calls(token, method) {
      if (token === undefined && method === undefined) return log.since();
      const key = token === undefined ? `m:${method}` : method === undefined ? `t:${token}` : `tm:${token}\n${method}`;
      return index.get(key) ?? [];
    },
    callsSince: (since) => log.since(since),
    nextSeq: () => log.nextSeq(),
    sentMessages(token, chatId) {
      if (token === undefined) return chatId === undefined ? allSent : allSent.filter((m) => m.chatId === chatId);
      const bot = requireBot(token);
      return chatId === undefined ? bot.sent : (bot.sentByChat.get(chatId) ?? []);
    },
    message: (token, chatId, messageId) => requireBot(token).getMessage(chatId, messageId),
    updateTiming: (token, updateId) => requireBot(token).timings.get(updateId),
    updateTimings: (token) => [...requireBot(token).timings.values()],
    deliveredAt: (token, updateId) => requireBot(token).timings.get(updateId)?.deliveredAt,
    updateIdOf: (token, chatId, messageId) => requireBot(token).updateIdOf(chatId, messageId),
    pendingUpdates: (token) => requireBot(token).pendingCount(),
    isPolling: (token) => requireBot(token).poller !== undefined,
    waitForCall: (predicate, waitOptions) =>
      log.waitFor(predicate, { what: 'a matching Bot API call', ...waitOptions }),
    waitForSent(count, waitOptions = {}) {
      const matches = (m: SentMessage): boolean =>
        (waitOptions.token === undefined || m.token === waitOptions.token) &&
        (waitOptions.chatId === undefined || m.chatId === waitOptions.chatId);
      const current = (): readonly SentMessage[] => fake.sentMessages(waitOptions.token, waitOptions.chatId);
      let seen = current().length;
      if (seen >= count) return Promise.resolve(current());
      const timeoutMs = waitOptions.timeoutMs ?? 5000;
      return new Promise((resolve, reject) => {
        const listener = (m: SentMessage): void => {
          if (!matches(m) || ++seen < count) return;
          finish();
          resolve(current());
        };
        const fail = (reason: Error): void => {
          finish();
          reject(reason);
        };
        const finish = (): void => {
          clearTimeout(timer);
          sentListeners.delete(listener);
          sentRejecters.delete(fail);
        };
        const timer = setTimeout(
          () => fail(new Error(`timed out after ${timeoutMs} ms waiting for ${count} sent message(s); got ${seen}`)),
          timeoutMs,
        );
        sentListeners.add(listener);
        sentRejecters.add(fail);
      });
    },
    onCall: (listener) => log.onAppend(listener),
    failNext(token, method, failure) {
      const rule: FailureRule = {
        method: method === '*' ? '*' : method.toLowerCase(),
        failure,
        remaining: failure.times ?? 1,
      };
      if (token === '*') globalFailures.push(rule);
      else requireBot(token).failures.push(rule);
    },
    clearFailures(token) {
      if (token === undefined || token === '*') globalFailures.length = 0;
      if (token === undefined) for (const bot of bots.values()) bot.failures.length = 0;
      else if (token !== '*') requireBot(token).failures.length = 0;
    },
    setDelay(method, ms, token) {
      const key = `${token ?? '*'}\n${method === '*' ? '*' : method.toLowerCase()}`;
      if (ms > 0) delays.set(key, ms);
      else delays.delete(key);
    },
    blockUser: (token, chatId) => void requireBot(token).blocked.add(chatId),
    unblockUser: (token, chatId) => void requireBot(token).blocked.delete(chatId),
    setFlood,
    clearCalls() {
      log.clear();
      index.clear();
    },
    async close() {
      const closed = new Error('fake Telegram closed');
      log.abortWaiters(closed);
      for (const reject of [...sentRejecters]) reject(closed);
      await closeServer(server);
    },
  };
  return fake;
}
