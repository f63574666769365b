/**
 * A fake OpenAI-compatible API on 127.0.0.1 for tests and benchmarks: `POST /v1/chat/completions`
 * (JSON and SSE streaming), `GET /v1/models`, every request recorded with timestamps, scripted
 * replies, latency and failure injection. Another process drives it over HTTP under `/__fake/`
 * (see `openai-control.ts`).
 *
 * A reply is chosen in this order: a matching `failNext` rule, then the `enqueueReply` queue
 * (FIFO), then the `setReply` function or value, then the default `echo: <last user message>`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { closeServer, delay, listen, readBody, sendJson, sendRaw } from './http-util.js';
import { handleOpenAIControl } from './openai-control.js';
import {
  approxTokens,
  type CompletionMeta,
  chunkBody,
  completionBody,
  echoReply,
  errorBody,
  messagesOf,
  promptTokens,
  splitIntoChunks,
  usage,
} from './openai-replies.js';
import type {
  FakeOpenAIOptions,
  OpenAIFailure,
  RecordedRequest,
  ReplyFunction,
  RequestOutcome,
  ScriptedReply,
} from './openai-types.js';
import { createRecordLog, type WaitOptions } from './record-log.js';

const CHAT_PATH = '/v1/chat/completions';

/** The running fake; see the module comment. */
export interface FakeOpenAI {
  /** `http://127.0.0.1:PORT/v1`, for the SDK's `baseURL` / `providers.*.baseUrl`. */
  readonly baseUrl: string;
  /** `performance.timeOrigin` of this process: epoch ms = `timeOrigin + at`. */
  readonly timeOrigin: number;
  /** Recorded `POST /v1/chat/completions` requests, oldest first. */
  requests(): readonly RecordedRequest[];
  /** Every recorded request (any path) with `seq >= since`, oldest first. */
  requestsSince(since: number): readonly RecordedRequest[];
  /** The latest chat completion request, if any. */
  lastRequest(): RecordedRequest | undefined;
  /** The seq the next recorded request will get. */
  nextSeq(): number;
  /** Sets the reply for every later request without a queued one (undefined = default echo). */
  setReply(reply: ScriptedReply | ReplyFunction | undefined): void;
  /** Queues replies used one per request, before `setReply`'s. */
  enqueueReply(...replies: readonly ScriptedReply[]): void;
  /** Ms before answering requests for `model` (all models when omitted); 0 removes. */
  setLatency(ms: number, model?: string): void;
  /** Makes the next `failure.times` (default 1) matching chat requests fail as described. */
  failNext(failure: OpenAIFailure): void;
  /** Chat requests being answered right now (delays and holds included). */
  inFlight(): number;
  /** Resolves with the first chat request (recorded or future, `seq >= since`) matching
   * `predicate` (default any); rejects after `timeoutMs` (default 5000). */
  waitForRequest(predicate?: (request: RecordedRequest) => boolean, options?: WaitOptions): Promise<RecordedRequest>;
  /** Resolves with all chat requests once there are at least `count`; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly RecordedRequest[]>;
  /** Resolves once the request's `outcome` is set; rejects after `timeoutMs` (default 5000). */
  waitForOutcome(request: RecordedRequest, timeoutMs?: number): Promise<RequestOutcome>;
  /** Calls `listener` for every request recorded from now on; returns the unsubscribe function. */
  onRequest(listener: (request: RecordedRequest) => void): () => void;
  /** Forgets recorded requests (seqs keep counting), queued replies and failure rules. */
  clear(): void;
  /** Stops the server, drops held requests and rejects pending waits. */
  close(): Promise<void>;
}

interface FailureRule {
  readonly failure: OpenAIFailure;
  remaining: number;
}

interface Answer {
  readonly content: string;
  readonly delayMs: number;
  readonly chunks: readonly string[] | undefined;
  readonly chunkDelayMs: number;
  readonly finishReason: 'stop' | 'length' | 'content_filter';
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly stallAfterChunks: number | undefined;
}

/** Starts a fake OpenAI API on 127.0.0.1 (port 0 unless `options.port`). */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const models = options.models ?? ['gpt-4o-mini', 'gpt-4.1-mini', 'gpt-4o'];
  const log = createRecordLog<RecordedRequest>();
  let chatRequests: RecordedRequest[] = [];
  let queue: ScriptedReply[] = [];
  let queueHead = 0;
  let failures: FailureRule[] = [];
  let reply: ScriptedReply | ReplyFunction | undefined;
  const latency = new Map<string, number>(); // model ('' = all) → ms
  const outcomeWaiters = new Map<RecordedRequest, Set<() => void>>();
  const hanging = new Set<RecordedRequest>();
  let inFlight = 0;
  let counter = 0;
  const idPrefix = randomBytes(8).toString('hex'); // unique per fake; the counter makes ids unique within it

  const settle = (request: RecordedRequest, outcome: Omit<RequestOutcome, 'endedAt'>): void => {
    if (request.outcome !== undefined) return;
    request.outcome = { ...outcome, endedAt: performance.now() };
    for (const wake of outcomeWaiters.get(request) ?? []) wake();
    outcomeWaiters.delete(request);
  };

  const latencyFor = (model: string | undefined): number =>
    latency.get(model ?? '') ?? latency.get('') ?? options.latencyMs ?? 0;

  async function chooseAnswer(request: RecordedRequest): Promise<Answer> {
    let scripted: ScriptedReply | undefined;
    if (queueHead < queue.length) {
      scripted = queue[queueHead++];
      if (queueHead === queue.length) {
        queue = [];
        queueHead = 0;
      }
    } else if (typeof reply === 'function') scripted = await reply(request);
    else scripted = reply;
    const spec = typeof scripted === 'string' ? { content: scripted } : (scripted ?? {});
    let content = spec.content ?? echoReply(request.body);
    let finishReason = spec.finishReason ?? 'stop';
    const maxTokens = request.body?.max_completion_tokens ?? request.body?.max_tokens;
    if (spec.finishReason === undefined && typeof maxTokens === 'number' && approxTokens(content) > maxTokens) {
      content = content.slice(0, Math.max(1, maxTokens) * 4);
      finishReason = 'length';
    }
    return {
      content,
      delayMs: spec.delayMs ?? latencyFor(request.model),
      chunks: spec.chunks,
      chunkDelayMs: spec.chunkDelayMs ?? options.streamChunkDelayMs ?? 0,
      finishReason,
      promptTokens: spec.usage?.promptTokens ?? promptTokens(request.body),
      completionTokens: spec.usage?.completionTokens ?? approxTokens(content),
      stallAfterChunks: spec.stallAfterChunks,
    };
  }

  function takeFailure(model: string | undefined): OpenAIFailure | undefined {
    const rule = failures.find((r) => r.remaining > 0 && (r.failure.model === undefined || r.failure.model === model));
    if (rule === undefined) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) failures = failures.filter((r) => r !== rule);
    return rule.failure;
  }

  function headersFor(request: RecordedRequest): Record<string, string> {
    return {
      'x-request-id': request.requestId,
      'openai-processing-ms': String(Math.round(performance.now() - request.at)),
      'openai-version': '2020-10-01',
    };
  }

  function sendError(
    res: ServerResponse,
    request: RecordedRequest,
    status: number,
    body: unknown,
    injected: boolean,
    extra: Record<string, string> = {},
  ): void {
    const firstByteAt = performance.now();
    if (typeof body === 'string') sendRaw(res, status, body, 'text/plain');
    else sendJson(res, status, body, { ...headersFor(request), ...extra });
    settle(request, { status, kind: 'error', content: undefined, firstByteAt, aborted: false, injected });
  }

  function writeFailure(
    req: IncomingMessage,
    res: ServerResponse,
    request: RecordedRequest,
    failure: OpenAIFailure,
    meta: CompletionMeta,
  ): void {
    const kind = failure.kind ?? 'status';
    const firstByteAt = performance.now();
    const base = { content: undefined, firstByteAt, aborted: false, injected: true } as const;
    if (kind === 'hang') {
      hanging.add(request); // held until the client aborts or close() drops it
      return;
    }
    if (kind === 'drop') {
      settle(request, { ...base, status: 0, kind, firstByteAt: undefined });
      req.socket.destroy();
      return;
    }
    if (kind === 'status') {
      const status = failure.status ?? 500;
      const body =
        failure.body ??
        errorBody(status, meta.model, {
          ...(failure.message !== undefined && { message: failure.message }),
          ...(failure.code !== undefined && { code: failure.code }),
          ...(failure.type !== undefined && { type: failure.type }),
        });
      const retry: Record<string, string> =
        failure.retryAfterSeconds === undefined ? {} : { 'retry-after': String(failure.retryAfterSeconds) };
      sendError(res, request, status, body, true, retry);
      return;
    }
    if (kind === 'missing-choices') {
      sendJson(
        res,
        200,
        { id: meta.id, object: 'chat.completion', created: meta.created, model: meta.model },
        headersFor(request),
      );
    } else if (request.stream) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        ...headersFor(request),
      });
      const first = `data: ${JSON.stringify(chunkBody(meta, { role: 'assistant', content: failure.partialContent ?? '' }, null, false))}\n\n`;
      if (kind === 'cut') {
        // The chunk goes out first, then the connection breaks, as a proxy resetting it halfway.
        res.write(first, () => setTimeout(() => res.socket?.destroy(), 20));
        settle(request, { ...base, status: 200, kind });
        return;
      }
      res.write(first);
      res.end(
        kind === 'truncated'
          ? undefined
          : kind === 'malformed'
            ? 'data: {"id": "chatcmpl-broken", "choices": [\n\n'
            : `data: ${JSON.stringify(errorBody(500, meta.model))}\n\n`,
      );
    } else if (kind === 'malformed') {
      sendRaw(res, 200, '{"id": "chatcmpl-broken", "object": "chat.completion", "choices": [', 'application/json');
    } else {
      sendError(res, request, 500, errorBody(500, meta.model), true);
      return;
    }
    settle(request, { ...base, status: 200, kind });
  }

  async function stream(
    res: ServerResponse,
    request: RecordedRequest,
    meta: CompletionMeta,
    answer: Answer,
  ): Promise<void> {
    const includeUsage =
      (request.body?.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      ...headersFor(request),
    });
    const firstByteAt = performance.now();
    const write = (payload: unknown): void => void res.write(`data: ${JSON.stringify(payload)}\n\n`);
    write(chunkBody(meta, { role: 'assistant', content: '', refusal: null }, null, includeUsage));
    const chunks = answer.chunks ?? splitIntoChunks(answer.content);
    let sent = '';
    for (const [i, piece] of chunks.entries()) {
      if (answer.stallAfterChunks !== undefined && i >= answer.stallAfterChunks) return; // hold until the client aborts
      if (res.destroyed) return;
      write(chunkBody(meta, { content: piece }, null, includeUsage));
      sent += piece;
      if (answer.chunkDelayMs > 0) await delay(answer.chunkDelayMs);
    }
    if (res.destroyed) return;
    write(chunkBody(meta, {}, answer.finishReason, includeUsage));
    if (includeUsage)
      write(chunkBody(meta, undefined, null, true, usage(answer.promptTokens, answer.completionTokens)));
    res.end('data: [DONE]\n\n');
    settle(request, { status: 200, kind: 'reply', content: sent, firstByteAt, aborted: false, injected: false });
  }

  function authError(request: RecordedRequest): unknown {
    if (options.apiKey === undefined || request.apiKey === options.apiKey) return undefined;
    if (request.apiKey !== undefined) return errorBody(401, request.model ?? '');
    const message =
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
    return errorBody(401, request.model ?? '', { message, code: null });
  }

  function validate(request: RecordedRequest): { status: number; body: unknown } | undefined {
    const model = request.model ?? '';
    if (request.body === undefined) {
      return {
        status: 400,
        body: errorBody(400, model, {
          message: 'We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.',
        }),
      };
    }
    if (request.model === undefined)
      return { status: 400, body: errorBody(400, model, { message: 'you must provide a model parameter' }) };
    if (messagesOf(request.body).length === 0) {
      return {
        status: 400,
        body: errorBody(400, model, {
          message: "Missing required parameter: 'messages'.",
          code: 'missing_required_parameter',
        }),
      };
    }
    if (options.strictModels === true && !models.includes(model)) return { status: 404, body: errorBody(404, model) };
    const prompt = promptTokens(request.body);
    if (options.contextWindowTokens !== undefined && prompt > options.contextWindowTokens) {
      const message = `This model's maximum context length is ${options.contextWindowTokens} tokens. However, your messages resulted in ${prompt} tokens. Please reduce the length of the messages.`;
      return { status: 400, body: errorBody(400, model, { message, code: 'context_length_exceeded' }) };
    }
    return undefined;
  }

  async function chat(req: IncomingMessage, res: ServerResponse, request: RecordedRequest): Promise<void> {
    const meta: CompletionMeta = {
      id: `chatcmpl-fake${request.seq}`,
      created: Math.floor(Date.now() / 1000),
      model: request.model ?? 'unknown',
    };
    const invalid = validate(request);
    if (invalid !== undefined) {
      sendError(res, request, invalid.status, invalid.body, false);
      return;
    }
    const failure = takeFailure(request.model);
    if (failure !== undefined) {
      // A failing request leaves the reply queue alone: the queued reply goes to the next one.
      const wait = latencyFor(request.model);
      if (wait > 0) await delay(wait);
      if (!res.destroyed) writeFailure(req, res, request, failure, meta);
      return;
    }
    const answer = await chooseAnswer(request);
    if (answer.delayMs > 0) await delay(answer.delayMs);
    if (res.destroyed) return;
    if (request.stream) {
      await stream(res, request, meta, answer);
      return;
    }
    const body = completionBody(
      meta,
      answer.content,
      answer.finishReason,
      usage(answer.promptTokens, answer.completionTokens),
    );
    const firstByteAt = performance.now();
    sendJson(res, 200, body, headersFor(request));
    settle(request, {
      status: 200,
      kind: 'reply',
      content: answer.content,
      firstByteAt,
      aborted: false,
      injected: false,
    });
  }

  async function onApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const raw = await readBody(req);
    let body: Record<string, unknown> | undefined;
    try {
      const parsed = raw === '' ? undefined : (JSON.parse(raw) as unknown);
      body =
        parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
          ? (parsed as Record<string, unknown>)
          : undefined;
    } catch {
      // Not JSON: recorded with `body` undefined and answered 400 by validate(), as OpenAI does.
      body = undefined;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
    const at = performance.now();
    const isChat = req.method === 'POST' && url.pathname === CHAT_PATH;
    const request = log.append((seq) => {
      const record: RecordedRequest = {
        seq,
        method: req.method ?? 'GET',
        path: url.pathname,
        body,
        headers,
        apiKey: bearer,
        model: typeof body?.model === 'string' ? body.model : undefined,
        stream: body?.stream === true,
        requestId: `req_${idPrefix}${(++counter).toString(16).padStart(8, '0')}`,
        at,
        wallAt: Date.now(),
        outcome: undefined,
      };
      if (isChat) chatRequests.push(record); // before listeners run, so waiters see it counted
      return record;
    });
    res.on('close', () => {
      if (res.writableFinished) return;
      const hung = hanging.delete(request);
      settle(request, {
        status: 0,
        kind: hung ? 'hang' : 'aborted',
        content: undefined,
        firstByteAt: undefined,
        aborted: true,
        injected: hung,
      });
    });
    const denied = authError(request);
    if (denied !== undefined) {
      sendError(res, request, 401, denied, false);
      return;
    }
    if (isChat) {
      inFlight += 1;
      res.on('close', () => {
        inFlight -= 1;
      });
      await chat(req, res, request);
      return;
    }
    const modelId = /^\/v1\/models\/(.+)$/.exec(url.pathname)?.[1];
    const model = (id: string): Record<string, unknown> => ({
      id,
      object: 'model',
      created: 1_700_000_000,
      owned_by: 'fake',
    });
    if (req.method === 'GET' && url.pathname === '/v1/models')
      sendJson(res, 200, { object: 'list', data: models.map(model) }, headersFor(request));
    else if (req.method === 'GET' && modelId !== undefined && models.includes(decodeURIComponent(modelId)))
      sendJson(res, 200, model(decodeURIComponent(modelId)), headersFor(request));
    else {
      const message = modelId === undefined ? `Invalid URL (${req.method ?? 'GET'} ${url.pathname})` : undefined;
      sendError(
        res,
        request,
        404,
        errorBody(404, decodeURIComponent(modelId ?? ''), message === undefined ? {} : { message, code: null }),
        false,
      );
      return;
    }
    settle(request, {
      status: 200,
      kind: 'reply',
      content: undefined,
      firstByteAt: performance.now(),
      aborted: false,
      injected: false,
    });
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const task = url.pathname.startsWith('/__fake/') ? handleOpenAIControl(fake, req, res, url) : onApi(req, res, url);
    task.catch((error: unknown) => {
      // A broken request (body too large, reply function threw) must not take the fake down:
      // answer 500 when still possible so the failing test sees why.
      sendJson(res, 500, {
        error: { message: `fake OpenAI error: ${String(error)}`, type: 'server_error', param: null, code: null },
      });
    });
  });
  const port = await listen(server, options.port ?? 0);

  const fake: FakeOpenAI = {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    timeOrigin: performance.timeOrigin,
    requests: () => chatRequests,
    requestsSince: (since) => log.since(since),
    lastRequest: () => chatRequests.at(-1),
    nextSeq: () => log.nextSeq(),
    setReply: (next) => {
      reply = next;
    },
    enqueueReply: (...replies) => void queue.push(...replies),
    setLatency: (ms, model) => void (ms > 0 ? latency.set(model ?? '', ms) : latency.delete(model ?? '')),
    failNext: (failure) => void failures.push({ failure, remaining: failure.times ?? 1 }),
    inFlight: () => inFlight,
    waitForRequest: (predicate = () => true, waitOptions) =>
      log.waitFor((r) => r.path === CHAT_PATH && r.method === 'POST' && predicate(r), {
        what: 'a chat completion request',
        ...waitOptions,
      }),
    async waitForRequests(count, timeoutMs = 5000) {
      if (chatRequests.length < count) {
        await log.waitFor((r) => r.path === CHAT_PATH && chatRequests.length >= count, {
          timeoutMs,
          since: log.nextSeq(),
          what: `${count} chat completion request(s)`,
        });
      }
      return chatRequests;
    },
    waitForOutcome(request, timeoutMs = 5000) {
      if (request.outcome !== undefined) return Promise.resolve(request.outcome);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out after ${timeoutMs} ms waiting for the answer to request ${request.seq}`)),
          timeoutMs,
        );
        let set = outcomeWaiters.get(request);
        if (set === undefined) {
          set = new Set();
          outcomeWaiters.set(request, set);
        }
        set.add(() => {
          clearTimeout(timer);
          resolve(request.outcome as RequestOutcome);
        });
      });
    },
    onRequest: (listener) => log.onAppend(listener),
    clear() {
      log.clear();
      chatRequests = [];
      queue = [];
      queueHead = 0;
      failures = [];
    },
    async close() {
      log.abortWaiters(new Error('fake OpenAI closed'));
      await closeServer(server);
    },
  };
  return fake;
}
