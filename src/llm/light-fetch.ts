/**
 * A small `fetch` for the openai SDK over node:http(s) with a keep-alive agent. Node's global
 * fetch (undici) spends much of a loopback call's CPU in its own machinery (request and header
 * objects, web streams for a body that is one short JSON text); this one does the HTTP with
 * node:http and hands the SDK a standard Response around the incoming body. Only what the SDK
 * uses is supported: a method, headers, a string or byte body, and an abort signal.
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
  if (headers instanceof Headers)
    headers.forEach((value, key) => {
      out[key] = value;
    });
  else if (Array.isArray(headers)) for (const [key, value] of headers) out[key as string] = value as string;
  else Object.assign(out, headers);
  return out;
}

/** The body of `init` as bytes or text; a stream body is not supported (the SDK sends none). */
function bodyOf(body: RequestInit['body']): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('light fetch: only string and byte bodies are supported');
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

/** `fetch` for the openai SDK: see the file comment. */
export function lightFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  if (input instanceof Request) return fetch(input, init); // never from the SDK; kept correct anyway
  const url = typeof input === 'string' ? new URL(input) : input;
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const secure = url.protocol === 'https:';
  const body = bodyOf(init.body);
  const headers = headersOf(init.headers);
  if (body !== undefined && headers['content-length'] === undefined)
    headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  return new Promise<Response>((resolve, reject) => {
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
    const answer = (make: () => Response): void => {
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
      const init2 = { status, statusText: incoming.statusMessage ?? '', headers: responseHeaders(incoming) };
      if (status < 200 || status > 599) {
        answer(() => {
          throw new RangeError(`the server answered with HTTP status ${status}, outside 200-599`);
        });
        return;
      }
      if (status === 204 || status === 304 || init.method === 'HEAD') {
        incoming.resume();
        signal?.removeEventListener('abort', onAbort);
        answer(() => new Response(null, init2));
        return;
      }
      if (String(incoming.headers['content-type']).startsWith('text/event-stream')) {
        // A stream is read as it comes; an abort while reading ends it too.
        incoming.once('close', () => signal?.removeEventListener('abort', onAbort));
        answer(() => new Response(Readable.toWeb(incoming) as ReadableStream<Uint8Array>, init2));
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
        answer(() => new Response(Buffer.concat(chunks), init2));
      });
    });
    request.end(body);
  });
}
