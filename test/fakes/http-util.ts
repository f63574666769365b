import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** Reads a request body as UTF-8 text; rejects when it exceeds `limitBytes` (default 8 MiB). */
export function readBody(req: IncomingMessage, limitBytes = 8 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        reject(new Error(`request body larger than ${limitBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Writes `body` as a JSON response with `status`; does nothing when the client is gone. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Writes a raw text body with `status` and `contentType`; does nothing when the client is gone. */
export function sendRaw(res: ServerResponse, status: number, body: string, contentType: string): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** Starts `server` on 127.0.0.1 (port 0 = any free port) and resolves with the port it got.
 * The accept backlog is 4096 (the kernel may cap it): under benchmark bursts with a lagging
 * event loop, Node's default 511 overflows and clients see ECONNRESET. */
export function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('server has no TCP address'));
        return;
      }
      resolve(address.port);
    });
  });
}

/** Stops accepting connections, destroys open ones (held long polls included) and resolves when
 * the server is closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

/** Turns a form or query-string value into what Telegram would read: JSON-looking values
 * (numbers, booleans, objects, arrays) are parsed, everything else stays a string. */
export function decodeFormValue(value: string): unknown {
  if (/^(-?\d+(\.\d+)?|true|false|null)$/.test(value) || /^[[{]/.test(value)) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      // Not valid JSON after all (e.g. "[oops"): Telegram keeps such a value as text, so do we.
      return value;
    }
  }
  return value;
}

/** Parses request parameters from the query string and a JSON or urlencoded body.
 * Throws `Error` with a short reason for JSON that does not parse or a non-object body. */
export function parseParams(
  contentType: string | undefined,
  raw: string,
  query: URLSearchParams,
): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of query) params[key] = decodeFormValue(value);
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (raw.length === 0) return params;
  if (type === 'application/x-www-form-urlencoded') {
    for (const [key, value] of new URLSearchParams(raw)) params[key] = decodeFormValue(value);
    return params;
  }
  const parsed = JSON.parse(raw) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('request body is not a JSON object');
  }
  return Object.assign(params, parsed as Record<string, unknown>);
}

/** Resolves after `ms` milliseconds (0 or less resolves on the next macrotask). Used by the fakes
 * to simulate server latency, never by tests to wait for results. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
