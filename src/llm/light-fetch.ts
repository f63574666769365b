/**
 * A small `fetch` over node:http(s) with a keep-alive agent, for the openai SDK and grammY's
 * Bot API client (telegram/grammy-fetch.ts). Node's global fetch (undici) spends much of a
 * loopback call's CPU in its own machinery (request and header objects, web streams for a body
 * that is one short JSON text); this one does the HTTP with node:http and hands back a standard
 * Response around the incoming body. Only what those clients use is supported: a method,
 * headers, a string, byte or Node-stream body (grammY's file uploads), and an abort signal;
 * other `init` fields (grammY's `agent`, `compress`) are ignored.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/** Sockets kept open per host: enough for a bot's answers in flight without a handshake each. */
const MAX_FREE_SOCKETS = 64;

const httpAgent = new HttpAgent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS });

/** Headers of `init` as a plain object. */
function headersOf(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  // Headers are told by their forEach: `instanceof Headers` would load Node's fetch classes.
  if (typeof (headers as Headers).forEach === 'function' && !Array.isArray(headers))
    (headers as Headers).forEach((value, key) => {
      out[key] = value;
    });
  else if (Array.isArray(headers)) for (const [key, value] of headers) out[key as string] = value as string;
  else Object.assign(out, headers);
  return out;
}

/** The body of `init` as bytes, text or a Node stream (grammY's multipart uploads); a web
 * stream or form body is not supported (neither client sends one). */
function bodyOf(body: RequestInit['body'] | Readable): string | Uint8Array | Readable | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof Readable) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('light fetch: only string, byte and Node stream bodies are supported');
}

/** The response headers of `incoming` as Headers (repeated ones joined, set-cookie dropped). */
function responseHeaders(incoming: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(incoming.headers)) {
    if (value === undefined || key === 'set-cookie') continue;
    headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/** An AbortError like fetch's, carrying the signal's reason. */
function abortError(signal: AbortSignal): Error {
  return new DOMException(String(signal.reason ?? 'This operation was aborted'), 'AbortError');
}

/** What a response is made of, before it becomes a Response (or a BufferedResponse). */
interface Answered {
  readonly status: number;
  readonly statusText: string;
  readonly incoming: IncomingMessage;
}

/** How `send` turns an answer into its result: `whole` gets the body read in full; `stream`
 * (when given) gets a text/event-stream answer as it comes. */
interface Build<T> {
  empty(answered: Answered): T;
  whole(body: Buffer, answered: Answered): T;
  stream?(answered: Answered): T;
}

/** The HTTP exchange of lightFetch and lightFetchBuffered: see the file comment. */
function send<T>(url: URL, init: RequestInit, build: Build<T>): Promise<T> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const secure = url.protocol === 'https:';
  const body = bodyOf(init.body);
  const headers = headersOf(init.headers);
  if (body !== undefined && !(body instanceof Readable) && headers['content-length'] === undefined)
    headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  return new Promise<T>((resolve, reject) => {
    const request = (secure ? httpsRequest : httpRequest)(url, {
      method: init.method ?? 'GET',
      headers,
      agent: secure ? httpsAgent : httpAgent,
    });
    let response: IncomingMessage | undefined;
    const onAbort = (): void => {
      const error = abortError(signal as AbortSignal);
      // A body being read fails with the abort (as fetch's does), not with a reset socket.
      response?.destroy(error);
      request.destroy(error);
      reject(error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    request.once('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new TypeError('fetch failed', { cause: error }));
    });
    /** Resolves with `make()`; what it throws (a status Response refuses, say) rejects as
     * fetch's own failures do, never escaping an event listener to crash the process. */
    const answer = (make: () => T): void => {
      try {
        resolve(make());
      } catch (error) {
        response?.destroy();
        signal?.removeEventListener('abort', onAbort);
        reject(new TypeError('fetch failed', { cause: error }));
      }
    };
    request.once('response', (incoming) => {
      response = incoming;
      const status = incoming.statusCode ?? 502;
      const answered: Answered = { status, statusText: incoming.statusMessage ?? '', incoming };
      if (status < 200 || status > 599) {
        answer(() => {
          throw new RangeError(`the server answered with HTTP status ${status}, outside 200-599`);
        });
        return;
      }
      if (status === 204 || status === 304 || init.method === 'HEAD') {
        incoming.resume();
        signal?.removeEventListener('abort', onAbort);
        answer(() => build.empty(answered));
        return;
      }
      const { stream } = build;
      if (stream !== undefined && String(incoming.headers['content-type']).startsWith('text/event-stream')) {
        // A stream is read as it comes; an abort while reading ends it too.
        incoming.once('close', () => signal?.removeEventListener('abort', onAbort));
        answer(() => stream(answered));
        return;
      }
      // One JSON answer: read it whole here, without web streams.
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.once('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(new TypeError('fetch failed', { cause: error }));
      });
      incoming.once('end', () => {
        signal?.removeEventListener('abort', onAbort);
        answer(() => build.whole(Buffer.concat(chunks), answered));
      });
    });
    if (body instanceof Readable) {
      // A failing upload stream fails the call (the request ends with its error).
      body.once('error', (error) => request.destroy(error));
      body.pipe(request);
    } else request.end(body);
  });
}

/** The Response parts of an answer. */
function responseInit({ status, statusText, incoming }: Answered): ResponseInit {
  return { status, statusText, headers: responseHeaders(incoming) };
}

const toResponse: Build<Response> = {
  empty: (answered) => new Response(null, responseInit(answered)),
  whole: (body, answered) => new Response(body, responseInit(answered)),
  stream: (answered) =>
    new Response(Readable.toWeb(answered.incoming) as ReadableStream<Uint8Array>, responseInit(answered)),
};

/** `fetch` for the openai SDK: see the file comment. */
export function lightFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  if (input instanceof Request) return fetch(input, init); // never from the SDK; kept correct anyway
  return send(typeof input === 'string' ? new URL(input) : input, init, toResponse);
}

/** An answer read in full: the part of Response that a client reading JSON or text uses. */
export interface BufferedResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  /** Response headers, lower-case names (node:http's). */
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

function buffered(body: Buffer, { status, statusText, incoming }: Answered): BufferedResponse {
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText,
    headers: incoming.headers,
    body,
    text: async () => body.toString('utf8'),
    json: async () => JSON.parse(body.toString('utf8')) as unknown,
    arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
  };
}

const toBuffered: Build<BufferedResponse> = {
  empty: (answered) => buffered(Buffer.alloc(0), answered),
  whole: buffered,
};

/** lightFetch for a client that only reads whole JSON or text answers (grammY's Bot API
 * client): the same HTTP, answered without Response, Headers or web streams, which Node loads
 * (about 8 MB resident) the first time any of them is used. */
export function lightFetchBuffered(input: string | URL, init: RequestInit = {}): Promise<BufferedResponse> {
  return send(typeof input === 'string' ? new URL(input) : input, init, toBuffered);
}
