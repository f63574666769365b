/**
 * Draining a stopping bot within its shutdown deadline. The deadline starts when the drain
 * starts (when `stop()` is called; a later call may bring it forward) and bounds everything: the supervisor, the runner loop
 * (which waits for a free update slot before it can end) and every reply handler. At the
 * deadline the replies are aborted (model and Telegram calls alike) and get a short grace
 * to unwind; what still runs after that is reported, never waited for.
 */
import { ABORT_GRACE_MS } from '../defaults.js';
import type { Logger } from '../logger.js';

/** What a drain needs from the bot. */
export interface DrainDeps {
  /** Everything still running; the set shrinks as work settles and may grow while the runner
   * winds down, so it is read again after each wait. */
  readonly pending: ReadonlySet<Promise<unknown>>;
  /** How many reply handlers are still running (for the log). */
  readonly inFlight: () => number;
  /** Aborts every reply still running. */
  readonly abort: () => void;
  readonly log: Logger;
}

/** Adds `work` to `set` until it settles (either way); returns `work`. */
export function trackUntilSettled<T>(set: Set<Promise<unknown>>, work: Promise<T>): Promise<T> {
  set.add(work);
  const remove = (): void => void set.delete(work);
  work.then(remove, remove);
  return work;
}

/** Waits for `deps.pending` to empty until `deadline` aborts (it may abort earlier than first
 * planned: a later stop with a shorter deadline); then aborts the work and waits up to
 * `ABORT_GRACE_MS` more. Resolves true when nothing is left running. */
export async function drainWithin(deps: DrainDeps, deadline: AbortSignal): Promise<boolean> {
  if (await settleWithin(deps.pending, deadline)) return true;
  deps.log.warn(
    { inFlight: deps.inFlight() },
    'shutdown deadline reached; aborting unfinished replies (nothing is stored for them)',
  );
  deps.abort();
  const grace = new AbortController();
  const timer = setTimeout(() => grace.abort(), ABORT_GRACE_MS);
  try {
    if (await settleWithin(deps.pending, grace.signal)) return true;
  } finally {
    clearTimeout(timer);
  }
  deps.log.error(
    { inFlight: deps.inFlight() },
    'replies still running after the abort; the bot is counted as stopped without them',
  );
  return false;
}

/** Waits until `pending` is empty or `until` aborts; true when it emptied in time. */
async function settleWithin(pending: ReadonlySet<Promise<unknown>>, until: AbortSignal): Promise<boolean> {
  if (pending.size === 0) return true;
  if (until.aborted) return false;
  let onAbort: () => void = () => undefined;
  const timeout = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    until.addEventListener('abort', onAbort, { once: true });
  });
  try {
    while (pending.size > 0) {
      // trackUntilSettled removes an entry before allSettled (registered later) sees it settle.
      const all = Promise.allSettled([...pending]).then(() => true);
      if (!(await Promise.race([all, timeout]))) return false;
    }
    return true;
  } finally {
    until.removeEventListener('abort', onAbort);
  }
}
