/**
 * A grammY API transformer that retries calls which failed on the network (grammY's
 * HttpError) a few times with backoff. 429 and 5xx are auto-retry's job (api-setup.ts; a 5xx
 * is not retried for the calls `showsTheUser` names, for the same reason as below); getUpdates is left
 * to the runner's supervisor, which has its own backoff and logging.
 *
 * A call that shows the user something (sendMessage, sendPhoto, forwardMessage, copyMessage…)
 * is retried only when the failure proves the request never reached Telegram (connection
 * refused, name not resolved, network unreachable). After any other failure (connection reset,
 * timeout) Telegram may already have delivered it, and a retry could show it twice: botfleet
 * prefers a reply lost (and logged) to a reply sent twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError, type Transformer } from 'grammy';
import { NETWORK_RETRY_ATTEMPTS, NETWORK_RETRY_INITIAL_MS } from '../defaults.js';

/** Error codes (as node-fetch reports them) meaning no byte of the request reached the server. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/** Retries network failures of every method but getUpdates: `attempts` more tries, waiting
 * `initialMs`, then twice as long each time; calls that show the user something only when the
 * request never left (see the module comment). Aborting the call's signal ends the waits. */
export function retryNetworkErrors(
  attempts = NETWORK_RETRY_ATTEMPTS,
  initialMs = NETWORK_RETRY_INITIAL_MS,
): Transformer {
  return async (prev, method, payload, signal) => {
    let delayMs = initialMs;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await prev(method, payload, signal);
      } catch (error) {
        if (!retryable(error, method) || attempt >= attempts || signal?.aborted) throw error;
        await sleep(delayMs, undefined, signal === undefined ? {} : { signal: signal as unknown as AbortSignal });
        delayMs *= 2;
      }
    }
  };
}

/** True when repeating `method` after `error` is safe and may help. */
function retryable(error: unknown, method: string): boolean {
  if (!(error instanceof HttpError) || method === 'getUpdates') return false;
  if (!showsTheUser(method)) return true;
  const code = (error.error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && NEVER_SENT.has(code);
}

/** Methods whose repetition the user would see: they post a new message each time. */
export function showsTheUser(method: string): boolean {
  return /^(send|forward|copy)/.test(method) && method !== 'sendChatAction' && method !== 'sendMessageDraft';
}
