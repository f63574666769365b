/**
 * How the conversation store runs its work: each task under its key's lock (in call order,
 * tracked so close can wait for it), and each backend call under a deadline, its failure
 * converted to a StoreError naming the operation, key and masked URL.
 */
import { createKeyedMutex } from './keyed-mutex.js';
import {
  describeCause,
  isTransient,
  type StoreBackend,
  StoreError,
  type StoreOperation,
  withDeadline,
} from './store-error.js';

/** What the guard and the calls need to name a failure. `url` is masked. */
export interface CallDeps {
  readonly backend: StoreBackend;
  readonly url: string;
  /** Deadline of one backend call, in ms. */
  readonly operationTimeoutMs: number;
}

/** Runs a task under its key's lock; `drain` refuses later tasks and waits for the started ones. */
export type Guard = (<T>(operation: StoreOperation, storageKey: string, task: () => Promise<T>) => Promise<T>) & {
  drain(): Promise<void>;
};

/** Runs tasks under their key's lock, tracked for drain(); refuses them once drained. */
export function createGuard({ backend, url }: CallDeps): Guard {
  const mutex = createKeyedMutex();
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  const guard = <T>(operation: StoreOperation, storageKey: string, task: () => Promise<T>): Promise<T> => {
    if (closed)
      return Promise.reject(
        new StoreError(
          { backend, operation, retryable: false, url },
          `storage ${operation} of ${storageKey} refused: the store is closed`,
        ),
      );
    const run = mutex.run(storageKey, task);
    inFlight.add(run);
    const forget = (): void => void inFlight.delete(run);
    run.then(forget, forget);
    return run;
  };
  return Object.assign(guard, {
    async drain() {
      closed = true;
      await Promise.allSettled([...inFlight]);
    },
  });
}

/** One backend call with a deadline, failures converted to StoreError. */
export type Call = <T>(operation: StoreOperation, storageKey: string, action: () => Promise<T>) => Promise<T>;

/** One backend call with a deadline; failures become StoreError. */
export function createCall({ backend, url, operationTimeoutMs }: CallDeps): Call {
  return async (operation, storageKey, action) => {
    try {
      return await withDeadline(action(), operationTimeoutMs);
    } catch (error) {
      const retryable = isTransient(error);
      const advice = retryable ? '; the backend may be down, try again later' : '';
      throw new StoreError(
        { backend, operation, retryable, url },
        `storage ${operation} of ${storageKey} failed on ${url}: ${describeCause(error)}${advice}`,
        { cause: error },
      );
    }
  };
}
