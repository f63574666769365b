/**
 * HTTP control API of the fake Bot API, under `/__fake/`, so a process other than the one
 * running the fake (a benchmark) can drive and read it. JSON in, JSON out; errors are
 * `400 {"error": "..."}`. Routes:
 *
 * - `GET  /__fake/info` → `{apiRoot, timeOrigin, nextSeq, sentCount}`
 * - `POST /__fake/bots` `{token, username?, firstName?, canReadAllGroupMessages?}` → `{id}`
 * - `POST /__fake/sendText` `{token, chatId, userId, text, ...SendTextOptions}` → `{update_id}`
 * - `POST /__fake/sendTexts` `{items: [{token, ...SendTextOptions}]}` → `{update_ids}`
 * - `POST /__fake/sendUpdate` `{token, update, force?}` → `{update_id}` (`force`: queued even when
 *   `allowed_updates` excludes its type, as updates queued before a change of it are)
 * - `GET  /__fake/calls?since=SEQ&token=&method=&limit=&wait=MS&responses=1` →
 *   `{calls, next}`: calls with seq ≥ since (filtered), at most `limit` (default 10000) examined;
 *   `next` is the cursor for the following request. With `wait`, the answer is held up to that
 *   many ms until a matching call exists. Outcome bodies are left out unless `responses=1`.
 * - `GET  /__fake/sent?after=N&token=&chatId=` → `{messages, next}`: successful sendMessage
 *   calls in the order sent, from position N (default 0) on.
 * - `GET  /__fake/timings?token=&from=UPDATE_ID` → `{timings}`
 * - `GET  /__fake/message?token=&chatId=&messageId=` → `{message}` (null when absent)
 * - `POST /__fake/failNext` `{token, method, ...TelegramFailure}` (`times: null` = Infinity)
 * - `POST /__fake/clearFailures` `{token?}`: drops the `failNext` rules not used up yet
 * - `POST /__fake/delay` `{method, ms, token?}`
 * - `POST /__fake/block` `{token, chatId, blocked?: boolean}` (default true)
 * - `POST /__fake/flood` `{on: boolean, ...FloodLimits}`: flood-limit emulation on (with
 *   those limits, else Telegram's) or off
 * - `POST /__fake/clearCalls`
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from './http-util.js';
import type { FakeTelegram } from './telegram-api.js';
import type { FloodLimits } from './telegram-flood.js';
import type { RecordedCall, SendTextOptions, TelegramFailure, UpdateInput } from './telegram-types.js';

type Json = Record<string, unknown>;

function str(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`"${name}" must be a non-empty string`);
  return value;
}

function num(value: unknown, name: string): number {
  const n = typeof value === 'string' && value !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`"${name}" must be a number`);
  return n;
}

const optNum = (value: string | null, fallback: number): number =>
  value === null || value === '' ? fallback : num(value, 'query number');

function textOptions(item: Json): SendTextOptions {
  return {
    ...item,
    chatId: num(item.chatId, 'chatId'),
    userId: num(item.userId, 'userId'),
    text: str(item.text, 'text'),
  } as SendTextOptions;
}

function callView(call: RecordedCall, withResponse: boolean): Json {
  const outcome =
    call.outcome === undefined ? undefined : withResponse ? call.outcome : { ...call.outcome, response: undefined };
  return { ...call, outcome };
}

async function get(fake: FakeTelegram, url: URL, q: URLSearchParams): Promise<Json> {
  switch (url.pathname) {
    case '/__fake/info':
      return {
        apiRoot: fake.apiRoot,
        timeOrigin: fake.timeOrigin,
        nextSeq: fake.nextSeq(),
        sentCount: fake.sentMessages().length,
      };
    case '/__fake/calls': {
      const since = optNum(q.get('since'), 0);
      const limit = optNum(q.get('limit'), 10_000);
      const token = q.get('token');
      const method = q.get('method');
      const matches = (c: RecordedCall): boolean =>
        (token === null || c.token === token) && (method === null || c.method === method);
      await waitForCalls(fake, since, optNum(q.get('wait'), 0), matches);
      const examined = fake.callsSince(since).slice(0, limit);
      const withResponse = q.get('responses') === '1';
      const calls = examined.filter(matches).map((c) => callView(c, withResponse));
      const last = examined.at(-1);
      return { calls, next: last === undefined ? Math.max(since, fake.nextSeq()) : last.seq + 1 };
    }
    case '/__fake/sent': {
      const after = optNum(q.get('after'), 0);
      const token = q.get('token') ?? undefined;
      const chatId = q.get('chatId');
      const all = fake.sentMessages(token, chatId === null ? undefined : num(chatId, 'chatId'));
      return { messages: all.slice(after), next: all.length };
    }
    case '/__fake/timings': {
      const from = optNum(q.get('from'), 0);
      return { timings: fake.updateTimings(str(q.get('token'), 'token')).filter((t) => t.updateId >= from) };
    }
    case '/__fake/message': {
      const message = fake.message(
        str(q.get('token'), 'token'),
        num(q.get('chatId'), 'chatId'),
        num(q.get('messageId'), 'messageId'),
      );
      return { message: message ?? null };
    }
    default:
      throw new Error(`unknown control route GET ${url.pathname}`);
  }
}

function waitForCalls(
  fake: FakeTelegram,
  since: number,
  waitMs: number,
  matches: (c: RecordedCall) => boolean,
): Promise<void> {
  if (waitMs <= 0) return Promise.resolve();
  return fake.waitForCall(matches, { since, timeoutMs: waitMs }).then(
    () => undefined,
    () => undefined, // the wait timed out (or the fake closed): answer with what there is, i.e. nothing
  );
}

function post(fake: FakeTelegram, path: string, body: Json): Json {
  switch (path) {
    case '/__fake/bots':
      return { id: fake.addBot(str(body.token, 'token'), body) };
    case '/__fake/sendText':
      return { update_id: fake.sendText(str(body.token, 'token'), textOptions(body)) };
    case '/__fake/sendTexts': {
      if (!Array.isArray(body.items)) throw new Error('"items" must be an array');
      return {
        update_ids: (body.items as Json[]).map((item) => fake.sendText(str(item.token, 'token'), textOptions(item))),
      };
    }
    case '/__fake/sendUpdate':
      return {
        update_id: fake.sendUpdate(str(body.token, 'token'), body.update as UpdateInput, {
          force: body.force === true,
        }),
      };
    case '/__fake/failNext': {
      const failure = {
        ...body,
        status: num(body.status, 'status'),
        times: body.times === null ? Infinity : body.times,
      } as TelegramFailure;
      fake.failNext(str(body.token, 'token'), str(body.method, 'method'), failure);
      return {};
    }
    case '/__fake/clearFailures':
      fake.clearFailures(typeof body.token === 'string' ? body.token : undefined);
      return {};
    case '/__fake/delay':
      fake.setDelay(
        str(body.method, 'method'),
        num(body.ms, 'ms'),
        typeof body.token === 'string' ? body.token : undefined,
      );
      return {};
    case '/__fake/block':
      if (body.blocked === false) fake.unblockUser(str(body.token, 'token'), num(body.chatId, 'chatId'));
      else fake.blockUser(str(body.token, 'token'), num(body.chatId, 'chatId'));
      return {};
    case '/__fake/flood': {
      const { on, ...limits } = body;
      if (typeof on !== 'boolean') throw new Error('"on" must be a boolean');
      for (const [name, value] of Object.entries(limits)) num(value, name);
      fake.setFlood(on ? (limits as FloodLimits) : false);
      return {};
    }
    case '/__fake/clearCalls':
      fake.clearCalls();
      return {};
    default:
      throw new Error(`unknown control route POST ${path}`);
  }
}

/** Serves one `/__fake/…` request against `fake`; bad input answers 400 `{error}`. */
export async function handleControl(
  fake: FakeTelegram,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  try {
    if (req.method === 'GET') {
      sendJson(res, 200, await get(fake, url, url.searchParams));
      return;
    }
    const raw = await readBody(req);
    const body = raw === '' ? {} : (JSON.parse(raw) as Json);
    sendJson(res, 200, post(fake, url.pathname, body));
  } catch (error) {
    // Control input errors (bad JSON, unknown token, missing field) are the caller's to fix: say so.
    sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
  }
}
