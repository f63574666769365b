/**
 * The stored value of one conversation: `{"v":1,"turns":[Turn, …],"answered":[id, …]}`, oldest
 * first, as plain JSON text so `redis-cli GET` and `sqlite3` show it as it is.
 *
 * `answered` (optional, absent when empty) lists the Telegram update ids answered in this
 * conversation that no kept turn carries: commands, apologies, /reset, and turns trimmed off
 * the window or wiped by /reset. With the kept turns' `updateId`s it says which updates were
 * already answered. It holds the newest ANSWERED_LIMIT ids: a redelivered batch has at most
 * 100 updates (getUpdates' limit). The field was added without a version bump because it is
 * additive: a value without it (every value written before) reads as "nothing else
 * answered", and an older botfleet reading a newer value ignores it (rollback-safe).
 *
 * `summary` (optional, absent when there is none; window.summary) is the running summary of the
 * turns that left the window: `{text, turns, throughUserAt, at}`, where `turns` counts the turns
 * it covers since the conversation began or was reset, `throughUserAt` is the `userAt` of the
 * newest turn it covers and `at` when it was stored. The turns it covers are no longer in
 * `turns` (they were dropped in the same write that stored it). Additive like `answered`: an
 * older botfleet reads such a value and ignores the summary.
 *
 * Parsing is strict: anything that is not exactly this shape is reported as unreadable (and
 * then kept aside by the store), never guessed at.
 */
import { errorMessage } from '../errors.js';

/** One complete exchange: the user's message and the bot's reply. Times are ms since the
 * epoch; `updateId` is the Telegram update that carried the user's message. */
export interface Turn {
  readonly user: string;
  readonly assistant: string;
  readonly userAt: number;
  readonly assistantAt: number;
  readonly updateId?: number;
}

/** The running summary of the turns a conversation no longer keeps (see the file comment). */
export interface StoredSummary {
  readonly text: string;
  /** How many turns it covers since the conversation began or was reset. */
  readonly turns: number;
  /** `userAt` of the newest turn it covers. */
  readonly throughUserAt: number;
  /** When it was stored, ms since the epoch. */
  readonly at: number;
}

/** The format version written today. */
export const VALUE_FORMAT_VERSION = 1;

/** Most update ids kept in `answered`. */
export const ANSWERED_LIMIT = 100;

/** Result of reading a stored value: its turns and other answered update ids, or why it
 * could not be read. */
export type DecodedValue =
  | {
      readonly ok: true;
      readonly turns: readonly Turn[];
      readonly answered: readonly number[];
      readonly summary?: StoredSummary;
    }
  | { readonly ok: false; readonly reason: string };

/** The JSON text stored for `turns` (oldest first), the other `answered` update ids (only
 * the newest ANSWERED_LIMIT are kept) and the summary, if any. Fields are written in a fixed
 * order. */
export function encodeValue(turns: readonly Turn[], answered: readonly number[] = [], summary?: StoredSummary): string {
  const plain = turns.map((turn) => ({
    user: turn.user,
    assistant: turn.assistant,
    userAt: turn.userAt,
    assistantAt: turn.assistantAt,
    ...(turn.updateId === undefined ? {} : { updateId: turn.updateId }),
  }));
  const kept = answered.slice(-ANSWERED_LIMIT);
  const summarised =
    summary === undefined
      ? {}
      : {
          summary: {
            text: summary.text,
            turns: summary.turns,
            throughUserAt: summary.throughUserAt,
            at: summary.at,
          },
        };
  return JSON.stringify({
    v: VALUE_FORMAT_VERSION,
    turns: plain,
    ...(kept.length > 0 ? { answered: kept } : {}),
    ...summarised,
  });
}

/** Reads a stored value; never throws. */
export function decodeValue(text: string): DecodedValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // Converted: a value that does not parse is a result the store acts on (it quarantines it).
    return { ok: false, reason: `not JSON (${errorMessage(error)})` };
  }
  if (!isRecord(parsed)) return { ok: false, reason: 'not a JSON object' };
  if (parsed.v !== VALUE_FORMAT_VERSION)
    return { ok: false, reason: `unknown format version ${JSON.stringify(parsed.v)}` };
  const turns = parsed.turns;
  if (!Array.isArray(turns)) return { ok: false, reason: '"turns" is not an array' };
  const bad = turns.findIndex((turn) => !isTurn(turn));
  if (bad !== -1) return { ok: false, reason: `turn ${bad} is not {user, assistant, userAt, assistantAt[, updateId]}` };
  const answered = parsed.answered ?? [];
  if (!Array.isArray(answered) || !answered.every((id) => Number.isSafeInteger(id)))
    return { ok: false, reason: '"answered" is not a list of update ids' };
  const summary = parsed.summary;
  if (summary !== undefined && !isSummary(summary))
    return { ok: false, reason: '"summary" is not {text, turns, throughUserAt, at}' };
  return { ok: true, turns: turns as Turn[], answered: answered as number[], ...(summary ? { summary } : {}) };
}

/** Throws TypeError when `summary` could not be stored faithfully. */
export function assertSummary(summary: StoredSummary): void {
  if (!isSummary(summary))
    throw new TypeError('a summary needs a string text, an integer turns >= 0 and numeric throughUserAt/at');
}

function isSummary(value: unknown): value is StoredSummary {
  if (!isRecord(value)) return false;
  const { text, turns, throughUserAt, at } = value;
  return (
    typeof text === 'string' &&
    Number.isSafeInteger(turns) &&
    (turns as number) >= 0 &&
    Number.isFinite(throughUserAt) &&
    Number.isFinite(at)
  );
}

/** Throws TypeError when `turn` could not be stored faithfully. */
export function assertTurn(turn: Turn): void {
  if (!isTurn(turn))
    throw new TypeError(
      'a turn needs string user/assistant, numeric userAt/assistantAt and an optional integer updateId',
    );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTurn(value: unknown): value is Turn {
  if (!isRecord(value)) return false;
  const { user, assistant, userAt, assistantAt, updateId } = value;
  return (
    typeof user === 'string' &&
    typeof assistant === 'string' &&
    Number.isFinite(userAt) &&
    Number.isFinite(assistantAt) &&
    (updateId === undefined || Number.isSafeInteger(updateId))
  );
}
