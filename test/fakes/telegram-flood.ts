/**
 * Telegram's flood limits, emulated for the fake Bot API (off unless asked for). Telegram
 * documents them only roughly (core.telegram.org/bots/faq "My bot is hitting limits"): about
 * one message per second in a chat (short bursts tolerated), 20 messages per minute in a
 * group, 30 messages per second over all chats of a bot. Edits and drafts count like messages
 * here (they do at Telegram too, in practice). A call past a limit is answered 429 with
 * `retry_after` (whole seconds until it would pass) and counts against nothing.
 */

/** The limits; every field has Telegram's rough value as its default. */
export interface FloodLimits {
  /** Messages per second in one chat, sustained (default 1). */
  readonly perChatPerSecond?: number;
  /** How many messages a chat may send at once before its per-second rate applies (default 3). */
  readonly perChatBurst?: number;
  /** Messages per minute in one group (chat id < 0; default 20). */
  readonly perGroupPerMinute?: number;
  /** Messages per second over all chats of one bot (default 30). */
  readonly perBotPerSecond?: number;
}

/** Methods that put text in a chat, counted against the limits (lower-cased). */
export const FLOOD_COUNTED: ReadonlySet<string> = new Set([
  'sendmessage',
  'editmessagetext',
  'sendmessagedraft',
  'forwardmessage',
  'copymessage',
]);

/** The chat a counted call writes to, or undefined (not counted, or no numeric chat id). */
export function floodChatOf(method: string, params: Record<string, unknown>): number | undefined {
  if (!FLOOD_COUNTED.has(method)) return undefined;
  const chatId = typeof params.chat_id === 'string' ? Number(params.chat_id) : params.chat_id;
  return typeof chatId === 'number' && Number.isFinite(chatId) ? chatId : undefined;
}

/** One bot's flood state. */
export interface FloodGate {
  /** Counts a call to `chatId` at `nowMs` (ms, any monotonic clock) and returns undefined, or
   * returns the `retry_after` (s, ≥ 1) of a 429 when the call is past a limit. */
  take(chatId: number, nowMs: number): number | undefined;
}

/** A gate for one bot with `limits` (defaults: see FloodLimits). */
export function createFloodGate(limits: FloodLimits = {}): FloodGate {
  const rate = limits.perChatPerSecond ?? 1;
  const burst = limits.perChatBurst ?? 3;
  const perGroup = limits.perGroupPerMinute ?? 20;
  const perBot = limits.perBotPerSecond ?? 30;
  const buckets = new Map<number, { tokens: number; at: number }>();
  const groupWindows = new Map<number, number[]>();
  const botWindow: number[] = [];
  return {
    take(chatId, nowMs) {
      const bucket = buckets.get(chatId) ?? { tokens: burst, at: nowMs };
      bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * rate);
      bucket.at = nowMs;
      buckets.set(chatId, bucket);
      if (chatId < 0 && !groupWindows.has(chatId)) groupWindows.set(chatId, []);
      const group = groupWindows.get(chatId);
      const waits = [
        bucket.tokens >= 1 ? 0 : ((1 - bucket.tokens) / rate) * 1000,
        group === undefined ? 0 : windowWait(group, nowMs, 60_000, perGroup),
        windowWait(botWindow, nowMs, 1000, perBot),
      ];
      const waitMs = Math.max(...waits);
      if (waitMs > 0) return Math.max(1, Math.ceil(waitMs / 1000));
      bucket.tokens -= 1;
      botWindow.push(nowMs);
      group?.push(nowMs);
      return undefined;
    },
  };
}

/** Drops entries of `window` older than `spanMs` before `nowMs` (in place); returns how long
 * (ms) until one more fits under `max`, or 0 when it fits now. */
function windowWait(window: number[], nowMs: number, spanMs: number, max: number): number {
  while (window.length > 0 && (window[0] as number) <= nowMs - spanMs) window.shift();
  if (window.length < max) return 0;
  return (window[window.length - max] as number) + spanMs - nowMs;
}
