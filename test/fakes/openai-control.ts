/**
 * HTTP control API of the fake OpenAI server, under `/__fake/`, for a process other than the
 * one running it. JSON in, JSON out; errors are `400 {"error": "..."}`. Routes:
 *
 * - `GET  /__fake/info` → `{baseUrl, timeOrigin, nextSeq, inFlight}`
 * - `GET  /__fake/requests?since=SEQ&limit=&wait=MS` → `{requests, next}`: every recorded request
 *   with seq ≥ since, at most `limit` (default 10000); `wait` holds an empty answer up to MS.
 * - `POST /__fake/reply` `{reply: ScriptedReply | null}` (null = default echo)
 * - `POST /__fake/enqueue` `{replies: ScriptedReply[]}`
 * - `POST /__fake/failNext` `{...OpenAIFailure}` (`times: null` = Infinity)
 * - `POST /__fake/latency` `{ms, model?}`
 * - `POST /__fake/clear`
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from './http-util.js';
import type { FakeOpenAI } from './openai-api.js';
import type { OpenAIFailure, ScriptedReply } from './openai-types.js';

type Json = Record<string, unknown>;

const queryNumber = (value: string | null, fallback: number): number => {
  const n = value === null || value === '' ? fallback : Number(value);
  if (!Number.isFinite(n)) throw new Error(`query value ${value} is not a number`);
  return n;
};

async function get(fake: FakeOpenAI, url: URL): Promise<Json> {
  const q = url.searchParams;
  if (url.pathname === '/__fake/info')
    return { baseUrl: fake.baseUrl, timeOrigin: fake.timeOrigin, nextSeq: fake.nextSeq(), inFlight: fake.inFlight() };
  if (url.pathname !== '/__fake/requests') throw new Error(`unknown control route GET ${url.pathname}`);
  const since = queryNumber(q.get('since'), 0);
  const wait = queryNumber(q.get('wait'), 0);
  if (wait > 0 && fake.nextSeq() <= since) {
    await fake
      .waitForRequest(() => true, { since, timeoutMs: wait })
      .then(
        () => undefined,
        () => undefined, // the wait timed out (or the fake closed): answer with what there is, i.e. nothing
      );
  }
  const requests = fake.requestsSince(since).slice(0, queryNumber(q.get('limit'), 10_000));
  const last = requests.at(-1);
  return { requests, next: last === undefined ? Math.max(since, fake.nextSeq()) : last.seq + 1 };
}

function post(fake: FakeOpenAI, path: string, body: Json): Json {
  switch (path) {
    case '/__fake/reply':
      fake.setReply((body.reply ?? undefined) as ScriptedReply | undefined);
      return {};
    case '/__fake/enqueue':
      if (!Array.isArray(body.replies)) throw new Error('"replies" must be an array');
      fake.enqueueReply(...(body.replies as ScriptedReply[]));
      return {};
    case '/__fake/failNext':
      fake.failNext({ ...body, times: body.times === null ? Infinity : body.times } as OpenAIFailure);
      return {};
    case '/__fake/latency':
      if (typeof body.ms !== 'number') throw new Error('"ms" must be a number');
      fake.setLatency(body.ms, typeof body.model === 'string' ? body.model : undefined);
      return {};
    case '/__fake/clear':
      fake.clear();
      return {};
    default:
      throw new Error(`unknown control route POST ${path}`);
  }
}

/** Serves one `/__fake/…` request against `fake`; bad input answers 400 `{error}`. */
export async function handleOpenAIControl(
  fake: FakeOpenAI,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  try {
    if (req.method === 'GET') {
      sendJson(res, 200, await get(fake, url));
      return;
    }
    const raw = await readBody(req);
    sendJson(res, 200, post(fake, url.pathname, raw === '' ? {} : (JSON.parse(raw) as Json)));
  } catch (error) {
    // Control input errors (bad JSON, missing field) are the caller's to fix: say so.
    sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
  }
}
