/**
 * Draining a stopping bot within its shutdown deadline. The deadline starts when the drain
 * starts (when `stop()` is called; a later call may bring it forward) and bounds everything: the supervisor, the runner loop
 * (which waits for a free update slot before it can end) and every reply handler. At the
 * deadline the replies' model requests are aborted (and the Telegram calls begun before it),
 * and they get a short grace to unwind: a reply shown in part may post its cut-off note during
 * the first CUT_OFF_GRACE_MS of it, then every Telegram call is aborted too. What still runs
 * after the grace is reported, never waited for.
 */
import { ABORT_GRACE_MS, CUT_OFF_GRACE_MS } from '../defaults.js';
import type { Logger } from '../logger.js';

/** What a drain needs from the bot. */
export interface DrainDeps {
  /** Everything still running; the set shrinks as work settles and may grow while the runner
   * winds down, so it is read again after each wait. */
  readonly pending: ReadonlySet<Promise<unknown>>;
  /** How many reply handlers are still running (for the log). */
  readonly inFlight: () => number;
  /** At the deadline: aborts the model requests of every reply still running (and the Telegram
   * calls begun before it), so that each ends as cut off. */
  readonly cutOff: () => void;
  /** Aborts every Telegram call of the replies still running. */
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
 * planned: a later stop with a shorter deadline); then cuts the work off (`deps.cutOff`), aborts
 * it whole (`deps.abort`) CUT_OFF_GRACE_MS later, and waits up to ABORT_GRACE_MS in all.
 * Resolves true when nothing is left running. */
export async function drainWithin(deps: DrainDeps, deadline: AbortSignal): Promise<boolean> {
  if (await settleWithin(deps.pending, deadline)) return true;
  deps.log.warn(
    { inFlight: deps.inFlight() },
    'shutdown deadline reached; aborting unfinished replies (nothing is stored for them)',
  );
  deps.cutOff();
  if (await settleFor(deps.pending, CUT_OFF_GRACE_MS)) return true;
  deps.abort();
  if (await settleFor(deps.pending, ABORT_GRACE_MS - CUT_OFF_GRACE_MS)) return true;
  deps.log.error(
    { inFlight: deps.inFlight() },
    'replies still running after the abort; the bot is counted as stopped without them',
  );
  return false;
}

/** Waits until `pending` is empty, at most `ms`; true when it emptied in time. */
async function settleFor(pending: ReadonlySet<Promise<unknown>>, ms: number): Promise<boolean> {
  const timeUp = new AbortController();
  const timer = setTimeout(() => timeUp.abort(), ms);
  try {
    return await settleWithin(pending, timeUp.signal);
  } finally {
    clearTimeout(timer);
  }
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
