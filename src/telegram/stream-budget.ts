/**
 * One bot's budget of streamed-reply updates per second, shared by all its chats (made once
 * per bot by installHandlers), so a bot streaming in many chats at once stays under Telegram's
 * per-bot limit: an intermediate update over budget is skipped (its
 * text goes into the next), a final one always goes and is counted.
 */
/** A sliding one-second window of update starts. */
export interface UpdateBudget {
  /** Records an update now and returns true, or returns false when the window is full and
   * `force` is not set (then nothing is recorded). */
  take(force: boolean): boolean;
}

/** A budget of `perSecond` update starts in any one-second window. */
export function createBudget(perSecond: number): UpdateBudget {
  const starts: number[] = [];
  return {
    take(force) {
      const now = Date.now();
      while (starts.length > 0 && (starts[0] ?? 0) <= now - 1000) starts.shift();
      if (!force && starts.length >= perSecond) return false;
      starts.push(now);
      return true;
    },
  };
}
