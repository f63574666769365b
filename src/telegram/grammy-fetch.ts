/**
 * grammY's HTTP client without node-fetch. grammY 1.x on Node requires node-fetch (with
 * whatwg-url, tr46's mapping tables, encoding) and the abort-controller polyfill when it is
 * imported (`out/shim.node.js`, required by `out/core/client.js` at load), even for a client
 * given its own `fetch`: about 8 MB of an idle bot's resident memory. Importing this module
 * BEFORE grammY puts two small modules in their place in Node's CommonJS cache, resolved from
 * grammY's own folder so only grammY's copies are replaced:
 *
 * - node-fetch: `telegramFetch`, light-fetch.ts's keep-alive node:http(s) fetch that answers
 *   without Response (every Bot API call of every bot, and `check --online`'s getMe, on reused
 *   connections), with node-fetch's error shape where botfleet reads it (network-retry.ts
 *   reads the system error `code`);
 * - abort-controller: Node's own AbortController and AbortSignal (grammY's timeouts and the
 *   runner's stop abort the call through them; light-fetch.ts ends the request on abort).
 *
 * Imported first by app.ts and before app.js by cli.ts. Importing it after grammY changes
 * nothing (grammY keeps node-fetch); `grammyUsesLightFetch()` tells which one grammY got.
 */
import { createRequire, Module } from 'node:module';
import { type BufferedResponse, lightFetchBuffered } from '../llm/light-fetch.js';

/** lightFetchBuffered (grammY reads each answer with `json()`), failing as node-fetch does
 * where a caller looks: a network failure carries its system error code (ECONNREFUSED,
 * ECONNRESET, …) on the error itself. */
export async function telegramFetch(input: string | URL, init?: RequestInit): Promise<BufferedResponse> {
  try {
    return await lightFetchBuffered(input, init);
  } catch (error) {
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    if (typeof code === 'string' && (error as { code?: unknown }).code === undefined)
      Object.assign(error as object, { code });
    throw error;
  }
}

const requireFromGrammy = createRequire(createRequire(import.meta.url).resolve('grammy'));

/** Puts `exports` in the CommonJS cache as the module grammY resolves `name` to, unless that
 * module is loaded already. */
function provide(name: string, exports: object): boolean {
  let path: string;
  try {
    path = requireFromGrammy.resolve(name);
  } catch {
    // Handled: a grammY that no longer depends on it loads nothing to replace.
    return false;
  }
  const cache = (Module as unknown as { _cache: Record<string, unknown> })._cache;
  if (cache[path] !== undefined) return false;
  const module = new Module(path);
  Object.assign(module, { filename: path, loaded: true, exports });
  cache[path] = module;
  return true;
}

const fetchModule = Object.assign(telegramFetch.bind(undefined), { default: telegramFetch });
provide('node-fetch', fetchModule);
provide('abort-controller', {
  AbortController,
  AbortSignal,
  default: AbortController,
});

/** Whether grammY's fetch (as `out/shim.node.js` exports it) is `telegramFetch`. */
export function grammyUsesLightFetch(): boolean {
  const shim = requireFromGrammy('./shim.node.js') as { fetch?: unknown };
  return shim.fetch === telegramFetch;
}
