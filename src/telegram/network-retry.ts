/**
 * A grammY API transformer that retries calls which failed on the network (grammY's
 * HttpError) a few times with backoff. 429 and 5xx are auto-retry's job; getUpdates is left
 * to the runner's supervisor, which has its own backoff and logging.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError, type Transformer } from 'grammy';

/** Retries network failures of every method but getUpdates: `attempts` more tries, waiting
 * `initialMs`, then twice as long each time. Aborting the call's signal ends the waits. */
export function retryNetworkErrors(attempts = 3, initialMs = 500): Transformer {
  return async (prev, method, payload, signal) => {
    let delayMs = initialMs;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await prev(method, payload, signal);
      } catch (error) {
        if (!(error instanceof HttpError) || method === 'getUpdates' || attempt >= attempts || signal?.aborted)
          throw error;
        await sleep(delayMs, undefined, signal === undefined ? {} : { signal: signal as unknown as AbortSignal });
        delayMs *= 2;
      }
    }
  };
}
