/**
 * The stored value of one conversation: `{"v":1,"turns":[Turn, …]}`, oldest turn first, as
 * plain JSON text so `redis-cli GET` and `sqlite3` show it as it is. Parsing is strict: anything
 * that is not exactly this shape is reported as unreadable (and then kept aside by the store),
 * never guessed at.
 */

/** One complete exchange: the user's message and the bot's reply. Times are ms since the
 * epoch; `updateId` is the Telegram update that carried the user's message. */
export interface Turn {
  readonly user: string;
  readonly assistant: string;
  readonly userAt: number;
  readonly assistantAt: number;
  readonly updateId?: number;
}

/** The format version written today. */
export const VALUE_FORMAT_VERSION = 1;

/** Result of reading a stored value: its turns, or why it could not be read. */
export type DecodedValue =
  | { readonly ok: true; readonly turns: readonly Turn[] }
  | { readonly ok: false; readonly reason: string };

/** The JSON text stored for `turns` (oldest first). Fields are written in a fixed order. */
export function encodeValue(turns: readonly Turn[]): string {
  const plain = turns.map((turn) => ({
    user: turn.user,
    assistant: turn.assistant,
    userAt: turn.userAt,
    assistantAt: turn.assistantAt,
    ...(turn.updateId === undefined ? {} : { updateId: turn.updateId }),
  }));
  return JSON.stringify({ v: VALUE_FORMAT_VERSION, turns: plain });
}

/** Reads a stored value; never throws. */
export function decodeValue(text: string): DecodedValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // Converted: a value that does not parse is a result the store acts on (it quarantines it).
    return { ok: false, reason: `not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  if (!isRecord(parsed)) return { ok: false, reason: 'not a JSON object' };
  if (parsed.v !== VALUE_FORMAT_VERSION)
    return { ok: false, reason: `unknown format version ${JSON.stringify(parsed.v)}` };
  const turns = parsed.turns;
  if (!Array.isArray(turns)) return { ok: false, reason: '"turns" is not an array' };
  const bad = turns.findIndex((turn) => !isTurn(turn));
  if (bad !== -1) return { ok: false, reason: `turn ${bad} is not {user, assistant, userAt, assistantAt[, updateId]}` };
  return { ok: true, turns: turns as Turn[] };
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
