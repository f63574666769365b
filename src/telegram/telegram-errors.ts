/**
 * What a failed Bot API call means, in one place: the token was rejected, the user blocked
 * the bot, another process polls the token, and a short, secret-free description for logs.
 * A 429's `retry_after` (and 5xx) is honoured by @grammyjs/auto-retry (api-setup.ts) before an
 * error reaches our code; network failures are retried by network-retry.ts.
 */
import { GrammyError } from 'grammy';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';

/** A 401 (revoked or wrong token) or 404 (malformed token) from the Bot API. */
export function isTokenRejected(error: unknown): error is GrammyError {
  return error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404);
}

/** A 403: the user blocked the bot, or the bot was removed from the chat. Not an error of ours. */
export function isBlockedByUser(error: unknown): error is GrammyError {
  return error instanceof GrammyError && error.error_code === 403;
}

/** A 409: another process is polling (or a webhook is set for) this bot token. */
export function isPollingConflict(error: unknown): error is GrammyError {
  return error instanceof GrammyError && error.error_code === 409;
}

/** A Bot API call ended by the bot's shutdown abort (thrown by api-setup.ts's `abortAlsoOn`
 * in place of whatever the aborted call threw). */
export class AbortedByShutdown extends Error {
  constructor(method: string) {
    super(`${method} aborted by shutdown`);
    this.name = 'AbortedByShutdown';
  }
}

/** A short, secret-free description of an error for logs: `CODE description` for what the Bot
 * API answered, else the message (grammY's errors never hold the token). */
export function errorText(error: unknown): string {
  if (error instanceof GrammyError) return `${error.error_code} ${error.description}`;
  return errorMessage(error);
}

/** Logs a message that could not be delivered (`what`: e.g. "send a message"): shutdown's abort
 * at warn, a user who blocked the bot at info, anything else at error. */
export function logUndelivered(log: Logger, what: string, error: unknown): void {
  if (error instanceof AbortedByShutdown) log.warn({}, `could not ${what}: aborted by shutdown (its deadline passed)`);
  else if (isBlockedByUser(error))
    log.info({ status: 403 }, `the user blocked the bot or left the chat; could not ${what}`);
  else log.error({ err: errorText(error) }, `could not ${what}`);
}
