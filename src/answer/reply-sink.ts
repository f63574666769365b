/**
 * Where an answer goes. The answer (answer.ts) writes to a ReplySink and never knows whether
 * the reply ends up in Telegram (telegram/delivery.ts) or in a terminal, nor whether it is
 * shown as it streams or sent whole: a sink decides that.
 */

/** The short texts a user may get instead of, or besides, a reply (from the bot's
 * `replies` config): the model failed, storage failed before answering, the reply was sent but
 * not stored, the stored history could not be read and starts over. */
export type NoticeKind = 'modelError' | 'storageError' | 'storeFailed' | 'historyLost';

/** One notice: its kind, and the text to show (already taken from the config). */
export interface Notice {
  readonly kind: NoticeKind;
  readonly text: string;
  /** Why, in a few secret-free words (a model or storage failure), for a sink whose reader is
   * the operator (the terminal chat); a chat user is never shown it. */
  readonly cause?: string;
}

/** The output side of one conversation, for one message being answered. */
export interface ReplySink {
  /** Shows that a reply is being prepared ("typing…") until the returned function is called;
   * calling it again does nothing. */
  startTyping(): () => void;
  /** Shows the model's reply, given as text deltas in order (concatenated they are the whole
   * reply). Resolves true when all of it was delivered, false when some was not (the sink
   * logged why). Never rejects; an empty reply delivers nothing and resolves true. */
  deliver(reply: AsyncIterable<string>): Promise<boolean>;
  /** Optional: ends the reply last delivered, which the model did not finish (it failed or was
   * aborted mid-stream), with `note`. Resolves true when part of that reply was shown (the note
   * was added, or tried), false when none was (the caller then tells the user otherwise).
   * Never rejects. A sink without it shows nothing of an unfinished reply beyond what it
   * delivered. */
  cutOff?(note: string): Promise<boolean>;
  /** Shows a notice. Resolves true when delivered. Never rejects. */
  notify(notice: Notice): Promise<boolean>;
}
